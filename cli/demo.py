"""``smsd demo`` (``make demo``): the daemon on a simulated modem, and a handset getting its code
and reply.

Everything runs for real: the simulator serves a pseudo-terminal from this process (as
``smsd sim`` would), the daemon is a child process (``smsd run``, READY over a notify socket:
:mod:`smsd.testing`) that opens it with pyserial exactly as it would open
/dev/serial/by-id/..., and every other step is the ``smsd`` command an operator would type,
run in this process. Nothing is left behind but a temporary folder.
"""

from __future__ import annotations

import shlex
import tempfile
from pathlib import Path
from typing import Any

import click

from modem.sim import SimModem
from smsd.testing import DaemonProcess, notify_socket, wait_until

__all__ = ["demo"]

HANDSET = "+447700900123"
PIZZA_REPLY = "Pizza Place: 2-for-1 on Tuesdays. Show code {user_code} at the till."
COFFEE_REPLY = "Coffee Corner: your 5th coffee is on us."


def _show(root: click.Command, db: Path, args: list[str]) -> None:
    """Print the command as typed, then run it in this process against the demo database."""
    click.echo(f"\n$ smsd {shlex.join(args)}")
    root.main(["--db", str(db), *args], prog_name="smsd", standalone_mode=False)


def _handset_view(sim: SimModem, count: int) -> list[dict[str, Any]]:
    """What the network delivered once ``count`` messages went out."""
    wait_until(lambda: len(sim.sent()) >= count, 30, "replies")
    messages: list[dict[str, Any]] = sim.sent()
    return messages


def _print_handset(messages: list[dict[str, Any]]) -> None:
    click.echo(f"\n  Handset {HANDSET} received:")
    for message in messages:
        click.echo(f"    ┃ {message['text']}")


def _story(root: click.Command, tmp: Path) -> None:
    db, link = tmp / "demo.db", str(tmp / "sim0")
    click.echo("smsactive demo: a simulated modem, the daemon, and one handset.")
    _show(root, db, ["company", "add", "Pizza Place"])
    _show(root, db, ["code", "add", "Pizza Place", "PIZZA", "--reply", PIZZA_REPLY])
    _show(root, db, ["company", "add", "Coffee Corner"])
    _show(root, db, ["code", "add", "Coffee Corner", "COFFEE", "--reply", COFFEE_REPLY])
    click.echo(f"\n$ smsd sim --link {link} &")
    with SimModem("generic", link=link) as sim, notify_socket(tmp) as listener:
        click.echo(f"$ smsd run --device {link} &")
        daemon = DaemonProcess(tmp, db, [link])
        try:
            daemon.start(listener)
            _show(root, db, ["sim", "deliver", "--link", link, HANDSET, "pizza"])
            _print_handset(_handset_view(sim, 2))
            click.echo("\n  (first contact: the user code came once, then the reply)")
            _show(root, db, ["sim", "deliver", "--link", link, HANDSET, "Coffee!"])
            _print_handset(_handset_view(sim, 3)[2:])
            click.echo("\n  (second business: no new user code)")
            _show(root, db, ["history", "Pizza Place"])
            _show(root, db, ["history", "Coffee Corner"])
            click.echo("\nThe businesses see the caller only by user code, never the phone number.")
        finally:
            daemon.stop()


@click.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Show the gateway end to end on a simulated modem, in a temporary folder.

    \b
    Example:
      smsd demo
    """
    with tempfile.TemporaryDirectory(prefix="smsd-demo-") as tmp:
        _story(ctx.find_root().command, Path(tmp))
