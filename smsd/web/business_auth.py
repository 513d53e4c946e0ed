"""Businesses: sign up (live after `smsd company approve NAME` unless `[web]
approve_businesses = false`) and sign in by email and password."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from smsd.web.pages import Visit, page, redirect
from smsd.web.people_auth import new_password
from smsd.web.signin import password_signin
from store.accounts import BUSINESS_FIELDS

__all__ = ["routes"]


@page()
def signup_page(visit: Visit) -> Response:
    """The business sign-up form."""
    return visit.render("business/signup.html", values={})


@page(form="business/signup.html")
def signup(visit: Visit) -> Response:
    """Create the business (pending approval unless approval is off), then sign in."""
    ctx = visit.ctx
    password = new_password(visit)
    business_id = ctx.store.web.signup_business(
        visit.field("name"),
        {name: visit.field(name) for name in BUSINESS_FIELDS},
        password,
        pending=ctx.web.approve_businesses,
        now=visit.now,
    )
    visit.start_session("business", business_id)
    return redirect("/business")


@page()
def signin_page(visit: Visit) -> Response:
    """The business sign-in form."""
    return visit.render("business/signin.html", values={})


@page(form="business/signin.html")
def signin(visit: Visit) -> Response:
    """Sign in by the business's email and password (throttled, lock-outs audited)."""
    ctx, email = visit.ctx, visit.field("email")
    found = ctx.store.web.business_by_email(email) if email else None
    password = visit.form.get("password", "")
    check = None
    if found is not None:
        name = found[1]
        check = lambda: ctx.store.accounts.check_business_password(name, password)  # noqa: E731
    password_signin(visit, f"business:{email.lower()}", None if found is None else found[1], check)
    assert found is not None
    visit.start_session("business", found[0])
    return redirect("/business")


def routes() -> list[Route]:
    """The businesses' sign-up and sign-in routes."""
    return [
        Route("/business/signup", signup_page, methods=["GET"]),
        Route("/business/signup", signup, methods=["POST"]),
        Route("/business/signin", signin_page, methods=["GET"]),
        Route("/business/signin", signin, methods=["POST"]),
    ]
