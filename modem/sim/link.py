"""Who owns a simulator's link: one running simulator per link, and only it removes the link.

A second ``smsd sim`` (or ``smsd run --device sim``) on the same link used to repoint it at
its own pty and, on exit, delete it, orphaning the daemon on the first. Now a simulator claims
the link with an flock on ``LINK.lock`` (holding its pid) before touching the link: a claimed
link is refused with `LinkInUse`, and so is a path that exists but is not a simulator's pty
link (a real /dev/serial/by-id name, a file). The lock goes with the process, so a simulator
killed with SIGKILL leaves a link the next one may take over.
"""

from __future__ import annotations

import contextlib
import fcntl
import os

from modem.errors import ModemError

__all__ = ["LinkClaim", "LinkInUse", "points_at"]


class LinkInUse(ModemError):
    """The link belongs to another running simulator, or is not a simulator's link at all."""


def points_at(link: str, target: str) -> bool:
    """Whether ``link`` is a symlink to ``target`` now."""
    try:
        return os.readlink(link) == target
    except OSError:
        return False


class LinkClaim:
    """An flock on ``LINK.lock`` held while a simulator serves ``LINK``."""

    def __init__(self, link: str) -> None:
        self.link = link
        self.path = link + ".lock"
        self._fd: int | None = None

    def claim(self) -> None:
        """Take the link, or raise `LinkInUse` naming the holder's pid."""
        if self._fd is not None:
            return
        if os.path.lexists(self.link) and not _is_pty_link(self.link):
            raise LinkInUse(f"{self.link} exists and is not a simulator link: choose another")
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise LinkInUse(f"link {self.link} is in use: already running (pid {holder})") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        """Give the link up: remove the lock file (still ours) and drop the lock."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            if os.stat(self.path).st_ino == os.fstat(self._fd).st_ino:
                os.unlink(self.path)
        os.close(self._fd)
        self._fd = None


def _is_pty_link(path: str) -> bool:
    try:
        return os.readlink(path).startswith("/dev/pts/")
    except OSError:
        return False  # not a symlink
