"""RFC 9457 problem documents: every API error is one, as `application/problem+json`.

`Problem` is raised by handlers; `problem_response` renders it; `from_store_error` is the one
place store errors become HTTP statuses.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from store.errors import Conflict, InvalidInput, NotFound, StoreError, StoreUnavailable

__all__ = [
    "PROBLEM_TYPE_BASE",
    "Problem",
    "from_store_error",
    "http_exception_handler",
    "problem_handler",
    "problem_response",
]

PROBLEM_TYPE_BASE = "https://smsactive.invalid/problems/"
_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    415: "Unsupported media type",
    422: "Unprocessable content",
    500: "Internal server error",
    503: "Service unavailable",
}


class Problem(Exception):
    """An API error: HTTP status, a short slug for `type`, and a human detail."""

    def __init__(self, status: int, slug: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.detail = detail


def problem_response(problem: Problem, instance: str | None = None) -> Response:
    """The problem as JSON; 401 also says which scheme to use."""
    body: dict[str, object] = {
        "type": PROBLEM_TYPE_BASE + problem.slug,
        "title": _TITLES.get(problem.status, "Error"),
        "status": problem.status,
        "detail": problem.detail,
    }
    if instance is not None:
        body["instance"] = instance
    extra = {"WWW-Authenticate": 'Bearer realm="smsactive"'} if problem.status == 401 else None
    return JSONResponse(
        body, status_code=problem.status, media_type="application/problem+json", headers=extra
    )


def from_store_error(exc: StoreError) -> Problem:
    """A store error as the problem a client sees."""
    if isinstance(exc, NotFound):
        return Problem(404, "not-found", str(exc))
    if isinstance(exc, Conflict):
        return Problem(409, "conflict", str(exc))
    if isinstance(exc, InvalidInput):
        return Problem(422, "invalid-input", str(exc))
    if isinstance(exc, StoreUnavailable):
        return Problem(503, "unavailable", "the database is unavailable; try again")
    return Problem(500, "store-error", "the request could not be completed")


async def problem_handler(request: Request, exc: Exception) -> Response:
    """Starlette exception handler for `Problem` and `StoreError`."""
    if isinstance(exc, StoreError):
        exc = from_store_error(exc)
    if not isinstance(exc, Problem):
        exc = Problem(500, "internal", "the request could not be completed")
    return problem_response(exc, request.url.path)


async def http_exception_handler(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 as problem documents."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    slug = {404: "not-found", 405: "method-not-allowed"}.get(status, "http-error")
    detail = exc.detail if isinstance(exc, HTTPException) else "error"
    return problem_response(Problem(status, slug, str(detail)), request.url.path)
