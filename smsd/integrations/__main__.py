"""`python -m smsd.integrations --db PATH [--host H] [--port N] [--no-deliver]`.

The stand-alone integrations server (API, /metrics, webhook delivery) until the portal's
`smsd web` mounts them; settings from the config (`SMSD_CONFIG`, [webhooks]) and
`SMSD_WEBHOOKS_*`.
"""

from __future__ import annotations

import argparse

from smsd.config import load_config
from smsd.integrations.app import create_app, serve
from smsd.integrations.settings import Policy, delivery_settings
from smsd.logs import configure_logging

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments and serve."""
    parser = argparse.ArgumentParser(prog="python -m smsd.integrations")
    parser.add_argument("--db", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--no-deliver", action="store_true")
    args = parser.parse_args(argv)
    configure_logging("warning")
    config = load_config(None)
    policy = Policy.from_config(config)
    settings = delivery_settings(config)
    app = create_app(args.db, policy=policy, settings=settings, deliver=not args.no_deliver)
    serve(app, args.host, args.port)


if __name__ == "__main__":
    main()
