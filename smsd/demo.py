"""``make demo``: the daemon on a simulated modem, and a handset getting its code and reply.

Everything runs for real: the simulator serves a pseudo-terminal, the daemon opens it with
pyserial exactly as it would open /dev/serial/by-id/..., and every step is the ``smsd``
command an operator would type. Nothing is left behind but a temporary folder.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from modem.sim import control_request

__all__ = ["main"]

HANDSET = "+447700900123"


def _smsd(*args: str) -> list[str]:
    return [sys.executable, "-c", "from cli.main import main; main()", *args]


def _show(args: list[str], env: dict[str, str]) -> str:
    print(f"\n$ smsd {shlex.join(args)}")
    result = subprocess.run(_smsd(*args), env=env, capture_output=True, text=True, check=False)
    out = result.stdout.rstrip()
    if out:
        print(out)
    if result.returncode != 0:
        print(result.stderr.rstrip(), file=sys.stderr)
        raise SystemExit(f"demo step failed: smsd {shlex.join(args)}")
    return out


def _wait_for(predicate: Any, what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)  # polling a file or a socket from a demo script, not synchronising tests
    raise SystemExit(f"demo timed out waiting for {what}")


def _sent(control: str) -> list[dict[str, Any]]:
    try:
        return list(control_request(control, {"op": "sent"}).get("sent", []))
    except OSError:
        return []


def _handset_view(control: str, count: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = _wait_for(
        lambda: (m := _sent(control)) and len(m) >= count and m, "replies"
    )
    return messages


def _print_handset(messages: list[dict[str, Any]]) -> None:
    print(f"\n  Handset {HANDSET} received:")
    for message in messages:
        print(f"    ┃ {message['text']}")


def main() -> None:
    """Run the demo end to end and print what a person would see."""
    with tempfile.TemporaryDirectory(prefix="smsd-demo-") as tmp:
        db, link = str(Path(tmp, "demo.db")), str(Path(tmp, "sim0"))
        control = link + ".ctl"
        env = {**os.environ, "SMSD_DB": db, "SMSD_LOG_FORMAT": "console"}
        print("smsactive demo: a simulated modem, the daemon, and one handset.")
        _show(["company", "add", "Pizza Place"], env)
        _show(
            [
                "code",
                "add",
                "Pizza Place",
                "PIZZA",
                "--reply",
                "Pizza Place: 2-for-1 on Tuesdays. Show code {user_code} at the till.",
            ],
            env,
        )
        _show(["company", "add", "Coffee Corner"], env)
        _show(
            [
                "code",
                "add",
                "Coffee Corner",
                "COFFEE",
                "--reply",
                "Coffee Corner: your 5th coffee is on us.",
            ],
            env,
        )
        procs: list[subprocess.Popen[str]] = []
        try:
            print(f"\n$ smsd sim --link {link} &")
            procs.append(
                subprocess.Popen(
                    _smsd("sim", "--link", link), env=env, text=True, stdout=subprocess.DEVNULL
                )
            )
            _wait_for(lambda: os.path.exists(control), "the simulator")
            print(f"$ smsd run --device {link} &")
            log = open(Path(tmp, "daemon.log"), "w")  # noqa: SIM115 - closed with the folder
            procs.append(
                subprocess.Popen(
                    _smsd("run", "--device", link), env=env, text=True, stderr=log, stdout=log
                )
            )
            _wait_for(lambda: "daemon_ready" in Path(tmp, "daemon.log").read_text(), "the daemon")
            _show(["sim", "deliver", "--link", link, HANDSET, "pizza"], env)
            _print_handset(_handset_view(control, 2))
            print("\n  (first contact: the user code came once, then the reply)")
            _show(["sim", "deliver", "--link", link, HANDSET, "Coffee!"], env)
            _print_handset(_handset_view(control, 3)[2:])
            print("\n  (second business: no new user code)")
            _show(["history", "Pizza Place"], env)
            _show(["history", "Coffee Corner"], env)
            print("\nThe businesses see the caller only by user code, never the phone number.")
        finally:
            for proc in reversed(procs):
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=30)


if __name__ == "__main__":
    main()
