"""Signing in with a password, throttled per account and per client address.

Each key (`acct:<kind>:<identifier>` and `ip:<address>`) may fail `signin_free_failures - 1`
times freely; the next failure locks it for `lockout_minutes`, doubling with every further
failure up to `lockout_max_minutes`. A locked key is refused before any password is checked.
Every lock-out is audited. An unknown account costs the same argon2 work as a known one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import structlog

from smsd.web.pages import FormError, Visit
from store.passwords import hash_password

__all__ = ["client_address", "password_signin"]

log = structlog.get_logger(__name__)


def client_address(visit: Visit) -> str:
    """The client's address (the proxy's view of it when `[web] proxy_headers` is on)."""
    client = visit.request.client
    return client.host if client is not None else "unknown"


def _locked_message(visit: Visit, keys: list[str]) -> str | None:
    for key in keys:
        state = visit.ctx.store.sessions.throttle(key)
        if state.locked_until is not None and state.locked_until > visit.now:
            minutes = max(1, round((state.locked_until - visit.now).total_seconds() / 60))
            return f"Too many failed sign-ins. Try again in {minutes} minute(s)."
    return None


def _count_failure(visit: Visit, key: str, subject: str | None) -> None:
    """One more failure for `key`; a lock-out it starts is audited."""
    web = visit.ctx.web
    state = visit.ctx.store.sessions.fail(
        key,
        now=visit.now,
        free=web.signin_free_failures,
        base=timedelta(minutes=web.lockout_minutes),
        cap=timedelta(minutes=web.lockout_max_minutes),
    )
    if state.locked_until is None:
        return
    account = key.startswith("acct:")
    visit.ctx.store.audit.record_audit(
        "web",
        "signin_locked",
        subject if account else None,
        f"{'account' if account else 'client ' + key[3:]} locked until"
        f" {state.locked_until:%Y-%m-%d %H:%M:%S} UTC after {state.failures} failed sign-ins",
        now=visit.now,
    )
    log.warning("web_signin_locked", failures=state.failures, scope=key.split(":")[0])


def password_signin(
    visit: Visit,
    account_key: str,
    subject: str | None,
    check: Callable[[], bool] | None,
) -> None:
    """Pass when `check()` (the password verification) succeeds; else `FormError`.

    `check` is None for an unknown account (a dummy hash keeps the timing alike).
    `subject` is what the audit trail names (user code or business name; None if unknown).
    """
    keys = [f"acct:{account_key}", f"ip:{client_address(visit)}"]
    locked = _locked_message(visit, keys)
    if locked is not None:
        raise FormError(locked)
    if check is None:
        hash_password("x" * 12)  # the same argon2 work as checking a real password
        ok = False
    else:
        ok = check()
    if ok:
        # Only the account's count is forgiven: signing in to one's own account between
        # guesses must not reset the client address's count.
        visit.ctx.store.sessions.clear(keys[0])
        return
    for key in keys:
        _count_failure(visit, key, subject)
    raise FormError("Wrong sign-in details.")
