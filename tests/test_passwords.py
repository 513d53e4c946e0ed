"""argon2id hashing: verify, mismatch, policy, rehash on parameter change."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from store import InvalidInput, passwords
from store.passwords import HashParameters, hash_password, use_parameters, verify_password

LIGHT = HashParameters(time_cost=1, memory_cost_kib=8, parallelism=1)


@pytest.fixture(autouse=True)
def light() -> Iterator[None]:
    """Light parameters for speed; the defaults are restored afterwards."""
    old = passwords.PARAMETERS
    use_parameters(LIGHT)
    yield
    use_parameters(old)


def test_defaults_are_production_strength() -> None:
    """The shipped parameters: argon2id, time 3, 64 MiB, one lane."""
    assert HashParameters() == HashParameters(3, 65536, 1)


def test_hash_is_argon2id_and_verifies() -> None:
    """A hash starts with $argon2id$, verifies the password and rejects another."""
    stored = hash_password("correct horse")
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert verify_password(stored, "correct horse") == (True, None)
    assert verify_password(stored, "wrong horse") == (False, None)


def test_missing_or_corrupt_hash_never_matches() -> None:
    """None, empty or garbage hashes fail closed."""
    for stored in (None, "", "$argon2id$garbage"):
        assert verify_password(stored, "whatever1") == (False, None)


def test_policy_rejects_short_passwords() -> None:
    """Under 8 characters is refused."""
    with pytest.raises(InvalidInput):
        hash_password("short")


def test_rehash_when_parameters_change() -> None:
    """After the settings change, a successful verify returns a new hash with them."""
    stored = hash_password("correct horse")
    use_parameters(HashParameters(time_cost=2, memory_cost_kib=16, parallelism=1))
    ok, fresh = verify_password(stored, "correct horse")
    assert ok and fresh is not None and "m=16,t=2" in fresh
    assert verify_password(fresh, "correct horse") == (True, None)
