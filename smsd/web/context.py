"""`WebContext`: what every route group of the web server shares.

The portal pages use it now; the HTTP API and the metrics endpoint mount their own route
groups on the same app and reach the store, the settings and the clock through it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

from jinja2 import Environment, PackageLoader, select_autoescape

from smsd.config import BillingConfig, WebConfig
from smsd.settings import BroadcastPolicy
from store.accounts import AGE_BANDS, GENDERS
from store.store import Store

__all__ = ["WebContext", "make_templates", "utc_now"]


def utc_now() -> datetime:
    """The wall clock, aware, in UTC."""
    return datetime.now(UTC)


def make_templates() -> Environment:
    """The portal's Jinja2 environment: every `.html` template is autoescaped."""
    env = Environment(
        loader=PackageLoader("smsd.web", "templates"),
        autoescape=select_autoescape(["html"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # templates ship with the package: no stat() per page
    )
    env.globals.update(age_bands=AGE_BANDS, genders=GENDERS)
    return env


@dataclass
class WebContext:
    """The store, the settings, the templates and the clock of one web server."""

    store: Store
    web: WebConfig = field(default_factory=WebConfig)
    broadcast: BroadcastPolicy = field(default_factory=BroadcastPolicy)
    billing: BillingConfig = field(default_factory=BillingConfig)
    gateway_name: str = "smsactive"
    default_region: str = "GB"
    local_tz: tzinfo = UTC
    clock: Callable[[], datetime] = utc_now
    templates: Environment = field(default_factory=make_templates)

    @property
    def idle(self) -> timedelta:
        """How long a session may sit unused."""
        return timedelta(minutes=self.web.session_idle_minutes)

    @property
    def absolute(self) -> timedelta:
        """How long a session may live at all."""
        return timedelta(hours=self.web.session_absolute_hours)
