"""One daemon per database and per modem: an flock, and who holds it.

`smsd run` takes an exclusive `flock` on the database file and keeps it for the life of the
process; a second `smsd run` on the same database is refused with "already running (pid N)".
SQLite's own locks are POSIX (fcntl) locks, which are independent of flock on Linux; the lock's
descriptor is never closed before the process exits, because closing any descriptor of a file
drops the process's fcntl locks on it.

Modem ports are locked by the driver itself (pyserial's ``exclusive``, an flock on the
device); `check_device_free()` looks up that lock before the daemon starts, so a busy port is
the same one line with the holder's pid instead of a reconnect loop. The holder's pid comes
from ``/proc/locks`` (Linux), matched by device and inode.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import click

__all__ = ["AlreadyRunning", "check_device_free", "holder_pid", "lock_database"]


class AlreadyRunning(click.ClickException):
    """Another process holds the database or the modem port (exit 1, one line)."""


def holder_pid(path: str | os.PathLike[str]) -> int | None:
    """The pid holding an flock on ``path``'s file, from /proc/locks; None if none or unknown."""
    try:
        st = os.stat(path)
        table = Path("/proc/locks").read_text()
    except OSError:
        return None
    wanted = (os.major(st.st_dev), os.minor(st.st_dev), st.st_ino)
    for line in table.splitlines():
        fields = line.split()
        if len(fields) < 6 or fields[1] != "FLOCK":
            continue  # a POSIX lock (SQLite's), or a waiter ("->")
        try:
            major, minor, inode = fields[5].split(":")
            key = (int(major, 16), int(minor, 16), int(inode))
        except ValueError:
            continue
        if key == wanted:
            return int(fields[4])
    return None


def _busy(what: str, path: str | os.PathLike[str]) -> AlreadyRunning:
    pid = holder_pid(path)
    who = f"pid {pid}" if pid is not None else "another process"
    return AlreadyRunning(f"smsd already running on {what} {path} ({who})")


def lock_database(path: str | os.PathLike[str]) -> int:
    """Hold an exclusive flock on the database file for the life of this process; its fd."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)  # nothing of ours has the database open yet: safe to close
        raise _busy("database", path) from None
    return fd


def check_device_free(url: str) -> None:
    """Refuse a local modem port that another process holds locked (pyserial ``exclusive``)."""
    if "://" in url or not os.path.exists(url):
        return  # a pyserial URL or a port not plugged in yet: the driver reports it
    if holder_pid(url) is not None:
        raise _busy("modem", url)
