"""Password hashing: argon2id through `argon2-cffi`, verified in constant time.

`PARAMETERS` are the production settings (time cost 3, 64 MiB, one lane: RFC 9106's second
recommended option scaled to one core). Tests swap in lighter ones with `use_parameters`;
a hash made with other parameters still verifies, and `verify_password` hands back a fresh
hash when `check_needs_rehash` says the stored one is out of date, so hashes follow the
settings as people log in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from store.errors import InvalidInput

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "PARAMETERS",
    "HashParameters",
    "check_password_policy",
    "hash_password",
    "use_parameters",
    "verify_password",
]

MIN_PASSWORD_LENGTH = 8
_MAX_PASSWORD_LENGTH = 1024


@dataclass(frozen=True)
class HashParameters:
    """argon2id cost settings."""

    time_cost: int = 3
    memory_cost_kib: int = 64 * 1024
    parallelism: int = 1


#: The settings new hashes are made with (replace only through `use_parameters`).
PARAMETERS = HashParameters()
_hasher: Any = None


def use_parameters(params: HashParameters) -> None:
    """Hash new passwords with `params` from now on (tests use light ones to stay fast)."""
    global PARAMETERS, _hasher
    PARAMETERS = params
    _hasher = None


def _current() -> Any:
    # argon2-cffi (and cffi) load on the first hash: the daemon, which never hashes, and
    # commands that do not touch passwords never pay for them.
    from argon2 import PasswordHasher, Type

    global _hasher
    if _hasher is None:
        _hasher = PasswordHasher(
            time_cost=PARAMETERS.time_cost,
            memory_cost=PARAMETERS.memory_cost_kib,
            parallelism=PARAMETERS.parallelism,
            type=Type.ID,
        )
    return _hasher


def check_password_policy(password: str) -> None:
    """Raise `InvalidInput` unless the password is 8-1024 characters."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= _MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            f"password must be {MIN_PASSWORD_LENGTH}-{_MAX_PASSWORD_LENGTH} characters"
        )


def hash_password(password: str) -> str:
    """An argon2id hash string (salt and parameters included) of an acceptable password."""
    check_password_policy(password)
    return str(_current().hash(password))


def verify_password(stored_hash: str | None, password: str) -> tuple[bool, str | None]:
    """(matches, new hash to store or None); a missing or corrupt hash never matches."""
    if not stored_hash:
        return False, None
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    hasher = _current()
    try:
        hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, None
    if hasher.check_needs_rehash(stored_hash):
        return True, str(hasher.hash(password))
    return True, None
