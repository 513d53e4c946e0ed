"""Click's lazy-group pattern: subcommands named up front, imported when first used.

`smsd send NUMBER TEXT` imports `cli.send` and what it uses, not the daemon, the modem
driver or the simulator. `smsd --help` imports no command at all: each entry carries the
one-line summary the listing shows (a test keeps it equal to the command's docstring).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, NamedTuple

import click

__all__ = ["LazyCommand", "LazyGroup"]


class LazyCommand(NamedTuple):
    """Where a subcommand lives (``"module:attribute"``) and its one-line summary.

    A named tuple, not a frozen dataclass: every command line builds it, and a dataclass costs
    about a millisecond to create at import (its methods are generated and compiled).
    """

    target: str
    summary: str


class LazyGroup(click.Group):
    """A group whose subcommands are imported the first time they are asked for."""

    def __init__(self, *args: Any, lazy_commands: Mapping[str, LazyCommand], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands)

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Eager and lazy subcommand names, sorted."""
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The subcommand, importing its module the first time it is asked for."""
        if cmd_name in self.lazy_commands:
            return self._load(cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command listing from the summaries, without importing any command."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            lazy = self.lazy_commands.get(name)
            if lazy is not None:  # a stand-in with the same help text, for its short form
                command: click.Command | None = click.Command(name, help=lazy.summary)
            else:
                command = super().get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def _load(self, cmd_name: str) -> click.Command:
        target = self.lazy_commands[cmd_name].target
        module_name, attribute = target.split(":", 1)
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{target} is not a Click command")
        return command
