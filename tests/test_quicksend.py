"""`smsd send`'s quick path reads a line as Click does, or leaves it to Click, and writes the same.

`cli.quicksend.parse` must accept only lines the Click group accepts, with the same values;
every line it declines still runs through Click. End to end, the console script's output, exit
code and rows are those of the Click command, for a plain send, a refused one and a bad number.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import warnings
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cli.main import cli
from cli.quicksend import SendLine, parse
from store.store import Store

#: Tokens a generated line is made of: options, values, the command, numbers and texts.
TOKENS = [
    "send", "--db", "--db=a.db", "a.db", "b.db", "--config", "--config=c.toml", "c.toml",
    "--force", "--json", "--help", "-h", "--", "-", "-x", "", "+447700900123", "07700 900123",
    "hi there", "send", "--force=1", "--db=", "company", "\udcff",
]  # fmt: skip


def click_reads(args: list[str]) -> SendLine:
    """What the Click group makes of `args`: the same fields (raises on a usage error)."""
    ctx = cli.make_context("smsd", list(args))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # public, deprecated in 8.2
        rest = [*ctx.protected_args, *ctx.args]
    name, command, remaining = cli.resolve_command(ctx, rest)
    assert name == "send" and command is not None
    sub = command.make_context(name, remaining, parent=ctx)
    assert sub.params["as_json"] is False
    return SendLine(
        ctx.params["db"],
        ctx.params["config"],
        sub.params["number"],
        sub.params["text"],
        sub.params["force"],
    )


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=8))
def test_every_accepted_line_reads_as_click_reads_it(args: list[str]) -> None:
    """A line the quick path accepts is one Click accepts, with the same five values."""
    os.environ.pop("SMSD_CONFIG", None)
    line = parse(args)
    if line is not None:
        assert click_reads(args) == line


@pytest.mark.parametrize(
    "args",
    [
        ["--db", "a.db", "send", "+447700900123", "hi"],
        ["send", "+447700900123", "hi", "--db", "a.db", "--force"],
        ["send", "--force", "07700 900123", "hi", "--config=c.toml"],
        ["--config", "c.toml", "send", "+447700900123", "send"],
    ],
)
def test_plain_lines_take_the_quick_path(args: list[str]) -> None:
    """The forms scripts use are accepted, and read as Click reads them."""
    os.environ.pop("SMSD_CONFIG", None)
    line = parse(args)
    assert line is not None
    assert click_reads(args) == line


@pytest.mark.parametrize(
    "args",
    [
        ["send", "+447700900123", "hi", "--json"],
        ["send", "--help"],
        ["send", "+447700900123", "--", "-starts with a dash"],
        ["--db", "a.db", "--db", "b.db", "send", "+447700900123", "hi"],
        ["--db", "/", "send", "+447700900123", "hi"],
        ["send", "+447700900123", "bad \udcff"],
        ["--force", "send", "+447700900123", "hi"],
        ["send", "+447700900123"],
        ["send", "+447700900123", "hi", "extra"],
        ["company", "list"],
    ],
)
def test_anything_else_is_left_to_click(args: list[str]) -> None:
    """JSON, help, ``--``, repeated options, a folder, bad bytes, odd shapes: declined."""
    assert parse(args) is None


def _smsd(db: Path, *args: str, click_only: bool) -> subprocess.CompletedProcess[str]:
    """``smsd --db DB ARGS`` through the console script's entry, or straight into Click."""
    entry = "cli.main" if click_only else "cli.entry"
    code = f"import sys; from {entry} import main; sys.argv = ['smsd', *sys.argv[1:]]; main()"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMSD_")}
    env["SMSD_CONFIG"] = os.devnull
    return subprocess.run(
        [sys.executable, "-c", code, "--db", str(db), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _rows(db: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        outbox = conn.execute("SELECT id, recipient, text, state FROM outgoing ORDER BY id")
        audit = conn.execute("SELECT actor, action, subject, reason FROM audit ORDER BY id")
        return [*outbox.fetchall(), *audit.fetchall()]


def test_quick_and_click_paths_print_and_write_the_same(tmp_path: Path) -> None:
    """Send, a bad number, an opted-out number refused and then forced: same stdout, stderr,
    exit codes and rows whichever path runs the lines."""
    lines = [
        ["send", "07700 900123", "Your table is ready"],
        ["send", "12", "not a number"],
        ["send", "+447700900124", "x" * 2000],
        ["send", "+447700900125", "after STOP"],
        ["send", "+447700900125", "after STOP", "--force"],
    ]
    results = {}
    for click_only in (False, True):
        db = tmp_path / f"click{click_only}.db"
        _smsd(db, "send", "+447700900125", "first", click_only=True)  # creates, migrates
        with Store.open(db) as store:
            store.optouts.record_gateway("+447700900125", "out", datetime.now(UTC))
        runs = [_smsd(db, *line, click_only=click_only) for line in lines]
        said = [(r.returncode, r.stdout, r.stderr.replace(str(db), "DB")) for r in runs]
        results[click_only] = (said, _rows(db))
    assert results[False] == results[True]
    codes = [code for code, _, _ in results[False][0]]
    assert codes == [0, 1, 1, 1, 0]
