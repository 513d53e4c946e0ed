"""Every command and subcommand documents itself with an example."""

from __future__ import annotations

from collections.abc import Iterator

import click
from click.testing import CliRunner

from cli.main import _register, cli

#: Groups owned by other engineers, waiting for their Example (named in the hand-over report).
PENDING: set[tuple[str, ...]] = set()


def walk(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command path under `group`."""
    for name, command in group.commands.items():
        yield (*path, name)
        if isinstance(command, click.Group):
            yield from walk(command, (*path, name))


def test_every_command_has_help_with_example() -> None:
    """`smsd ... --help` exits 0 and shows an Example for every command."""
    _register()
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
    _register()
    reads = [("history",), ("stats",), ("inbox",), ("outbox",), ("audit",), ("user", "show"),
             ("company", "show"), ("company", "list"), ("code", "list"), ("invoice", "list"),
             ("invoice", "show")]  # fmt: skip
    for path in reads:
        command: click.Command = cli
        for name in path:
            assert isinstance(command, click.Group)
            command = command.commands[name]
        assert "--json" in {o for p in command.params for o in p.opts}, path
