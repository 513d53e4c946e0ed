"""Power and faults for :class:`modem.sim.SimModem`: boot noise and MODEMS.md's failures.

=================  ===========================================================================
``reboot``         power cycle: echo on, CMEE 0, CNMI back to the profile's, PIN locked again,
                   boot noise; stored SMS survive (they are on the SIM)
``hang``           stop answering commands (counted, never answered; URCs still come) until
                   ``unhang`` or for ``seconds``
``hang_on``        answer normally until ``command`` (e.g. ``"AT+CMGR"``) arrives, then hang
                   on it as ``hang`` does (one shot): the command was received, never answered
``unplug``         close the pty (the reader gets EIO) and remove ``link``
``replug``         a NEW pty, ``link`` repointed to it (USB re-enumeration), then a boot
``garbage``        ``count`` random bytes, most of them not UTF-8
``cms_error``      the next ``count`` sends fail with ``+CMS ERROR: <code>`` (500 temporary)
``storage_full``   refuse new messages even with free slots (``on=False`` or ``storage_ok``
                   ends it; refused messages wait in the network and arrive afterwards)
``slow_send``      ``seconds`` between Ctrl-Z and ``+CMGS``
``prompt_timeout`` the next ``count`` AT+CMGS never get their ``> `` prompt
=================  ===========================================================================
"""

from __future__ import annotations

import random
import threading
from typing import TYPE_CHECKING, Any

import structlog

if TYPE_CHECKING:
    from modem.sim_commands import AtEngine
    from modem.sim_network import Network
    from modem.sim_port import PtyPort
    from modem.sim_profiles import Profile
    from modem.sim_storage import SmsStorage

__all__ = ["FAULTS", "FaultsMixin"]

log = structlog.get_logger(__name__)

FAULTS = (
    "reboot",
    "hang",
    "hang_on",
    "unhang",
    "unplug",
    "replug",
    "garbage",
    "cms_error",
    "storage_full",
    "storage_ok",
    "slow_send",
    "prompt_timeout",
)


class FaultsMixin:
    """The simulator's power cycle (boot lines, idle noise) and ``fault(name, **kw)``."""

    # Provided by SimModem:
    _lock: threading.RLock
    _port: PtyPort
    _rng: Any
    storage: SmsStorage
    network: Network
    hung: bool
    cmgs_delay: float
    profile: Profile
    engine: AtEngine
    noise: bool
    _epoch: int
    _booting: bool
    _busy: bool
    _pdu: bytearray | None
    _noise_rng: random.Random
    booted: threading.Event
    _inbuf: bytearray
    _line: bytearray
    _held: list[bytes]
    _counts: Any

    def _count_urc(self, name: str) -> None: ...  # pragma: no cover - SimModem's

    def _init_faults(self) -> None:
        self._cms_faults: list[int] = []
        self._prompt_faults = 0
        self._hang_timer: Any = None
        self._hang_on: str | None = None
        self._garbage_rng = random.Random(7)  # garbage differs from run to run never

    def _power_up(self) -> None:
        """Power-on state; input is ignored until the boot lines were sent."""
        self._epoch += 1
        self.engine.power_up()
        self.network.power_cycled()
        self._booting, self._busy, self.hung = True, False, False
        self.booted.clear()
        self._inbuf.clear()
        self._line.clear()
        self._pdu = None
        self._held.clear()
        epoch = self._epoch
        self._port.call_later(self.profile.boot_delay, lambda: self._booted(epoch))

    def _booted(self, epoch: int) -> None:
        if epoch != self._epoch:
            return
        self._booting = False
        self.booted.set()
        for line in self.profile.boot_lines:
            if line == "+CPIN: READY" and self.engine.sim_state != "READY":
                line = f"+CPIN: {self.engine.sim_state}"
            self._count_urc(line)
            self._port.write(f"\r\n{line}\r\n".encode())
        self._port.write(b"".join(self._held))  # URCs that came up during the boot
        self._held.clear()
        if self.noise and self.profile.noise_interval > 0:
            self._schedule_noise(epoch)

    def _schedule_noise(self, epoch: int) -> None:
        delay = self._noise_rng.expovariate(1 / self.profile.noise_interval)
        self._port.call_later(delay, lambda: self._idle_noise(epoch))

    def _idle_noise(self, epoch: int) -> None:
        if epoch != self._epoch:
            return
        if not self.hung and self._pdu is None and not self._busy:
            line = self._noise_rng.choice(self.profile.noise_lines)
            self._count_urc(line)
            self._port.write(f"\r\n{line}\r\n".encode())
        self._schedule_noise(epoch)

    def fault(self, name: str, **kw: Any) -> None:
        """Inject the named fault (see the module docstring); ``ValueError`` if unknown."""
        handler = getattr(self, f"_fault_{name}", None) if name in FAULTS else None
        if handler is None:
            raise ValueError(f"unknown fault {name!r} (known: {', '.join(FAULTS)})")
        with self._lock:
            handler(**kw)
        log.info("sim_fault_injected", fault=name, **kw)

    def _fault_reboot(self) -> None:
        self._power_up()

    def _fault_hang(self, seconds: float | None = None) -> None:
        self.hung = True
        if self._hang_timer is not None:
            self._hang_timer.cancel()
            self._hang_timer = None
        if seconds is not None:
            self._hang_timer = self._port.call_later(float(seconds), self._fault_unhang)

    def _fault_hang_on(self, command: str) -> None:
        self._hang_on = command.strip().upper()

    def _hang_on_hit(self, name: str) -> bool:
        """Called for each command received: True (and hung from now) if it is the trigger."""
        if self._hang_on is None or name.upper() != self._hang_on:
            return False
        self._hang_on = None
        self._counts["unanswered"] += 1
        self._fault_hang()
        log.info("sim_hung_on_command", command=name)
        return True

    def _fault_unhang(self) -> None:
        self.hung = False
        self._line.clear()  # what was typed into the hung modem is gone
        self._hang_timer = None

    def _fault_unplug(self) -> None:
        self._port.close_pty()

    def _fault_replug(self) -> None:
        if self._port.is_open:
            self._port.close_pty()
        self._port.open_pty()
        self._power_up()

    def _fault_garbage(self, count: int = 64) -> None:
        rng = self._garbage_rng
        # Mostly bytes >= 0x80 (never valid UTF-8 on their own), some control characters.
        data = bytes(
            rng.choice((rng.randrange(0x80, 0x100), rng.randrange(0, 0x20)))
            for _ in range(int(count))
        )
        self._port.write(data)

    def _fault_cms_error(self, code: int = 500, count: int = 1) -> None:
        self._cms_faults.extend([int(code)] * int(count))

    def _fault_storage_full(self, on: bool = True) -> None:
        self.storage.full_override = bool(on)
        if not on:
            self.network.slot_freed()

    def _fault_storage_ok(self) -> None:
        self._fault_storage_full(on=False)

    def _fault_slow_send(self, seconds: float = 5.0) -> None:
        self.cmgs_delay = float(seconds)

    def _fault_prompt_timeout(self, count: int = 1) -> None:
        self._prompt_faults += int(count)
