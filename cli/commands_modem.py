"""``smsd modem status`` and ``smsd doctor``: is the modem (and the installation) healthy?"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from cli.main import EXIT_UNAVAILABLE, EXIT_USER, Context, command_edge, pass_ctx
from cli.output import echo_json, to_jsonable

__all__ = ["register"]


def _settings(ctx: Context, device: str | None, pin: str | None) -> list[Any]:
    from modem.modem import ModemSettings

    if device:
        return [ModemSettings(url=device, name="modem0", pin=pin)]
    settings = list(ctx.config().modem_settings())
    if not settings:
        raise click.UsageError("no modem: give --device or [[modems]] in the config")
    return settings


def _query(settings: Any) -> Any:
    """Open the port, initialise, read the status, close: the daemon must not hold the port."""
    from modem.modem import Modem

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
        report = {s.name: to_jsonable(_query(s)) for s in _settings(ctx, device, pin)}
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


@dataclass
class Check:
    """One line of ``smsd doctor``."""

    name: str
    ok: bool
    detail: str


def _check_config(ctx: Context) -> tuple[Check, Any]:
    try:
        config = ctx.config()
    except Exception as exc:  # any failure here is the finding itself
        return Check("config", False, str(exc)), None
    return Check("config", True, ctx.config_path or "defaults / $SMSD_CONFIG"), config


def _check_database(ctx: Context) -> Check:
    try:
        store = ctx.store()
        store.data_version()
        store.close()
    except Exception as exc:
        return Check("database", False, f"{ctx.db}: {exc}")
    mode = stat.S_IMODE(os.stat(ctx.db).st_mode)
    if mode & 0o077:
        return Check("database", False, f"{ctx.db} is {oct(mode)}: should be 0600")
    return Check("database", True, f"{ctx.db} writable, mode 0600")


def _check_modem(settings: Any) -> list[Check]:
    name = settings.name
    url = settings.url
    if "://" not in url and not Path(url).exists():
        return [Check(f"{name} device", False, f"{url} does not exist (see ls /dev/serial/by-id)")]
    try:
        status = _query(settings)
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

    Run it with the daemon stopped (the modem port is exclusive). Exit code 0 when every
    check passes, 1 when a check fails, 3 when the modem cannot be reached.

    \b
    Example:
      sudo -u smsd /opt/smsd/venv/bin/smsd --config /etc/smsd/smsd.toml doctor
    """
    config_check, config = _check_config(ctx)
    checks = [config_check]
    if config is not None:
        checks.append(_check_database(ctx))
        for settings in _settings(ctx, device, None):
            checks.extend(_check_modem(settings))
    if as_json:
        echo_json([c.__dict__ for c in checks])
    else:
        for c in checks:
            click.echo(f"{'ok ' if c.ok else 'FAIL'}  {c.name:<20} {c.detail}")
    if not all(c.ok for c in checks):
        unreachable = any(c.name.endswith(("answers AT", "device")) and not c.ok for c in checks)
        raise SystemExit(EXIT_UNAVAILABLE if unreachable else EXIT_USER)


def register(group: click.Group) -> None:
    """Add ``modem`` and ``doctor`` to the top-level group."""
    group.add_command(modem)
    group.add_command(doctor)
