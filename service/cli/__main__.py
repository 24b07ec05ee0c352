"""`python -m service.cli`: the same as the `silkvote` command."""

from service.cli import main

main()
