"""``smsd modem status``: what the daemon recorded per modem, or ask a free port now."""

from __future__ import annotations

from typing import Any

import click

from cli.context import Context, command_edge, pass_ctx
from cli.output import echo_json, to_jsonable
from modem.modem import Modem
from modem.settings import ModemSettings
from modem.status import ModemStatus

__all__ = ["modem", "modem_settings", "query_modem"]


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
    Example:
      smsd modem status --device /dev/serial/by-id/usb-HUAWEI_Mobile-if00-port0
    """


def _print_report(report: dict[str, dict[str, Any]]) -> None:
    for name, status in report.items():
        click.echo(f"{name}:")
        for key, value in status.items():
            shown = "" if value is None else value
            if key == "signal_dbm" and value is not None:
                shown = f"{value} dBm"
            click.echo(f"  {key:<14} {shown}")


def _daemon_report(ctx: Context) -> dict[str, dict[str, Any]]:
    store = ctx.store()
    try:
        return {s.pop("name"): to_jsonable(s) for s in store.modems.modem_statuses()}
    finally:
        store.close()


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
    Exit code 3 when a modem cannot be reached.

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
            raise click.ClickException(
                "no modem report yet: is the daemon running? (or use --device/--live)"
            )
    if as_json:
        echo_json(report)
    else:
        _print_report(report)
