"""Turning what an operator typed into a number or a person: phone numbers or user codes.

`e164` reads only the [gateway] section (`smsd send` imports this module on every call).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cli.context import Context
from smsd.numbers import InvalidNumber, to_e164
from store.errors import InvalidInput

if TYPE_CHECKING:  # annotations only: `smsd send` builds neither the models nor the Store
    from store.models import Person
    from store.store import Store

__all__ = ["e164", "resolve_who"]


def e164(ctx: Context, raw: str) -> str:
    """`raw` in E.164 form (national numbers read in the configured region)."""
    try:
        return to_e164(raw, ctx.source().gateway().default_region)
    except InvalidNumber as exc:
        raise InvalidInput(str(exc)) from exc


def resolve_who(ctx: Context, store: Store, who: str) -> Person:
    """A person from a phone number (normalised to E.164) or a user code."""
    cleaned = who.strip()
    digits = "".join(ch for ch in cleaned if ch.isdigit())
    if cleaned.startswith("+") or len(digits) >= 7:
        cleaned = e164(ctx, cleaned)
    return store.accounts.resolve_person(cleaned)
