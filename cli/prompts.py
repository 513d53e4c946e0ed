"""Asking the operator for secrets: passwords never come from argv.

A hidden prompt (with confirmation when the password is new) or the first line of stdin
(``--password-stdin``), so scripts can pipe one in without it showing in ``ps``.
"""

from __future__ import annotations

import sys

import click

__all__ = ["ask_password", "read_password", "stdin_line"]


def stdin_line() -> str:
    """The first line of stdin without its line ending."""
    return sys.stdin.readline().rstrip("\r\n")


def read_password(from_stdin: bool, prompt: bool) -> str | None:
    """A new password from stdin (first line) or a hidden, confirmed prompt; else None."""
    if from_stdin:
        return stdin_line()
    if prompt:
        return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
    return None


def ask_password(from_stdin: bool) -> str:
    """An existing password to check: from stdin or a hidden prompt (no confirmation)."""
    if from_stdin:
        return stdin_line()
    return str(click.prompt("Password", hide_input=True))
