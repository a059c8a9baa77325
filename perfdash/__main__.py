"""``python -m perfdash`` runs the command line."""

from perfdash.cli import main

main()
