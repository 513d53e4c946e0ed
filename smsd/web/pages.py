"""How a portal page runs: session, CSRF, the handler in a worker thread, the response.

`page(kind)` turns a plain function `handler(visit) -> Response` into a Starlette endpoint:

1. the session cookie is looked up server-side (idle and absolute timeouts apply);
2. a page for `kind` ('person', 'business', 'signup', 'reset') without such a session
   redirects to the matching sign-in page;
3. a POST must carry the CSRF token of the session (or, before sign-in, of the pre-session
   cookie); otherwise 403 and nothing happens;
4. the handler runs in a worker thread (the store and argon2 block), and store errors become
   the form again with the message (`InvalidInput`, `Conflict`) or 404 (`NotFound`).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import anyio.to_thread
import structlog
from anyio import CapacityLimiter
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from smsd.errors import Refused
from smsd.web.context import WebContext
from store.errors import Conflict, InvalidInput, NotFound, StoreUnavailable
from store.web_sessions import Session, SessionKind

__all__ = [
    "COOKIE",
    "FORM_THREADS",
    "PAGE_THREADS",
    "PRE_COOKIE",
    "FormError",
    "Handler",
    "Visit",
    "page",
    "redirect",
]

COOKIE = "smsd_session"
PRE_COOKIE = "smsd_pre"
_SIGN_IN = {
    "person": "/signin",
    "signup": "/signup",
    "reset": "/reset",
    "business": "/business/signin",
}

log = structlog.get_logger(__name__)


class FormError(Exception):
    """A form cannot be accepted: the message is shown on the form (status 400)."""


def redirect(url: str) -> RedirectResponse:
    """303 See Other: after a POST, the browser GETs `url`."""
    return RedirectResponse(url, status_code=303)


@dataclass
class Visit:
    """One request as a handler sees it: form fields, session, CSRF token, clock."""

    request: Request
    ctx: WebContext
    now: datetime
    session: Session | None
    csrf: str
    form: Mapping[str, str] = field(default_factory=dict)
    cookies: list[tuple[str, str | None]] = field(default_factory=list)

    @property
    def tls(self) -> bool:
        """True when the browser reached us over HTTPS (directly or via a trusted proxy)."""
        return self.request.url.scheme == "https"

    def field(self, name: str) -> str:
        """A form field, stripped ('' when absent)."""
        return self.form.get(name, "").strip()

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        """The template with the page's common values (CSRF token, who is signed in)."""
        html = self.ctx.templates.get_template(template).render(
            csrf=self.csrf,
            who=None if self.session is None else self.session.kind,
            gateway=self.ctx.gateway_name,
            **values,
        )
        return HTMLResponse(html, status_code=status)

    def start_session(self, kind: SessionKind, subject: int) -> None:
        """Sign in: end the current session and issue a new id (rotation), set the cookie."""
        if self.session is not None:
            self.ctx.store.sessions.end(self.session.id_hash)
        sid, self.session = self.ctx.store.sessions.create(kind, subject, now=self.now)
        self.csrf = self.session.csrf
        self.cookies.append((COOKIE, sid))

    def end_session(self) -> None:
        """Sign out of this browser."""
        if self.session is not None:
            self.ctx.store.sessions.end(self.session.id_hash)
        self.session = None
        self.cookies.append((COOKIE, None))


Handler = Callable[[Visit], Response]


def _set_cookies(response: Response, visit: Visit) -> None:
    for name, value in visit.cookies:
        if value is None:
            response.delete_cookie(name, path="/", secure=visit.tls, httponly=True, samesite="lax")
        else:
            # No max_age/expires: a session cookie that ends when the browser closes.
            response.set_cookie(
                name, value, path="/", secure=visit.tls, httponly=True, samesite="lax"
            )


def _refused(visit: Visit, status: int, message: str) -> Response:
    return visit.render("error.html", status=status, message=message)


def _same_origin(request: Request) -> bool:
    """A browser's `Origin` on a POST, when sent, must be this site (defence in depth)."""
    origin = request.headers.get("origin")
    return origin is None or origin == f"{request.url.scheme}://{request.url.netloc}"


def _csrf_ok(sent: str | None, expected: str) -> bool:
    return bool(sent) and bool(expected) and hmac.compare_digest(str(sent), expected)


def _visit(request: Request, ctx: WebContext, form: Mapping[str, str]) -> Visit:
    now = ctx.clock()
    sid = request.cookies.get(COOKIE)
    session = None
    if sid:
        session = ctx.store.sessions.load(sid, now=now, idle=ctx.idle, absolute=ctx.absolute)
    visit = Visit(request, ctx, now, session, "", form)
    if session is not None:
        visit.csrf = session.csrf
    else:
        pre = request.cookies.get(PRE_COOKIE, "")
        if not (16 <= len(pre) <= 100 and pre.isascii()):
            pre = secrets.token_urlsafe(32)
            visit.cookies.append((PRE_COOKIE, pre))
        visit.csrf = pre
    return visit


def _serve(
    request: Request, form: Mapping[str, str] | None, kind: SessionKind | None,
    handler: Handler, template: str | None, snapshot: bool,
) -> Response:  # fmt: skip
    """Everything that blocks (store, argon2, templates), in one worker thread."""
    visit = _visit(request, request.app.state.web, form or {})
    if form is not None and not (_csrf_ok(form.get("csrf"), visit.csrf) and _same_origin(request)):
        log.warning("web_csrf_refused", path=request.url.path)
        response = _refused(visit, 403, "This form has expired. Go back and reload.")
    elif kind is not None and (visit.session is None or visit.session.kind != kind):
        response = redirect(_SIGN_IN[kind])
    elif snapshot:
        # A read-only page reads one consistent snapshot in one transaction.
        with visit.ctx.store.transaction(write=False):
            response = _run(handler, visit, template)
    else:
        response = _run(handler, visit, template)
    _set_cookies(response, visit)
    return response


def _run(handler: Handler, visit: Visit, template: str | None) -> Response:
    try:
        return handler(visit)
    except NotFound:
        return _refused(visit, 404, "Not found.")
    except (FormError, InvalidInput, Conflict, Refused) as exc:
        if template is None:
            return _refused(visit, 400, str(exc))
        return visit.render(template, status=400, error=str(exc), values=dict(visit.form))
    except StoreUnavailable as exc:
        log.error("web_store_unavailable", error=str(exc), path=visit.request.url.path)
        response = _refused(visit, 503, "The service is busy. Nothing was saved; try again soon.")
        response.headers["retry-after"] = "30"
        return response


#: Handlers running at once per server process, for GET pages and for POSTed forms. Pages
#: share one database connection under one lock anyway: two threads contend less for it and
#: for the GIL than many (p95 under 20 clients: ~60-90 ms with 2, 100-120 ms with 40). Forms
#: (sign-in and sign-up hash with argon2 for a fraction of a second) have threads of their
#: own, so a burst of sign-ins never holds up the pages.
PAGE_THREADS = 2
FORM_THREADS = 4


def _limiter(request: Request) -> CapacityLimiter:
    state = request.app.state
    name, size = ("form_limiter", FORM_THREADS) if request.method == "POST" else (
        "page_limiter", PAGE_THREADS)  # fmt: skip
    limiter: CapacityLimiter | None = getattr(state, name, None)
    if limiter is None:
        limiter = CapacityLimiter(size)
        setattr(state, name, limiter)
    return limiter


def page(
    kind: SessionKind | None = None, *, form: str | None = None, snapshot: bool = False
) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Wrap a handler for `kind` of session (None: anyone); `form` re-renders on a bad POST.

    `snapshot=True` is for pages that only read: the handler runs in one read transaction.
    """

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            fields = None
            if request.method == "POST":
                data = await request.form()
                fields = {k: v for k, v in data.items() if isinstance(v, str)}
            return await anyio.to_thread.run_sync(
                _serve, request, fields, kind, handler, form, snapshot, limiter=_limiter(request)
            )

        endpoint.__name__ = handler.__name__
        endpoint.__doc__ = handler.__doc__
        return endpoint

    return wrap
