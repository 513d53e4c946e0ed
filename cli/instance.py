"""One daemon per database and per modem: an flock, and who holds it.

`smsd run` takes an exclusive `flock` on the database file and keeps it for the life of the
process; a second `smsd run` on the same database is refused with "already running (pid N)".
SQLite's own locks are POSIX (fcntl) locks, which are independent of flock on Linux; the lock's
descriptor is never closed before the process exits, because closing any descriptor of a file
drops the process's fcntl locks on it.

`daemon_running()` (asked by `smsd send` for every message) probes that lock with a shared
flock it drops at once, instead of reading ``/proc/locks``, whose first read in a process
costs 7-15 ms on the benchmark machine. A daemon starting in the same microseconds would see
the probe's shared lock, so `lock_database()` tries again for up to `LOCK_PATIENCE` seconds
before it refuses. The probe's descriptor is kept open (one per file per process): closing it
would drop this process's SQLite (POSIX) locks on the database, which an open WAL connection
always holds.

Modem ports are locked by the driver itself (pyserial's ``exclusive``, an flock on the
device); `check_device_free()` looks up that lock before the daemon starts, so a busy port is
the same one line with the holder's pid instead of a reconnect loop. The holder's pid comes
from ``/proc/locks`` (Linux), matched by device and inode.
"""

from __future__ import annotations

import fcntl
import os
import time

__all__ = [
    "LOCK_PATIENCE",
    "AlreadyRunning",
    "check_device_free",
    "daemon_running",
    "holder_pid",
    "lock_database",
]

#: Seconds `lock_database` keeps trying while the lock is taken (a `daemon_running` probe
#: holds it for microseconds; a running daemon for good).
LOCK_PATIENCE = 0.5

#: (device, inode) -> the descriptor `daemon_running` probes with, never closed (see above).
_PROBES: dict[tuple[int, int], int] = {}


class AlreadyRunning(RuntimeError):
    """Another process holds the database or the modem port (exit 1, one line, at the command
    edge). Not a Click exception: `smsd send`'s quick path imports this module without Click."""


def holder_pid(path: str | os.PathLike[str]) -> int | None:
    """The pid holding an flock on ``path``'s file, from /proc/locks; None if none or unknown."""
    try:
        st = os.stat(path)
        with open("/proc/locks", encoding="utf-8", errors="replace") as handle:
            table = handle.read()
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


def daemon_running(path: str | os.PathLike[str]) -> bool:
    """Whether a process holds the daemon's exclusive flock on the database file ``path``.

    False for a path that cannot be opened (no such file, a PostgreSQL URL).
    """
    try:
        st = os.stat(path)
        key = (st.st_dev, st.st_ino)
        fd = _PROBES.get(key)
        if fd is None:
            fd = _PROBES[key] = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    fcntl.flock(fd, fcntl.LOCK_UN)  # unlock, never close: see the module docstring
    return False


def lock_database(path: str | os.PathLike[str], patience: float = LOCK_PATIENCE) -> int:
    """Hold an exclusive flock on the database file for the life of this process; its fd.

    Tries again for ``patience`` seconds while another process holds the lock, so a
    `daemon_running` probe at the same instant never makes a starting daemon refuse.
    """
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    deadline = time.monotonic() + patience
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if time.monotonic() < deadline:
                time.sleep(0.01)  # a probe holds it for microseconds: poll, bounded
                continue
            os.close(fd)  # nothing of ours has the database open yet: safe to close
            raise _busy("database", path) from None
        return fd


def check_device_free(url: str) -> None:
    """Refuse a local modem port that another process holds locked (pyserial ``exclusive``)."""
    if "://" in url or not os.path.exists(url):
        return  # a pyserial URL or a port not plugged in yet: the driver reports it
    if holder_pid(url) is not None:
        raise _busy("modem", url)
