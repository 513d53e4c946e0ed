"""A signed-in person's pages: history with charts, one-click opt-out/in, profile, download
my data (the same content as `smsd disclose`, audited), close my account (erasure)."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime

from starlette.responses import Response
from starlette.routing import Route

from smsd.web.charts import bar_chart
from smsd.web.pages import FormError, Visit, page, redirect
from smsd.web.people_auth import new_password
from store.accounts import PERSON_FIELDS
from store.stats import WEEKDAYS

__all__ = ["routes", "to_json"]

_DONE = {
    "welcome": "Welcome! Your account is ready.",
    "password": "Your password is changed; other sessions were signed out.",
    "profile": "Your profile is saved.",
    "out": "You are opted out: that business will send you nothing more.",
    "in": "You are opted back in.",
}
_REQUIRED = ("first_name", "surname", "email", "postal_code")


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return str(value)


def to_json(value: object) -> str:
    """A dossier (dataclasses, datetimes) as indented JSON."""
    return json.dumps(value, default=_json_default, indent=2, sort_keys=True, ensure_ascii=False)


def _code(visit: Visit) -> str:
    assert visit.session is not None
    return visit.ctx.store.web.user_code_of(visit.session.subject)


@page("person", snapshot=True)
def history(visit: Visit) -> Response:
    """My history: businesses in/out with dates and buttons, codes with counts, charts."""
    ctx = visit.ctx
    assert visit.session is not None
    code = _code(visit)
    summary = ctx.store.stats.person_summary(code)
    hours = [(f"{h:02d}", summary.hours.get(f"{h:02d}", 0)) for h in range(24)]
    order = (*WEEKDAYS[1:], WEEKDAYS[0])
    days = [(d, summary.weekdays.get(d, 0)) for d in order]
    return visit.render(
        "person/history.html",
        user_code=code,
        ledger=ctx.store.web.ledger(visit.session.subject),
        codes=summary.codes,
        hour_chart=bar_chart("Requests by hour of day (UTC)", hours),
        day_chart=bar_chart("Requests by weekday", days),
        done=_DONE.get(visit.request.query_params.get("done", "")),
    )


def _opt(visit: Visit, kind: str) -> Response:
    assert visit.session is not None
    try:
        business_id = int(visit.field("business"))
    except ValueError as exc:
        raise FormError("no such business") from exc
    visit.ctx.store.web.web_opt(
        visit.session.subject, business_id, "in" if kind == "in" else "out", now=visit.now
    )
    return redirect(f"/me?done={kind}")


@page("person")
def opt_out(visit: Visit) -> Response:
    """One click: opt out of one business (ledger channel 'web')."""
    return _opt(visit, "out")


@page("person")
def opt_in(visit: Visit) -> Response:
    """One click: opt back in to a business left before."""
    return _opt(visit, "in")


def _profile_values(visit: Visit) -> dict[str, str]:
    profile = visit.ctx.store.accounts.person_profile(_code(visit))
    return {name: getattr(profile, name) or "" for name in PERSON_FIELDS}


@page("person")
def profile_page(visit: Visit) -> Response:
    """Edit my profile."""
    return visit.render("person/profile_form.html", values=_profile_values(visit), signup=False)


@page("person", form="person/profile_form.html")
def profile(visit: Visit) -> Response:
    """Save the profile (all or nothing); a new password ends every other session."""
    ctx = visit.ctx
    assert visit.session is not None
    fields = {name: visit.field(name) for name in PERSON_FIELDS}
    for name in _REQUIRED:
        if not fields[name]:
            raise FormError(f"{name}: required")
    password = new_password(visit) if visit.form.get("password") else None
    ctx.store.accounts.update_person(
        _code(visit), fields, password=password, actor="web", reason="edited on the web"
    )
    if password is not None:
        person_id = visit.session.subject
        ctx.store.sessions.end_all("person", person_id)
        visit.session = None
        visit.start_session("person", person_id)
        return redirect("/me?done=password")
    return redirect("/me?done=profile")


@page("person")
def download(visit: Visit) -> Response:
    """Everything held on me as JSON (what `smsd disclose` gives), audited."""
    store, code = visit.ctx.store, _code(visit)
    with store.transaction():
        store.audit.record_audit(
            f"web:{code}", "disclose", code, "downloaded by the person", now=visit.now
        )
        dossier = store.stats.person_dossier(code)
    return Response(
        to_json(dossier),
        media_type="application/json",
        headers={"content-disposition": f'attachment; filename="smsactive-{code}.json"'},
    )


@page("person")
def close_page(visit: Visit) -> Response:
    """Ask before closing the account."""
    return visit.render("person/close.html")


@page("person", form="person/close.html")
def close(visit: Visit) -> Response:
    """Close my account: the same erasure as `smsd user erase`; every session ends."""
    ctx = visit.ctx
    assert visit.session is not None
    if visit.field("confirm") != "yes":
        raise FormError("Tick the box to confirm.")
    person_id = visit.session.subject
    ctx.store.accounts.erase_everywhere(
        _code(visit), actor="web", reason="account closed by the person on the web", now=visit.now
    )
    ctx.store.sessions.end_all("person", person_id)
    visit.session = None
    visit.end_session()
    return visit.render("person/closed.html")


def routes() -> list[Route]:
    """A signed-in person's routes, under /me."""
    return [
        Route("/me", history, methods=["GET"]),
        Route("/me/optout", opt_out, methods=["POST"]),
        Route("/me/optin", opt_in, methods=["POST"]),
        Route("/me/profile", profile_page, methods=["GET"]),
        Route("/me/profile", profile, methods=["POST"]),
        Route("/me/data", download, methods=["POST"]),
        Route("/me/close", close_page, methods=["GET"]),
        Route("/me/close", close, methods=["POST"]),
    ]
