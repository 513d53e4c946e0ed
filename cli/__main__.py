"""``python -m cli``: the same as the ``smsd`` console script."""

from cli.entry import main

main()
