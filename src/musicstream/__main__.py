"""`python -m musicstream` runs the CLI."""

from musicstream.cli import main

main()
