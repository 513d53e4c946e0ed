"""``smsd run``: the daemon."""

from __future__ import annotations

import os
from datetime import timedelta

import click

from cli.context import Context, command_edge, pass_ctx
from cli.instance import check_device_free, lock_database
from modem.settings import ModemSettings
from smsd.config import Config
from smsd.daemon_memory import defer_unused_imports
from store.backend import is_postgres_url

__all__ = ["run"]


def _modem_settings(
    config: Config, devices: tuple[str, ...], pin: str | None
) -> list[ModemSettings]:
    if not devices:
        return list(config.modem_settings())
    return [ModemSettings(url=url, name=f"modem{i}", pin=pin) for i, url in enumerate(devices)]


@click.command()
@click.option(
    "--device",
    "devices",
    multiple=True,
    metavar="PATH|URL|sim",
    help="Modem port (/dev/serial/by-id/..., a pyserial URL) or 'sim'; repeat for several.",
)
@click.option("--pin", envvar="SMSD_PIN", help="SIM PIN (better: in the config file, 0640).")
@click.option(
    "--sim-link",
    default="/tmp/smsd-sim0",
    show_default=True,
    help="With --device sim: where the built-in simulator links its pty.",
)
@click.option(
    "--sim-profile",
    default="generic",
    show_default=True,
    type=click.Choice(["generic", "huawei", "simcom", "quectel", "telit"]),
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default=None,
    help="Default from the config ([log] level), else info.",
)
@pass_ctx
@command_edge
def run(
    ctx: Context,
    devices: tuple[str, ...],
    pin: str | None,
    sim_link: str,
    sim_profile: str,
    log_level: str | None,
) -> None:
    """Run the gateway daemon until SIGTERM.

    \b
    Examples:
      smsd run --device sim                                  # built-in simulated modem
      smsd run --device /dev/serial/by-id/usb-HUAWEI_...-if00-port0
      smsd run --config /etc/smsd/smsd.toml                  # modems from the config
    """
    # Idle memory (issue 12): stand-ins for what structlog imports and the daemon never uses,
    # in place before the daemon's modules import structlog, so they come after this line.
    defer_unused_imports()
    from smsd.daemon import Daemon, DaemonOptions
    from smsd.logs import configure_logging

    config = ctx.config()
    configure_logging(log_level or config.log_level, config.log_format)
    os.umask(0o077)
    ctx.store(create=True).close()  # create and migrate before the lock, then hold it
    if not is_postgres_url(ctx.db):  # PostgreSQL: one daemon per host, claims keep them apart
        lock_database(ctx.db)  # one daemon per database: held until this process exits
    for url in (d for d in devices if d != "sim"):
        check_device_free(url)
    sim = None
    if "sim" in devices:
        # Only with --device sim: a daemon on real modems never loads the simulator (idle RSS).
        from modem.sim import SimModem

        sim = SimModem(sim_profile, link=sim_link)
        path = sim.start()
        devices = tuple(path if d == "sim" else d for d in devices)
    options = DaemonOptions(
        db_path=ctx.db,
        modems=_modem_settings(config, devices, pin),
        rules_loader=lambda: ctx.config().rules(),
        policy=config.retry_policy(),
        timers=config.worker_timers(),
        partial_timeout=config.partial_timeout,
        default_region=config.gateway.default_region,
        host=config.gateway.host,
        claim_timeout=timedelta(seconds=config.outgoing.claim_timeout_s),
        broadcast=config.broadcast_policy(),
        broadcast_loader=lambda: ctx.config().broadcast_policy(),
    )
    if not options.modems:
        raise click.UsageError("no modem: give --device or [[modems]] in the config")
    for modem in options.modems:
        if not devices:
            check_device_free(modem.url)
    daemon = Daemon(options)
    daemon.install_signal_handlers()
    try:
        code = daemon.run()
    finally:
        if sim is not None:
            sim.stop()
    raise SystemExit(code)
