"""``smsd sim``: run the simulated modem and talk to a running one."""

from __future__ import annotations

import signal
import threading
from typing import Any

import click

from cli.context import command_edge
from cli.output import echo_json, echo_table
from cli.render import safe
from modem.sim import SimModem, control_request

__all__ = ["DEFAULT_LINK", "sim"]

DEFAULT_LINK = "/tmp/smsd-sim0"
PROFILES = ("generic", "huawei", "simcom", "quectel", "telit")


def _control(link: str) -> str:
    return link + ".ctl"


def _request(link: str, request: dict[str, Any]) -> dict[str, Any]:
    return control_request(_control(link), request)


@click.group(invoke_without_command=True)
@click.option("--link", default=DEFAULT_LINK, show_default=True, help="Symlink to the pty.")
@click.option("--profile", type=click.Choice(PROFILES), default="generic", show_default=True)
@click.option(
    "--cmgs-delay",
    type=float,
    default=0.0,
    show_default=True,
    help="Seconds the simulated network takes per sent message.",
)
@click.option("--storage-size", type=click.IntRange(1, 255), default=20, show_default=True)
@click.pass_context
@command_edge
def sim(ctx: click.Context, link: str, profile: str, cmgs_delay: float, storage_size: int) -> None:
    """Run a simulated GSM modem on a pseudo-terminal (no hardware needed).

    \b
    Example:
      smsd sim --link /tmp/smsd-sim0 --profile huawei &
      smsd run --device /tmp/smsd-sim0 --db /tmp/demo.db &
      smsd sim deliver +447700900123 PIZZA
      smsd sim sent
    """
    if ctx.invoked_subcommand is not None:
        return
    modem = SimModem(profile, link=link, cmgs_delay=cmgs_delay, storage_size=storage_size)
    path = modem.start()
    click.echo(f"simulated {profile} modem on {path} (link {link}, control {modem.control_path})")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    modem.stop()


@sim.command()
@click.argument("sender")
@click.argument("text")
@click.option("--link", default=DEFAULT_LINK, show_default=True, help="The simulator's link.")
@click.option("--direct", is_flag=True, help="Deliver with +CMT instead of storing (+CMTI).")
@command_edge
def deliver(sender: str, text: str, link: str, direct: bool) -> None:
    """Text the simulated modem from SENDER (a handset number or an alphanumeric name).

    \b
    Example:
      smsd sim deliver +447700900123 PIZZA
    """
    reply = _request(link, {"op": "deliver", "from": sender, "text": text, "direct": direct})
    if not reply.get("ok", False):
        raise click.ClickException(str(reply.get("error", "the simulator refused")))
    click.echo(f"delivered {reply.get('parts', 1)} part(s) from {safe(sender)}")


@sim.command()
@click.option("--link", default=DEFAULT_LINK, show_default=True, help="The simulator's link.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@command_edge
def sent(link: str, as_json: bool) -> None:
    """List what the simulated modem was asked to send, decoded and reassembled.

    \b
    Example:
      smsd sim sent --json
    """
    messages = _request(link, {"op": "sent"}).get("sent", [])
    if as_json:
        echo_json(messages)
        return
    echo_table(messages, ["to", "parts", "text"], empty="nothing sent yet")
