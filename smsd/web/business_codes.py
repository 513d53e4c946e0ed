"""A business's codes (add, edit the reply with its placeholders checked, pause/resume) and
broadcasts (preview with recipient count, then confirm; the CLI's daily cap and quiet hours).

A business awaiting approval may look but not change anything here.
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from smsd.operator import check_parts, check_repeat
from smsd.operator_views import preview_broadcast
from smsd.scheduler import queue_broadcast
from smsd.web.business import view_of
from smsd.web.pages import FormError, Visit, page, redirect
from store.errors import Conflict, InvalidInput, NotFound
from store.web_accounts import PLACEHOLDERS, check_placeholders

__all__ = ["routes"]


def _live(visit: Visit) -> int:
    assert visit.session is not None
    if visit.ctx.store.web.is_pending(visit.session.subject):
        raise FormError("Your business is awaiting the operator's approval.")
    return visit.session.subject


def _codes_page(visit: Visit, status: int = 200, error: str | None = None) -> Response:
    view = view_of(visit)
    return visit.render(
        "business/codes.html",
        status=status,
        error=error,
        business=view.business,
        codes=view.code_counts(),
        details={c.keyword: c for c in visit.ctx.store.directory.list_codes(view.business.id)},
        placeholders=PLACEHOLDERS,
        values=dict(visit.form),
    )


@page("business")
def codes(visit: Visit) -> Response:
    """The codes with descriptions and counts, and a form to add one."""
    return _codes_page(visit)


@page("business")
def add_code(visit: Visit) -> Response:
    """Add a code (keyword unique across the gateway; reply placeholders checked)."""
    try:
        business_id = _live(visit)
        reply = check_placeholders(visit.form.get("reply", ""))
        visit.ctx.store.directory.add_code(
            business_id, visit.field("keyword"), reply, visit.field("description") or None
        )
    except (FormError, InvalidInput, Conflict) as exc:
        return _codes_page(visit, 400, str(exc))
    return redirect("/business/codes")


def _own(visit: Visit) -> str:
    keyword = str(visit.request.path_params["keyword"]).upper()
    view = view_of(visit)
    if keyword not in {c.keyword for c in view.code_counts()}:
        raise NotFound("no such code")
    return keyword


@page("business")
def code_page(visit: Visit) -> Response:
    """Edit one own code; another business's keyword is 404."""
    code = visit.ctx.store.directory.get_code(_own(visit))
    values = {"reply": code.reply, "description": code.description or ""}
    return visit.render("business/code.html", code=code, values=values, placeholders=PLACEHOLDERS)


@page("business")
def edit_code(visit: Visit) -> Response:
    """Save the reply text and description (nothing saved when either is invalid)."""
    keyword = _own(visit)
    try:
        business_id = _live(visit)
        visit.ctx.store.web.edit_code(
            business_id, keyword, visit.form.get("reply", ""), visit.field("description")
        )
    except (FormError, InvalidInput, Conflict) as exc:
        code = visit.ctx.store.directory.get_code(keyword)
        return visit.render(
            "business/code.html", status=400, error=str(exc), code=code,
            values=dict(visit.form), placeholders=PLACEHOLDERS,
        )  # fmt: skip
    return redirect("/business/codes")


@page("business")
def pause_code(visit: Visit) -> Response:
    """Pause (paused=1) or resume (paused=0) an own code."""
    keyword = _own(visit)
    visit.ctx.store.web.pause_code(_live(visit), keyword, visit.field("paused") == "1")
    return redirect("/business/codes")


def _broadcast_text(visit: Visit) -> str:
    """The text, refused (as `smsd broadcast` refuses it) when empty, too many parts, or the
    same as a recent broadcast of this business."""
    text = visit.form.get("text", "").strip()
    if not text:
        raise FormError("text: write the message first")
    policy = visit.ctx.broadcast
    check_parts(text, policy.max_parts)
    assert visit.session is not None
    check_repeat(
        visit.ctx.store, visit.session.subject, text, visit.now - policy.repeat_window,
        force=False,
    )  # fmt: skip
    return text


@page("business")
def broadcast_page(visit: Visit) -> Response:
    """Write a broadcast to the people opted in."""
    view = view_of(visit)
    return visit.render(
        "business/broadcast.html", business=view.business, values={},
        opted_in=view.optin_counts()["in"],
    )  # fmt: skip


@page("business", form="business/broadcast.html")
def broadcast_preview(visit: Visit) -> Response:
    """Show the text, recipients, parts, cost and the daily cap; ask to confirm."""
    business_id = _live(visit)
    ctx = visit.ctx
    text = _broadcast_text(visit)
    view = view_of(visit)
    cap = view.business.daily_cap
    return visit.render(
        "business/broadcast_preview.html",
        business=view.business,
        text=text,
        preview=preview_broadcast(
            ctx.store,
            business_id,
            text,
            price_per_part=ctx.billing.price_per_broadcast_part,
            currency=ctx.billing.currency,
        ),
        cap=ctx.broadcast.default_cap if cap is None else cap,
        quiet=ctx.broadcast.quiet_hours,
    )


@page("business", form="business/broadcast.html")
def broadcast_send(visit: Visit) -> Response:
    """Queue the confirmed broadcast through the outbox: the daily cap, and each recipient's
    quiet hours, as `smsd broadcast queue` does."""
    business_id = _live(visit)
    if visit.field("confirm") != "yes":
        raise FormError("Confirm the broadcast first.")
    result = queue_broadcast(
        visit.ctx.store, business_id, _broadcast_text(visit), visit.now, visit.ctx.broadcast
    )
    return visit.render(
        "business/broadcast_done.html", business=view_of(visit).business, result=result
    )


def routes() -> list[Route]:
    """A signed-in business's codes and broadcast routes."""
    return [
        Route("/business/codes", codes, methods=["GET"]),
        Route("/business/codes", add_code, methods=["POST"]),
        Route("/business/codes/{keyword}", code_page, methods=["GET"]),
        Route("/business/codes/{keyword}", edit_code, methods=["POST"]),
        Route("/business/codes/{keyword}/pause", pause_code, methods=["POST"]),
        Route("/business/broadcast", broadcast_page, methods=["GET"]),
        Route("/business/broadcast", broadcast_preview, methods=["POST"]),
        Route("/business/broadcast/send", broadcast_send, methods=["POST"]),
    ]
