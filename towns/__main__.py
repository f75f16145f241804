from towns.cli import main

main()
