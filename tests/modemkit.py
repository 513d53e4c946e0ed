"""Helpers for the Modem tests on a scripted pty peer: a fake PDU and a URC collector."""

from __future__ import annotations

import queue
from dataclasses import dataclass

from modem.at import Urc

OK = b"\r\nOK\r\n"


@dataclass(frozen=True)
class FakePdu:
    """Stands in for modem.pdu.EncodedPdu (the Modem only needs hex and tpdu_length)."""

    hex: str
    tpdu_length: int


PDU = FakePdu("00" + "11000B914477009001F20000AA05E8329BFD06", 19)


class Urcs:
    """Collects URCs from the reader thread; lets a test wait for one."""

    def __init__(self) -> None:
        self.queue: queue.Queue[Urc] = queue.Queue()

    def __call__(self, urc: Urc) -> None:
        self.queue.put(urc)

    def wait(self, name: str, timeout: float = 5.0) -> Urc:
        """The next URC called ``name`` (others are skipped); fails after ``timeout``."""
        while True:
            urc = self.queue.get(timeout=timeout)
            if urc.name == name:
                return urc
