"""Integrations for `smsd web`: the HTTP API, signed webhooks and Prometheus metrics.

Nothing here runs in the gateway daemon (it has no network): `smsd web` serves the routes of
`routes()` and runs a `Deliverer` beside them, over the same database. `app.create_app` builds
a small stand-alone Starlette app of its own (tests, and hosts without the portal).
"""

from smsd.integrations.settings import IntegrationSettings, Policy

__all__ = ["IntegrationSettings", "Policy"]
