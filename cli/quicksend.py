"""`smsd send NUMBER TEXT` without Click: the line scripts run in a loop, read by hand.

Why not Click here: importing Click costs ~25 ms per process on the benchmark machine (its
types module alone pulls in uuid, platform, datetime and gettext), a quarter of the 100 ms
that `smsd send` may take (issue 12), and a script queuing messages pays it on every line.
So the console script (`cli.entry`) first offers the command line to `parse`, which accepts
only the plain form, a strict subset of what the Click group accepts, read the same way
(`tests/test_quicksend.py` checks every accepted line against Click's own parse):

    smsd [--db PATH] [--config PATH] send NUMBER TEXT [--force]

with ``--db``/``--config`` (``--opt VALUE`` or ``--opt=VALUE``) before or after the command,
as `cli.main.hoist_globals` allows. Anything else (``--json``, ``--help``, ``--``, a value or
argument starting with ``-``, a repeated option, an argument that is not UTF-8, a path that is
a folder) is declined, and Click runs the line as always. The quick path then does exactly
what the Click command does (`cli.queueing`); when that fails before anything is written (a
number that is not a number, a refused recipient, an unreachable database), it declines too,
and the Click command runs the line again to say why, in its words and with its exit code.
"""

from __future__ import annotations

import os
import sys
from typing import NamedTuple

from cli.logsetup import configure_when_imported
from cli.queueing import Queued, queue_message, queued_line, warning_line
from cli.session import EXIT_OK, Context
from smsd.numbers import to_e164

__all__ = ["SendLine", "parse", "run"]

_GLOBALS = ("--db", "--config")


class SendLine(NamedTuple):
    """A plain ``smsd send`` line: where, to whom, what, and whether ``--force``."""

    db: str | None
    config: str | None
    number: str
    text: str
    force: bool


def _plain(arg: str) -> bool:
    try:
        arg.encode("utf-8")
    except UnicodeEncodeError:  # surrogates: the group refuses them with its own line
        return False
    return not arg.startswith("-")


def _path_ok(value: str | None) -> bool:
    """As Click's ``Path(dir_okay=False)``: a value, not empty, not starting with ``-``, not an
    existing folder."""
    return value is None or (value != "" and _plain(value) and not os.path.isdir(value))


def _globals(args: list[str]) -> tuple[dict[str, str], list[str]] | None:
    """The ``--db``/``--config`` values taken out of `args`, and what is left; None if one is
    repeated or has no value (`parse` checks the values with `_path_ok`)."""
    found: dict[str, str] = {}
    rest: list[str] = []
    index = 0
    while index < len(args):
        name, eq, value = args[index].partition("=")
        if name in _GLOBALS:
            if not eq:
                if index + 1 >= len(args):
                    return None
                index += 1
                value = args[index]
            if name in found:
                return None
            found[name] = value
        else:
            rest.append(args[index])
        index += 1
    return found, rest


def parse(args: list[str]) -> SendLine | None:
    """The plain ``send`` line in `args` (``sys.argv[1:]``), or None to leave it to Click."""
    split = _globals(args)
    if split is None:
        return None
    found, rest = split
    if not rest or rest[0] != "send":
        return None
    force = "--force" in rest[1:]
    positional = [arg for arg in rest[1:] if arg != "--force"]
    if len(positional) != 2 or not all(_plain(arg) for arg in positional):
        return None
    config = found.get("--config", os.environ.get("SMSD_CONFIG"))
    if not (_path_ok(found.get("--db")) and _path_ok(config)):
        return None
    return SendLine(found.get("--db"), config, positional[0], positional[1], force)


def _queue(ctx: Context, line: SendLine) -> Queued | None:
    try:
        recipient = to_e164(line.number, ctx.source().gateway().default_region)
        return queue_message(ctx, recipient, line.text, force=line.force)
    except Exception:  # InvalidNumber, Refused, StoreUnavailable...: nothing was written
        return None  # (the transaction rolled back), and Click's run says why


def run(line: SendLine) -> int | None:
    """Queue the message and print what the Click command prints; its exit code, or None
    when nothing was written and Click should run the line instead."""
    configure_when_imported(os.environ.get("SMSD_LOG_LEVEL", "warning"))
    ctx = Context(line.db, line.config)
    queued = _queue(ctx, line)
    if queued is None:
        return None
    warning = warning_line(ctx.db)
    if warning is not None:
        print(warning, file=sys.stderr, flush=True)
    print(queued_line(queued), flush=True)
    return EXIT_OK
