"""A signed-in business's webhooks: list with delivery counts, add (the signing secret shown
once, on the answer to the POST), remove (after a confirmation form), retry parked deliveries.

Everything goes through `store.webhooks`, as `smsd webhook` does. Only the business's own live
webhooks are shown; another business's id, an operator webhook's id or a removed one is 404.
"""

from __future__ import annotations

import structlog
from starlette.responses import Response
from starlette.routing import Route

from smsd.web.pages import Visit, page, redirect
from store.errors import InvalidInput, NotFound
from store.integrations_schema import EVENT_KINDS
from store.webhooks import Webhook

__all__ = ["BUSINESS_EVENTS", "routes"]

#: The events a business's webhooks receive (the operator's are never offered here).
BUSINESS_EVENTS = tuple(kind for kind, business in EVENT_KINDS.items() if business)

log = structlog.get_logger(__name__)


def _subject(visit: Visit) -> int:
    assert visit.session is not None
    return visit.session.subject


def _own(visit: Visit) -> Webhook:
    """The webhook in the URL if it is this business's and not removed; `NotFound` otherwise."""
    hook = visit.ctx.store.webhooks.get(int(visit.request.path_params["webhook_id"]))
    if hook.business_id != _subject(visit) or hook.removed_at is not None:
        raise NotFound("no such webhook")
    return hook


def _list_page(visit: Visit, status: int = 200, error: str | None = None) -> Response:
    retried = visit.request.query_params.get("retried", "")
    return visit.render(
        "business/webhooks.html",
        status=status,
        error=error,
        hooks=visit.ctx.store.webhooks.list(_subject(visit)),
        events=BUSINESS_EVENTS,
        retried=int(retried) if retried.isdigit() else None,
        values=dict(visit.form),
    )


@page("business")
def webhooks(visit: Visit) -> Response:
    """The business's webhooks with pending, delivered and failed counts; a form to add one."""
    return _list_page(visit)


@page("business")
def add_webhook(visit: Visit) -> Response:
    """Add a webhook (URL checked as the CLI checks it); the answer shows the secret once."""
    try:
        hook, secret = visit.ctx.store.webhooks.add(
            _subject(visit), visit.field("url"), now=visit.now
        )
    except InvalidInput as exc:
        return _list_page(visit, 400, str(exc))
    log.info("web_webhook_added", business_id=hook.business_id, webhook_id=hook.id)
    return visit.render(
        "business/webhook_added.html", hook=hook, secret=secret, events=BUSINESS_EVENTS
    )


@page("business")
def remove_page(visit: Visit) -> Response:
    """Ask to confirm removing an own webhook."""
    return visit.render("business/webhook_remove.html", hook=_own(visit))


@page("business")
def remove_webhook(visit: Visit) -> Response:
    """Stop delivering to an own webhook (its history stays)."""
    hook = _own(visit)
    if visit.field("confirm") != "yes":
        return visit.render(
            "business/webhook_remove.html", status=400, hook=hook, error="Tick the box to confirm."
        )
    visit.ctx.store.webhooks.remove(hook.id, now=visit.now)
    log.info("web_webhook_removed", business_id=hook.business_id, webhook_id=hook.id)
    return redirect("/business/webhooks")


@page("business")
def retry_webhook(visit: Visit) -> Response:
    """Queue an own webhook's failed (parked) deliveries again, with a fresh 24 h window."""
    hook = _own(visit)
    count = visit.ctx.store.webhooks.retry(hook.id, now=visit.now)
    log.info("web_webhook_retried", business_id=hook.business_id, webhook_id=hook.id, count=count)
    return redirect(f"/business/webhooks?retried={count}")


def routes() -> list[Route]:
    """A signed-in business's webhook routes."""
    one = "/business/webhooks/{webhook_id:int}"
    return [
        Route("/business/webhooks", webhooks, methods=["GET"]),
        Route("/business/webhooks", add_webhook, methods=["POST"]),
        Route(one + "/remove", remove_page, methods=["GET"]),
        Route(one + "/remove", remove_webhook, methods=["POST"]),
        Route(one + "/retry", retry_webhook, methods=["POST"]),
    ]
