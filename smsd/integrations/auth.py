"""Bearer tokens on API requests: who is asking, and may they do this.

A business token reaches only its own business (`/businesses/{id}/...` of another business is
403); `read` reads, `write` also queues broadcasts. The operator's token reaches everything.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from starlette.requests import Request

from smsd.integrations.problems import Problem
from store.tokens import Token, Tokens

__all__ = ["Guard"]


class Guard:
    """Checks the `Authorization: Bearer` header against the stored tokens."""

    def __init__(self, tokens: Tokens, clock: Callable[[], datetime]) -> None:
        self.tokens = tokens
        self.clock = clock

    async def token(self, request: Request) -> Token:
        """The caller's live token; 401 without one."""
        header = request.headers.get("authorization", "")
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise Problem(401, "unauthorized", "send Authorization: Bearer <token>")
        token = await asyncio.to_thread(self.tokens.authenticate, secret.strip(), now=self.clock())
        if token is None:
            raise Problem(401, "unauthorized", "the token is unknown or revoked")
        return token

    async def business(self, request: Request, *, write: bool = False) -> tuple[Token, int]:
        """The token and the business id of the path, if this token may act on it."""
        token = await self.token(request)
        business_id = int(request.path_params["business_id"])
        if token.scope != "operator" and token.business_id != business_id:
            raise Problem(403, "forbidden", "this token belongs to another business")
        if write and token.scope == "read":
            raise Problem(403, "insufficient-scope", "this token may only read (scope read)")
        return token, business_id

    async def operator(self, request: Request) -> Token:
        """The operator's token; 403 for a business token."""
        token = await self.token(request)
        if token.scope != "operator":
            raise Problem(403, "insufficient-scope", "only the operator's token may do this")
        return token
