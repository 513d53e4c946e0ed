"""Who is at the terminal, and the private files they write.

`operator_name()` is who the audit trail records: ``$SUDO_USER`` (the human behind sudo),
else ``$USER``, else the login name.
"""

from __future__ import annotations

import os

__all__ = ["operator_name", "write_private"]


def operator_name() -> str:
    """The human operator for the audit trail."""
    for var in ("SUDO_USER", "USER"):
        if os.environ.get(var):
            return os.environ[var]
    import getpass  # start-up cost (termios): only when the environment names no one

    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no passwd entry (containers)
        return f"uid:{os.getuid()}"


def write_private(path: str, text: str) -> None:
    """Write `text` to a new or truncated file readable by its owner only (0600).

    A file that cannot be written is the operator's mistake (exit 1), not an unreachable
    database: `click.ClickException` with one line.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        import click  # the error path only: `smsd send`'s quick path runs without Click

        raise click.ClickException(f"cannot write {path}: {exc.strerror or exc}") from exc
