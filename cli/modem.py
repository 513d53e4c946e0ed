"""``smsd modem status``: what the daemon recorded per modem, or ask a free port now."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import click

from cli.context import EXIT_UNAVAILABLE, Context, command_edge, fail, pass_ctx
from cli.output import echo_json, to_jsonable
from cli.render import cell, safe
from modem.modem import Modem
from modem.settings import ModemSettings
from modem.status import ModemStatus
from modem.ussd import UssdAnswer, ask, encode_request
from store.models import Balance

__all__ = ["modem", "modem_balance", "modem_settings", "name_conflicts", "query_modem"]


def modem_settings(ctx: Context, device: str | None, pin: str | None) -> list[ModemSettings]:
    """--device as one modem, else the config's [[modems]]; a usage error when there is none."""
    if device:
        return [ModemSettings(url=device, name="modem0", pin=pin)]
    settings = list(ctx.config().modem_settings())
    if not settings:
        raise click.UsageError("no modem: give --device or [[modems]] in the config")
    return settings


def query_modem(settings: ModemSettings) -> ModemStatus:
    """Open the port, initialise, read the status, close: the daemon must not hold the port."""
    modem = Modem(settings)
    modem.open()
    try:
        modem.initialise()
        return modem.status()
    finally:
        modem.close()


@click.group()
def modem() -> None:
    """The GSM modem: status and signal.

    \b
    Examples:
      smsd modem status --device /dev/serial/by-id/usb-HUAWEI_Mobile-if00-port0
      smsd modem balance --json
    """


def _print_report(report: dict[str, dict[str, Any]]) -> None:
    for name, status in report.items():
        click.echo(f"{safe(name)}:")
        for line in status.get("refused", []):
            click.echo(f"  error: {safe(line)}")
        for key, value in status.items():
            if key == "refused":
                continue
            shown = cell(value)
            if key == "signal_dbm" and value is not None:
                shown = f"{shown} dBm"
            click.echo(f"  {key:<14} {shown}".rstrip())


def _claim_timeout(ctx: Context) -> timedelta:
    try:
        return timedelta(seconds=ctx.config().outgoing.claim_timeout_s)
    except Exception:  # status must show what the daemon recorded even with a broken config
        return timedelta(minutes=10)


def name_conflicts(ctx: Context) -> list[tuple[str, bool, str]]:
    """`doctor`'s (check, ok, detail) per configured modem on a shared store: is its name
    held by another live host? (On SQLite one daemon holds the file: nothing to check.)"""
    config = ctx.config()
    store = ctx.store(read_only=True)
    try:
        if store.dialect == "sqlite":
            return []
        names = [m.name for m in config.modem_settings()]
        host = config.gateway.host or socket.gethostname()
        held = store.modems.name_holders(names, host, datetime.now(UTC), _claim_timeout(ctx))
    finally:
        store.close()
    return [
        (f"{name} name", name not in held,
         f"held by live host {held[name][0]!r}: rename it in [[modems]]" if name in held
         else f"no other live host runs a modem {name!r}")
        for name in names
    ]  # fmt: skip


def _daemon_report(ctx: Context) -> dict[str, dict[str, Any]]:
    store = ctx.store(read_only=True)
    try:
        report = {s.pop("name"): to_jsonable(s) for s in store.modems.modem_statuses()}
        for refusal in store.modems.refusals(datetime.now(UTC), _claim_timeout(ctx)):
            entry = report.setdefault(refusal.name, {})
            entry["refused"] = [*entry.get("refused", []), refusal.line()]
        for name, balance in store.balances.latest().items():
            entry = _balance_json(balance)
            low = _config_low(ctx)
            entry["low"] = None if balance.amount is None or low is None else balance.amount < low
            report.setdefault(name, {})["balance"] = entry
        return report
    finally:
        store.close()


def _balance_json(balance: Balance | UssdAnswer) -> dict[str, Any]:
    """A balance as JSON: text, amount (a decimal string), currency, when, error."""
    stored = balance if isinstance(balance, Balance) else None
    return {
        "text": balance.text,
        "amount": None if balance.amount is None else str(balance.amount),
        "currency": balance.currency,
        "at": (stored.at if stored else datetime.now(UTC)).isoformat(),
        "error": stored.error if stored else None,
    }


@modem.command("status")
@click.option("--device", metavar="PATH|URL", help="Query this port now (it must be free).")
@click.option(
    "--live",
    is_flag=True,
    help="Query the config's modems now instead of reading "
    "the running daemon's report (stop the daemon first).",
)
@click.option("--pin", envvar="SMSD_PIN", help="SIM PIN if the SIM asks for one.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_ctx
@command_edge
def modem_status(
    ctx: Context, device: str | None, live: bool, pin: str | None, as_json: bool
) -> None:
    """Manufacturer, model, IMEI, SIM, registration, operator, signal and storage per modem.

    Without --device or --live this shows what the running daemon recorded for each modem at
    the start of its session, and whether the modem is up now (the daemon owns the ports).
    With --device (or --live for the config's modems) the port is opened and asked now.
    Exit code 3 when a modem cannot be reached, when no modem is up, or when there is no
    report yet.

    \b
    Examples:
      smsd modem status --json
      smsd modem status --device /dev/serial/by-id/usb-HUAWEI_Mobile-if00-port0
    """
    if device or live:
        report = {s.name: to_jsonable(query_modem(s)) for s in modem_settings(ctx, device, pin)}
    else:
        report = _daemon_report(ctx)
        if not report:
            fail(
                "no modem report yet: is the daemon running? (or use --device/--live)",
                EXIT_UNAVAILABLE,
            )
    if as_json:
        echo_json(report)
    else:
        _print_report(report)
    if not (device or live) and not any(s.get("healthy") for s in report.values()):
        fail("no modem is up", EXIT_UNAVAILABLE)


def _checked_code(code: str | None) -> str | None:
    """Refuse a code that is not digits, * and # before anything is opened."""
    if code is not None:
        try:
            encode_request(code, "text")
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
    return code


def _config_low(ctx: Context) -> Decimal | None:
    try:
        return ctx.config().modem.balance_low
    except Exception:  # status must show what the daemon recorded even with a broken config
        return None


def _config_code(ctx: Context) -> str | None:
    try:
        return ctx.config().modem.balance_ussd
    except Exception:  # a broken config must not hide a balance asked for with --code
        return None


def _balance_now(settings: ModemSettings, code: str, timeout: float) -> UssdAnswer:
    """Open the port, initialise, ask the network, close (the daemon must not hold the port)."""
    modem = Modem(settings)
    modem.open()
    try:
        modem.initialise()
        return ask(modem, code, timeout=timeout)
    finally:
        modem.close()


def _refresh(ctx: Context, name: str | None, wait: float) -> dict[str, Balance]:
    """Leave a request for the running daemon and wait for its answer."""
    store = ctx.store()
    try:
        request = store.balances.request(name, datetime.now(UTC))
        deadline = time.monotonic() + wait
        while (answer := store.balances.answer(request)) is None:
            if time.monotonic() > deadline:
                raise click.ClickException(
                    f"no balance from the daemon within {wait:g} s: is it running?"
                )
            time.sleep(0.2)  # polling the database on a deadline
        return {answer.modem: answer}
    finally:
        store.close()


@modem.command("balance")
@click.option("--device", metavar="PATH|URL", help="Ask on this port now (it must be free).")
@click.option(
    "--code",
    callback=lambda _ctx, _param, value: _checked_code(value),
    help="USSD code (default: [modem] balance_ussd, else *100#).",
)
@click.option("--refresh", is_flag=True, help="Ask the running daemon for a fresh reading.")
@click.option("--modem", "name", help="With --refresh: which [[modems]] name to ask.")
@click.option(
    "--wait",
    default=60.0,
    show_default=True,
    help="Seconds to wait for the answer (--device: the network's; --refresh: the daemon's).",
)
@click.option("--pin", envvar="SMSD_PIN", help="SIM PIN if the SIM asks for one.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_ctx
@command_edge
def modem_balance(
    ctx: Context,
    device: str | None,
    code: str | None,
    refresh: bool,
    name: str | None,
    wait: float,
    pin: str | None,
    as_json: bool,
) -> None:
    """The SIM's balance by USSD: the network's answer, its amount and currency.

    With --device the port is opened and the network asked now (exit code 3 when the modem or
    the network gives no usable answer). Otherwise this shows the last balance the running
    daemon recorded per modem ([modem] balance_ussd, every balance_interval_hours);
    --refresh asks the daemon for a new reading through the database and waits for it.

    \b
    Examples:
      smsd modem balance --device /dev/ttyUSB0 --code '*100#' --json
      smsd modem balance --refresh
    """
    report: dict[str, dict[str, Any]]
    if device:
        settings = modem_settings(ctx, device, pin)[0]
        answer = _balance_now(settings, code or _config_code(ctx) or "*100#", min(wait, 60.0))
        report = {"modem0": _balance_json(answer)}
    else:
        found = _refresh(ctx, name, wait) if refresh else _daemon_balances(ctx)
        if not found:
            raise click.ClickException("no balance recorded yet: try --refresh or --device")
        report = {modem_name: _balance_json(b) for modem_name, b in found.items()}
        failed = [b.error for b in found.values() if b.error]
        if refresh and failed:
            fail(f"balance not read: {failed[0]}", EXIT_UNAVAILABLE)
    if as_json:
        echo_json(report)
        return
    for modem_name, entry in report.items():
        amount = f"{entry['amount']} {entry['currency'] or ''}".strip() if entry["amount"] else ""
        shown = entry["error"] or entry["text"]
        line = f"{modem_name}: {amount}{'  ' if amount else ''}{shown}"
        click.echo(safe(line))  # the network's own text


def _daemon_balances(ctx: Context) -> dict[str, Balance]:
    store = ctx.store(read_only=True)
    try:
        return store.balances.latest()
    finally:
        store.close()
