"""``python -m towns.web``: the web console and the REST API alone (see ``towns.web.standalone``)."""

from .standalone import main

if __name__ == "__main__":
    main()
