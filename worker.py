"""Run a towns worker alone against TEMPORAL_ADDRESS (the production container's command)."""

from towns.worker import main

if __name__ == "__main__":
    main()
