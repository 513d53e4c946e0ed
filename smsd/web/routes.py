"""The portal's route groups, and its home page."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from smsd.web import business, business_auth, business_codes, business_webhooks, people, people_auth
from smsd.web.pages import Visit, page

__all__ = ["portal_routes"]


@page()
def home(visit: Visit) -> Response:
    """The front page: sign in or sign up, as a person or a business."""
    return visit.render("home.html")


def portal_routes() -> list[BaseRoute]:
    """Every portal page: home, people, businesses."""
    return [
        Route("/", home, methods=["GET"]),
        *people_auth.routes(),
        *people.routes(),
        *business_auth.routes(),
        *business.routes(),
        *business_codes.routes(),
        *business_webhooks.routes(),
    ]
