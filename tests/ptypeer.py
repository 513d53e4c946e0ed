"""A tiny scripted modem on the master side of a real pty, for Modem tests.

The Modem opens the slave path with real pyserial; this peer reads what it writes and answers
from a table. Replies are lists of steps: ``bytes`` are written, a ``threading.Event`` is
waited on (bounded) so a test decides exactly when a slow or late answer goes out. AT+CMGS
puts the peer into PDU input until Ctrl-Z (reply from the ``"<pdu>"`` entry) or ESC
(``"<esc>"``). ``send()`` injects bytes (URCs, garbage) at any moment; ``hang()`` stops
answering; ``unplug()`` closes the master so the Modem's reads fail like a pulled USB stick.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import tty
from collections import deque
from collections.abc import Callable

__all__ = ["PtyPeer", "Step"]

Step = bytes | threading.Event
Reply = list[Step] | Callable[[str], list[Step]]
GATE_LIMIT = 10.0  # a gate nobody opens must not hang the suite

DEFAULTS: dict[str, list[Step]] = {
    "AT": [b"\r\nOK\r\n"],
    "ATE0": [b"\r\nOK\r\n"],
    "AT+CMEE=1": [b"\r\nOK\r\n"],
    "AT+CPIN?": [b"\r\n+CPIN: READY\r\n\r\nOK\r\n"],
    "AT+CMGF=0": [b"\r\nOK\r\n"],
    'AT+CPMS="SM","SM","SM"': [b"\r\n+CPMS: 0,20,0,20,0,20\r\n\r\nOK\r\n"],
    "AT+CNMI=2,1,0,2,0": [b"\r\nOK\r\n"],
    "AT+CSMP?": [b"\r\n+CSMP: 17,167,0,0\r\n\r\nOK\r\n"],
    "AT+CSQ": [b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n"],
    "AT+CNMA": [b"\r\nOK\r\n"],
    "AT+CMGS=*": [b"\r\n> "],
    "<pdu>": [b"\r\n+CMGS: 42\r\n\r\nOK\r\n"],
    "<esc>": [],
}


class PtyPeer:
    """Scripted modem on a pty; ``path`` is the device the Modem opens."""

    def __init__(self, *, echo: bool = False, in_pdu_input: bool = False) -> None:
        self.master, self._slave = os.openpty()
        tty.setraw(self.master)
        self.path = os.ttyname(self._slave)
        self.echo = echo
        self.table: dict[str, Reply] = dict(DEFAULTS)
        self._once: dict[str, deque[Reply]] = {}
        self.received: list[str] = []  # commands, then "<pdu>:HEX" / "<esc>"
        self._arrived = threading.Condition()
        self._pdu_mode = in_pdu_input
        self._hung = False
        self._stop = threading.Event()
        self._write_lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, name="ptypeer", daemon=True)

    def __enter__(self) -> PtyPeer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- scripting ---------------------------------------------------------------------------

    def on(self, key: str, *steps: Step) -> None:
        """Answer ``key`` (exact, or a prefix ending in ``*``) with ``steps`` every time."""
        self.table[key] = list(steps)

    def on_call(self, key: str, reply: Callable[[str], list[Step]]) -> None:
        """Answer ``key`` by calling ``reply(command)``."""
        self.table[key] = reply

    def once(self, key: str, *steps: Step) -> None:
        """Answer the next ``key`` with ``steps``, then fall back to the table."""
        self._once.setdefault(key, deque()).append(list(steps))

    def send(self, data: bytes) -> None:
        """Write bytes to the Modem now (URCs, garbage)."""
        with self._write_lock:
            os.write(self.master, data)

    def hang(self) -> None:
        """Stop answering anything (a wedged Huawei stick)."""
        self._hung = True

    def unplug(self) -> None:
        """Close the master side: the Modem's next read fails with EIO."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        for fd in (self.master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)
        self.master = self._slave = -1

    def close(self) -> None:
        """Stop serving and close both ends."""
        if self.master != -1:
            self.unplug()

    def wait_for(self, predicate: Callable[[list[str]], bool], timeout: float = 5.0) -> bool:
        """Wait until ``predicate(received)`` holds; False after ``timeout``."""
        with self._arrived:
            return self._arrived.wait_for(lambda: predicate(self.received), timeout)

    def count(self, command: str) -> int:
        """How many times ``command`` was received."""
        return sum(1 for line in self.received if line == command)

    # -- serving -----------------------------------------------------------------------------

    def _serve(self) -> None:
        line = bytearray()
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self.master, 4096)
            except OSError:
                return
            for byte in data:
                self._byte(byte, line)

    def _byte(self, byte: int, line: bytearray) -> None:
        if self._pdu_mode:
            if byte in (0x1A, 0x1B):
                self._pdu_mode = False
                key = "<pdu>" if byte == 0x1A else "<esc>"
                if self.echo and byte == 0x1A:
                    self.send(bytes(line) + b"\x1a")
                self._record(f"<pdu>:{line.decode()}" if byte == 0x1A else key)
                line.clear()
                self._answer(key, key)
            else:
                line.append(byte)
            return
        if byte == 0x0D:
            text = bytes(c for c in line if 0x20 <= c < 0x7F).decode()
            line.clear()
            if text:
                self._command(text)
        elif byte != 0x0A:
            line.append(byte)

    def _command(self, text: str) -> None:
        if self.echo:
            self.send(text.encode() + b"\r")
        self._record(text)
        upper = text.upper()
        if upper == "ATE0":
            self.echo = False
        elif upper == "ATE1":
            self.echo = True
        if upper.startswith("AT+CMGS="):
            self._pdu_mode = True
        self._answer(text, text)

    def _record(self, text: str) -> None:
        with self._arrived:
            self.received.append(text)
            self._arrived.notify_all()

    def _answer(self, key: str, command: str) -> None:
        if self._hung:
            return
        reply = self._lookup(key)
        steps = reply(command) if callable(reply) else reply
        for step in steps:
            if isinstance(step, threading.Event):
                step.wait(GATE_LIMIT)
            elif not self._stop.is_set():
                self.send(step)

    def _lookup(self, key: str) -> Reply:
        pending = self._once.get(key)
        if pending:
            return pending.popleft()
        if key in self.table:
            return self.table[key]
        for pattern, reply in self.table.items():
            if pattern.endswith("*") and key.startswith(pattern[:-1]):
                return reply
        return [b"\r\nERROR\r\n"]
