"""The simulator's control socket: JSON lines over a unix socket.

Each request is one JSON object on one line, answered by one JSON object on one line::

    {"op": "deliver", "from": "+447700900123", "text": "PIZZA"}   -> {"ok": true, "parts": 1}
    {"op": "sent"}                                                -> {"ok": true, "sent": [...]}
    {"op": "fault", "name": "reboot"}                             -> {"ok": true}
    {"op": "stats"}                                               -> {"ok": true, "stats": {...}}
    {"op": "nonsense"}                                            -> {"ok": false, "error": "..."}

A connection may carry any number of requests. :class:`ControlServer` only moves lines;
what each ``op`` does is the handler's business (:func:`dispatch` on a :class:`Controllable`).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
from collections.abc import Callable
from typing import Any, Protocol

import structlog

from modem.errors import ModemError

__all__ = ["ControlServer", "Controllable", "SimNotRunning", "control_request", "dispatch"]

log = structlog.get_logger(__name__)

Handler = Callable[[dict[str, Any]], dict[str, Any]]
MAX_LINE = 1 << 20  # a request bigger than this is not a control request


class Controllable(Protocol):
    """What :func:`dispatch` needs of the simulator (:class:`modem.sim.SimModem`)."""

    link: str | None

    def deliver(
        self, sender: str, text: str, *, direct: bool = False, order: list[int] | None = None
    ) -> int: ...
    def sent(self) -> list[dict[str, Any]]: ...
    def sent_pdus(self) -> list[str]: ...
    def fault(self, name: str, **kw: Any) -> None: ...
    def status_report(
        self, outcome: str = "delivered", *, reference: int | None = None, status: int | None = None
    ) -> None: ...
    @property
    def forbidden(self) -> list[str]: ...
    @property
    def stats(self) -> dict[str, int]: ...
    @property
    def command_counts(self) -> dict[str, int]: ...
    @property
    def profile_name(self) -> str: ...
    @property
    def device_path(self) -> str: ...


def dispatch(sim: Controllable, request: dict[str, Any]) -> dict[str, Any]:
    """Answer one control request: ``deliver``, ``sent``, ``fault``, ``stats``, ``status_report``,
    ``info``. Bad requests raise ``ValueError``/``KeyError``/``TypeError`` (answered as errors)."""
    op = request.get("op")
    try:
        if op == "deliver":
            parts = sim.deliver(
                str(request["from"]),
                str(request["text"]),
                direct=bool(request.get("direct", False)),
                order=request.get("order"),
            )
            return {"ok": True, "parts": parts}
        if op == "sent":
            return {"ok": True, "sent": sim.sent(), "pdus": sim.sent_pdus()}
        if op == "fault":
            kw = {k: v for k, v in request.items() if k not in ("op", "name")}
            sim.fault(str(request["name"]), **kw)
            return {"ok": True}
        if op == "stats":
            return {
                "ok": True,
                "stats": sim.stats,
                "commands": sim.command_counts,
                "forbidden": list(sim.forbidden),
            }
        if op == "status_report":
            sim.status_report(
                str(request.get("outcome", "delivered")),
                reference=request.get("reference"),
                status=request.get("status"),
            )
            return {"ok": True}
        if op in ("info", "ping"):
            return {
                "ok": True,
                "device": sim.device_path,
                "link": sim.link,
                "profile": sim.profile_name,
            }
    except ModemError as exc:  # e.g. a sender the PDU encoder refuses
        return {"ok": False, "error": str(exc)}
    return {"ok": False, "error": f"unknown op {op!r}"}


class SimNotRunning(ConnectionError):
    """No simulator is listening on the control path."""


def control_request(
    control_path: str, request: dict[str, Any], timeout: float = 10.0
) -> dict[str, Any]:
    """Send one request to the simulator at ``control_path`` and return its JSON answer.

    Raises :class:`SimNotRunning` (a ``ConnectionError``) when nothing listens there.
    """
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    except OSError as exc:  # pragma: no cover - only when the OS refuses a socket at all
        raise SimNotRunning(f"cannot create a unix socket: {exc}") from exc
    with sock:
        sock.settimeout(timeout)
        try:
            sock.connect(control_path)
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            raise SimNotRunning(
                f"no simulated modem is listening on {control_path} "
                f"(start one with `smsd sim`): {exc.strerror}"
            ) from exc
        sock.sendall(json.dumps(request).encode() + b"\n")
        line = _read_line(sock.makefile("rb"))
    if line is None:
        raise SimNotRunning(f"the simulated modem on {control_path} closed the connection")
    answer = json.loads(line)
    if not isinstance(answer, dict):
        raise SimNotRunning(f"unexpected answer from {control_path}: {line[:80]!r}")
    return answer


def _read_line(stream: Any) -> bytes | None:
    line: bytes = stream.readline(MAX_LINE)
    return line if line.endswith(b"\n") else None


class ControlServer:
    """Accepts connections on a unix socket and answers each JSON line with ``handler``."""

    def __init__(self, path: str, handler: Handler) -> None:
        self.path = path
        self._handler = handler
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()

    def start(self) -> None:
        """Bind (replacing a stale socket file), restrict to the owner, and serve in a thread."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        # Whoever can connect can inject SMS: only the owner may (umask race closed by fchmod).
        os.fchmod(sock.fileno(), 0o600)
        sock.bind(self.path)
        os.chmod(self.path, 0o600)
        sock.listen(8)
        self._sock = sock
        self._thread = threading.Thread(target=self._accept_loop, name="sim-control", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting and remove the socket file."""
        self._closing.set()
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
            self._sock.close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    def _accept_loop(self) -> None:
        assert self._sock is not None
        while not self._closing.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                break  # the socket was closed by stop()
            threading.Thread(
                target=self._serve, args=(conn,), name="sim-control-conn", daemon=True
            ).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as reader:
            while not self._closing.is_set():
                try:
                    line = _read_line(reader)
                except OSError:
                    return
                if line is None:
                    return
                answer = self._answer(line)
                try:
                    conn.sendall(json.dumps(answer).encode() + b"\n")
                except OSError:
                    return

    def _answer(self, line: bytes) -> dict[str, Any]:
        try:
            request = json.loads(line)
        except ValueError as exc:
            return {"ok": False, "error": f"not JSON: {exc}"}
        if not isinstance(request, dict):
            return {"ok": False, "error": "a request is a JSON object"}
        try:
            return self._handler(request)
        except (ValueError, TypeError, KeyError) as exc:
            # Bad requests are the client's problem: answer them, keep serving.
            return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        except Exception as exc:  # a bug in the simulator must not kill the socket thread
            log.exception("sim_control_failed", op=request.get("op"))
            return {"ok": False, "error": f"internal error: {exc}"}
