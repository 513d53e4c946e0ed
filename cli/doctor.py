"""``smsd doctor``: is the installation healthy? Config, database, device, SIM, signal."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import click

from cli.context import EXIT_UNAVAILABLE, EXIT_USER, Context, command_edge, pass_ctx
from cli.modem import modem_settings, query_modem
from cli.output import echo_json
from cli.render import safe
from modem.settings import ModemSettings
from smsd.config import Config

__all__ = ["Check", "doctor"]


@dataclass
class Check:
    """One line of ``smsd doctor``."""

    name: str
    ok: bool
    detail: str
    warning: bool = False  # shown as "warn"; does not change the exit code

    @property
    def label(self) -> str:
        """``ok``, ``warn`` or ``FAIL``."""
        return "FAIL" if not self.ok else "warn" if self.warning else "ok"


def _check_prices(config: Config) -> list[Check]:
    """Zero prices work but bill nothing: a warning, not a failure."""
    billing = config.billing
    prices = (
        ("price_per_request", billing.price_per_request),
        ("price_per_broadcast_part", billing.price_per_broadcast_part),
    )
    zero = [key for key, price in prices if price == 0]
    if zero:
        detail = f"[billing] {' and '.join(zero)} = 0: invoices bill nothing"
        return [Check("prices", True, detail, warning=True)]
    return [Check("prices", True, f"{billing.price_per_request} per request")]


def _check_config(ctx: Context) -> tuple[Check, Config | None]:
    try:
        config = ctx.config()
    except Exception as exc:  # any failure here is the finding itself
        return Check("config", False, str(exc)), None
    return Check("config", True, ctx.config_path or "defaults / $SMSD_CONFIG"), config


def _check_contact(config: Config) -> Check:
    """HELP and opt-out replies must tell people how to reach a human (CTIA, carriers)."""
    contact = config.gateway.contact
    if not contact:
        return Check("contact", False, "[gateway] contact is unset: HELP replies need one")
    return Check("contact", True, contact)


def _check_database(ctx: Context) -> Check:
    from store.backend import is_postgres_url, redact_url

    shown = redact_url(ctx.db)
    try:
        store = ctx.store(read_only=True)
        store.data_version()
        store.close()
    except Exception as exc:
        return Check("database", False, str(exc))
    if is_postgres_url(ctx.db):
        return Check("database", True, f"{shown} reachable, migrated")
    mode = stat.S_IMODE(os.stat(ctx.db).st_mode)
    if mode & 0o077:
        return Check("database", False, f"{ctx.db} is {oct(mode)}: should be 0600")
    if not os.access(ctx.db, os.W_OK):
        return Check("database", False, f"{ctx.db} is not writable by this user")
    return Check("database", True, f"{ctx.db} writable, mode 0600")


def _check_balances(ctx: Context, low: Decimal | None) -> list[Check]:
    """The daemon's last SIM balance per modem against ``[modem] balance_low`` (a warning:
    replies still go out until the credit is gone, but the operator should top up now)."""
    if low is None:
        return []
    store = ctx.store(read_only=True)
    try:
        readings = {name: store.balances.last_success(name) for name in store.balances.latest()}
    finally:
        store.close()
    checks = []
    for name, balance in readings.items():
        if balance is None or balance.amount is None:
            continue  # never read, or no amount in the network's answer: `modem balance` tells
        shown = f"{balance.amount} {balance.currency or ''}".strip()
        read = f"read {balance.at:%Y-%m-%d %H:%M} UTC"
        if balance.amount < low:
            detail = f"{shown}, below balance_low {low} ({read}): top up the SIM"
            checks.append(Check(f"{name} balance", True, detail, warning=True))
        else:
            checks.append(Check(f"{name} balance", True, f"{shown} ({read})"))
    return checks


def _check_modem(settings: ModemSettings) -> list[Check]:
    name = settings.name
    url = settings.url
    if "://" not in url and not Path(url).exists():
        return [Check(f"{name} device", False, f"{url} does not exist (see ls /dev/serial/by-id)")]
    try:
        status = query_modem(settings)
    except Exception as exc:
        return [Check(f"{name} answers AT", False, f"{url}: {exc}")]
    checks = [
        Check(f"{name} answers AT", True, f"{status.manufacturer} {status.model}"),
        Check(f"{name} SIM", status.sim == "READY", str(status.sim)),
        Check(
            f"{name} registered",
            bool(status.registration) and str(status.registration).startswith(("home", "roaming")),
            f"{status.registration} {status.operator or ''}".strip(),
        ),
    ]
    dbm = status.signal_dbm
    checks.append(
        Check(
            f"{name} signal",
            dbm is not None and dbm >= -105,
            "unknown" if dbm is None else f"{dbm} dBm",
        )
    )
    return checks


@click.command()
@click.option("--device", metavar="PATH|URL", help="Check this port instead of the config's.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_ctx
@command_edge
def doctor(ctx: Context, device: str | None, as_json: bool) -> None:
    """Check an installation: config, database, device, modem, SIM, registration, signal.

    Also fails while ``[gateway] contact`` is unset (HELP replies must carry a contact), and
    warns when a SIM's last balance reading is below ``[modem] balance_low``.

    Run it with the daemon stopped (the modem port is exclusive). Exit code 0 when every
    check passes (warnings, such as zero prices, do not fail it), 1 when a
    check fails, 3 when the database does not exist or the modem cannot be reached.

    \b
    Example:
      sudo -u smsd /opt/smsd/venv/bin/smsd --config /etc/smsd/smsd.toml doctor
    """
    config_check, config = _check_config(ctx)
    checks = [config_check]
    if config is not None:
        checks.append(_check_contact(config))
        checks.extend(_check_prices(config))
        database = _check_database(ctx)
        checks.append(database)
        if database.ok:
            checks.extend(_check_balances(ctx, config.modem.balance_low))
        for settings in modem_settings(ctx, device, None):
            checks.extend(_check_modem(settings))
    if as_json:
        echo_json([{**c.__dict__, "status": c.label} for c in checks])
    else:
        for c in checks:
            click.echo(f"{c.label:<4}  {safe(c.name):<20} {safe(c.detail)}")
    if not all(c.ok for c in checks):
        unreachable = any(
            not c.ok
            and (c.name.endswith(("answers AT", "device")) or c.detail.startswith("no database"))
            for c in checks
        )
        raise SystemExit(EXIT_UNAVAILABLE if unreachable else EXIT_USER)
