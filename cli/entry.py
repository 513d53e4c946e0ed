"""The ``smsd`` console script: the quick path for a plain ``smsd send``, else Click.

`cli.quicksend` takes ``smsd send NUMBER TEXT`` (the line scripts call in a loop) without
importing Click; every other line, and a send line it declines, goes to the Click group in
`cli.main`, exactly as before.
"""

from __future__ import annotations

import sys

__all__ = ["main"]


def main() -> None:
    """Console-script entry point (``smsd``, ``python -m cli``)."""
    from cli import quicksend

    line = quicksend.parse(sys.argv[1:])
    if line is not None:
        code = quicksend.run(line)
        if code is not None:
            sys.exit(code)
    from cli.main import main as click_main

    click_main()
