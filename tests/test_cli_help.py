"""Every command and subcommand documents itself with an example."""

from __future__ import annotations

from collections.abc import Iterator

import click
from click.testing import CliRunner

from cli.main import cli

#: Groups owned by other engineers, waiting for their Example (named in the hand-over report).
PENDING: set[tuple[str, ...]] = set()


def walk(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command path under `group` (lazy subcommands included)."""
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        yield (*path, name)
        if isinstance(command, click.Group):
            yield from walk(command, (*path, name))


def test_every_command_has_help_with_example() -> None:
    """`smsd ... --help` exits 0 and shows an Example for every command."""
    paths = list(walk(cli))
    assert {("user", "erase"), ("invoice", "create"), ("outbox", "retry"), ("stats",)} <= set(paths)
    missing = []
    for path in paths:
        result = CliRunner().invoke(cli, [*path, "--help"])
        if result.exit_code != 0 or ("Example" not in result.output and path not in PENDING):
            missing.append(" ".join(path))
    assert missing == []


def test_read_commands_offer_json() -> None:
    """Every read command has a --json option."""
    reads = [("history",), ("stats",), ("inbox",), ("outbox",), ("audit",), ("user", "show"),
             ("company", "show"), ("company", "list"), ("code", "list"), ("invoice", "list"),
             ("invoice", "show")]  # fmt: skip
    for path in reads:
        command: click.Command | None = cli
        for name in path:
            assert isinstance(command, click.Group)
            command = command.get_command(click.Context(command), name)
        assert command is not None, path
        assert "--json" in {o for p in command.params for o in p.opts}, path
