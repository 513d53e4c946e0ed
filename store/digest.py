"""SHA-256 without loading OpenSSL: the inbox hashes every message it records.

``import hashlib`` loads its OpenSSL backend (``_hashlib``, mapping libcrypto: about 3.5 MB
of the idle daemon's resident memory, issue 12) even when only SHA-256 is wanted. CPython
also ships SHA-256 as a small module of its own (``_sha256`` up to 3.11, ``_sha2`` since
3.12); the standard library's `random` picks its SHA-512 the same way ("hashlib is pretty
heavy to load, try lean internal module first"). The digest is the same either way
(`tests/test_daemon_memory.py` checks it against hashlib); hashlib remains the fallback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

__all__ = ["sha256_hex"]


class _Hash(Protocol):
    def hexdigest(self) -> str: ...


_sha256: Callable[[bytes], _Hash]
try:
    from _sha256 import sha256 as _sha256  # type: ignore[import-not-found,no-redef,unused-ignore]
except ImportError:  # Python 3.12+
    try:
        from _sha2 import sha256 as _sha256  # type: ignore[import-not-found,no-redef,unused-ignore]
    except ImportError:  # an interpreter built without them
        from hashlib import sha256 as _sha256  # type: ignore[assignment,unused-ignore]


def sha256_hex(data: bytes) -> str:
    """The SHA-256 of ``data`` as 64 lowercase hex digits (what ``hashlib`` would give)."""
    return _sha256(data).hexdigest()
