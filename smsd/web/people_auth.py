"""People: sign up by phone with a texted code, sign in, reset the password, sign out.

Sign-up: the phone number (a person who has texted the gateway) gets a fresh one-time code
through the outbox; the person enters it with their user code (the user code alone is no
proof: every business sees it); then the profile. Whether a number is known, or already
registered, is told only to whoever proved they hold the phone.
"""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import Literal

from starlette.responses import Response
from starlette.routing import Route

from smsd.numbers import InvalidNumber, to_e164
from smsd.web.pages import FormError, Visit, page, redirect
from smsd.web.signin import password_signin
from store.accounts import PERSON_FIELDS
from store.models import Person

__all__ = ["routes"]

_CODES_PER_HOUR = 3
_MIN_PASSWORD = 10


def _phone(visit: Visit) -> str:
    try:
        return to_e164(visit.field("phone"), visit.ctx.default_region)
    except InvalidNumber as exc:
        raise FormError("phone: not a phone number") from exc


def new_password(visit: Visit) -> str:
    """The password and its confirmation from the form, or `FormError`."""
    password = visit.form.get("password", "")
    if len(password) < _MIN_PASSWORD or len(password) > 200:
        raise FormError(f"password: {_MIN_PASSWORD}-200 characters")
    if not hmac.compare_digest(password, visit.form.get("confirm", "")):
        raise FormError("confirm: the two passwords differ")
    return password


def _text_code(visit: Visit, purpose: Literal["signup", "reset"]) -> str:
    """Text a code to the phone if it belongs to a person (quietly nothing otherwise)."""
    phone = _phone(visit)
    ctx = visit.ctx
    with ctx.store.transaction():
        person = ctx.store.directory.find_person(phone)
        registered = (
            person is not None and ctx.store.accounts.person_profile(person.user_code).registered_at
        )
        wanted = person is not None and (purpose == "signup" or registered)
        if person is not None and wanted:
            recent = ctx.store.sessions.codes_since(person.id, visit.now - timedelta(hours=1))
            if recent < _CODES_PER_HOUR:
                ttl = timedelta(minutes=ctx.web.code_minutes)
                code = ctx.store.sessions.issue_code(person.id, purpose, now=visit.now, ttl=ttl)
                text = (
                    f"{ctx.gateway_name}: your web code is {code}. It expires in"
                    f" {ctx.web.code_minutes} minutes. Never share it."
                )
                ctx.store.outbox.queue_outgoing(
                    phone, text, "manual", now=visit.now, person_id=person.id
                )
    return phone


def _proven(visit: Visit, purpose: Literal["signup", "reset"]) -> Person:
    """The person whose phone the texted code proves (and user code, for sign-up)."""
    phone = _phone(visit)
    person = visit.ctx.store.directory.find_person(phone)
    wrong = FormError("Those codes do not match this phone number, or the code has expired.")
    if person is None:
        raise wrong
    if purpose == "signup":
        given = visit.field("user_code").upper()
        if not hmac.compare_digest(given.encode(), person.user_code.encode()):
            raise wrong
    if (
        visit.ctx.store.sessions.check_code(person.id, purpose, visit.field("code"), now=visit.now)
        != "ok"
    ):
        raise wrong
    return person


@page()
def signin_page(visit: Visit) -> Response:
    """The person's sign-in form."""
    return visit.render("person/signin.html")


@page(form="person/signin.html")
def signin(visit: Visit) -> Response:
    """Sign in by phone number or email, and password."""
    ctx, who = visit.ctx, visit.field("login")
    user_code = None
    if "@" in who:
        user_code = ctx.store.web.person_by_email(who)
    elif who:
        try:
            found = ctx.store.directory.find_person(to_e164(who, ctx.default_region))
        except InvalidNumber:
            found = None
        if found is not None and ctx.store.accounts.person_profile(found.user_code).registered_at:
            user_code = found.user_code
    password = visit.form.get("password", "")
    code = user_code
    check = (
        None if code is None else lambda: ctx.store.accounts.check_person_password(code, password)
    )
    password_signin(visit, f"person:{who.lower()}", user_code, check)
    assert user_code is not None
    visit.start_session("person", ctx.store.directory.get_person(user_code).id)
    return redirect("/me")


@page()
def signup_page(visit: Visit) -> Response:
    """Step 1: the phone number."""
    return visit.render("person/signup.html")


@page(form="person/signup.html")
def signup(visit: Visit) -> Response:
    """Text a code to the phone; step 2 asks for it with the user code."""
    phone = _text_code(visit, "signup")
    return visit.render("person/verify.html", phone=phone, purpose="signup")


@page(form="person/verify.html")
def signup_verify(visit: Visit) -> Response:
    """Step 2: the texted code and the user code prove the phone."""
    person = _proven(visit, "signup")
    if visit.ctx.store.accounts.person_profile(person.user_code).registered_at is not None:
        raise FormError("This phone already has an account: sign in, or reset your password.")
    visit.start_session("signup", person.id)
    return redirect("/signup/profile")


@page("signup")
def profile_page(visit: Visit) -> Response:
    """Step 3: the profile form."""
    return visit.render("person/profile_form.html", values={}, signup=True)


@page("signup", form="person/profile_form.html")
def profile(visit: Visit) -> Response:
    """Save the profile and password in one transaction, then sign in."""
    ctx = visit.ctx
    assert visit.session is not None
    person = ctx.store.directory.get_person(ctx.store.web.user_code_of(visit.session.subject))
    password = new_password(visit)
    fields = {name: visit.field(name) for name in PERSON_FIELDS}
    assert person.phone is not None
    ctx.store.accounts.register_person(
        person.phone, person.user_code, fields, password=password, actor="web", now=visit.now
    )
    visit.start_session("person", person.id)
    return redirect("/me?done=welcome")


@page()
def reset_page(visit: Visit) -> Response:
    """Reset step 1: the phone number."""
    return visit.render("person/reset.html")


@page(form="person/reset.html")
def reset(visit: Visit) -> Response:
    """Text a reset code to a registered person's phone."""
    phone = _text_code(visit, "reset")
    return visit.render("person/verify.html", phone=phone, purpose="reset")


@page(form="person/verify.html")
def reset_verify(visit: Visit) -> Response:
    """Reset step 2: the texted code proves the phone."""
    person = _proven(visit, "reset")
    visit.start_session("reset", person.id)
    return redirect("/reset/password")


@page("reset")
def password_page(visit: Visit) -> Response:
    """Reset step 3: the new password."""
    return visit.render("person/password.html")


@page("reset", form="person/password.html")
def password(visit: Visit) -> Response:
    """Set the new password, end every session of the person, sign in afresh."""
    ctx = visit.ctx
    assert visit.session is not None
    person_id = visit.session.subject
    code = ctx.store.web.user_code_of(person_id)
    ctx.store.accounts.update_person(
        code, {}, password=new_password(visit), actor="web", reason="password reset by texted code"
    )
    ctx.store.sessions.end_all("person", person_id)
    visit.start_session("person", person_id)
    return redirect("/me?done=password")


@page()
def signout(visit: Visit) -> Response:
    """Sign out (person or business): every session of the account ends, not just this one."""
    if visit.session is not None and visit.session.kind in ("person", "business"):
        visit.ctx.store.sessions.end_all(visit.session.kind, visit.session.subject)
    visit.end_session()
    return redirect("/")


def routes() -> list[Route]:
    """The people's sign-in, sign-up and reset routes."""
    return [
        Route("/signin", signin_page, methods=["GET"]),
        Route("/signin", signin, methods=["POST"]),
        Route("/signup", signup_page, methods=["GET"]),
        Route("/signup", signup, methods=["POST"]),
        Route("/signup/verify", signup_verify, methods=["POST"]),
        Route("/signup/profile", profile_page, methods=["GET"]),
        Route("/signup/profile", profile, methods=["POST"]),
        Route("/reset", reset_page, methods=["GET"]),
        Route("/reset", reset, methods=["POST"]),
        Route("/reset/verify", reset_verify, methods=["POST"]),
        Route("/reset/password", password_page, methods=["GET"]),
        Route("/reset/password", password, methods=["POST"]),
        Route("/signout", signout, methods=["POST"]),
    ]
