"""``python -m cli``: the same as the ``smsd`` console script."""

from cli.main import main

main()
