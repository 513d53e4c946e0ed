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
``fill_reports``   fill the status-report memory "SR" (Huawei-style profiles) with reports
                   for messages sent before: further reports are lost until slots are freed
``ussd``           what the next USSD request gets: ``text`` for ``code``, ``mode`` 0/1, 2
                   (ended), 4 (not supported) or None (never answered)
``reboot``         with ``seconds``: the modem stays silent that long before its boot lines
=================  ===========================================================================
"""

from __future__ import annotations

import random
import threading
from typing import Any

import structlog

from modem.sim.commands import AtEngine
from modem.sim.network import Network
from modem.sim.port import PtyPort
from modem.sim.profiles import Profile
from modem.sim.storage import SmsStorage
from modem.sim.ussd import SimUssd
from modem.sim.wire import Wire

__all__ = ["FAULTS", "Faults"]

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
    "fill_reports",
    "ussd",
)


class Faults:
    """The simulator's power cycle (boot lines, idle noise) and :meth:`inject`."""

    def __init__(
        self,
        lock: threading.RLock,
        wire: Wire,
        engine: AtEngine,
        network: Network,
        storage: SmsStorage,
        booted: threading.Event,
        *,
        noise_rng: random.Random,
        ussd: SimUssd,
    ) -> None:
        self._lock = lock
        self._port: PtyPort = wire.port
        self._profile: Profile = wire.profile
        self.wire, self.engine, self.network, self.storage = wire, engine, network, storage
        self.booted = booted  # set after the boot lines, cleared by a power cycle
        self._noise_rng = noise_rng  # idle noise timing, apart from the wire's randomness
        self.ussd = ussd
        self._boot_delay: float | None = None  # a reboot's own delay, once
        self._garbage_rng = random.Random(7)  # garbage differs from run to run never

    def power_up(self) -> None:
        """Power-on state; input is ignored until the boot lines were sent."""
        epoch = self.wire.power_up()
        self.engine.power_up()
        self.network.power_cycled()
        self.booted.clear()
        delay = self._profile.boot_delay if self._boot_delay is None else self._boot_delay
        self._boot_delay = None
        self._port.call_later(delay, lambda: self._booted(epoch))

    def _booted(self, epoch: int) -> None:
        if epoch != self.wire.epoch:
            return
        self.booted.set()
        lines = list(self._profile.boot_lines)
        if self.engine.sim_state != "READY":
            lines = [f"+CPIN: {self.engine.sim_state}" if x == "+CPIN: READY" else x for x in lines]
        self.wire.booted(lines)
        if self.wire.noise and self._profile.noise_interval > 0:
            self._schedule_noise(epoch)

    def _schedule_noise(self, epoch: int) -> None:
        delay = self._noise_rng.expovariate(1 / self._profile.noise_interval)
        self._port.call_later(delay, lambda: self._idle_noise(epoch))

    def _idle_noise(self, epoch: int) -> None:
        if epoch != self.wire.epoch:
            return
        if self.wire.idle:
            line = self._noise_rng.choice(self._profile.noise_lines)
            self.wire.count_urc(line)
            self._port.write(f"\r\n{line}\r\n".encode())
        self._schedule_noise(epoch)

    def inject(self, name: str, **kw: Any) -> None:
        """Inject the named fault (see the module docstring); ``ValueError`` if unknown."""
        handler = getattr(self, f"_fault_{name}", None) if name in FAULTS else None
        if handler is None:
            raise ValueError(f"unknown fault {name!r} (known: {', '.join(FAULTS)})")
        with self._lock:
            handler(**kw)
        log.info("sim_fault_injected", fault=name, **kw)

    def _fault_reboot(self, seconds: float | None = None) -> None:
        self._boot_delay = None if seconds is None else float(seconds)
        self.power_up()

    def _fault_fill_reports(self, reference: int = 200) -> None:
        self.network.fill_reports(int(reference))

    def _fault_ussd(
        self, code: str = "*100#", text: str | None = None, mode: int | None = 0
    ) -> None:
        self.ussd.set_answer(code, text, None if mode is None else int(mode))

    def _fault_hang(self, seconds: float | None = None) -> None:
        self.wire.hang(seconds)

    def _fault_hang_on(self, command: str) -> None:
        self.wire.hang_on = command.strip().upper()

    def _fault_unhang(self) -> None:
        self.wire.unhang()

    def _fault_unplug(self) -> None:
        self._port.close_pty()

    def _fault_replug(self) -> None:
        if self._port.is_open:
            self._port.close_pty()
        self._port.open_pty()
        self.power_up()

    def _fault_garbage(self, count: int = 64) -> None:
        rng = self._garbage_rng
        # Mostly bytes >= 0x80 (never valid UTF-8 on their own), some control characters.
        data = bytes(
            rng.choice((rng.randrange(0x80, 0x100), rng.randrange(0, 0x20)))
            for _ in range(int(count))
        )
        self._port.write(data)

    def _fault_cms_error(self, code: int = 500, count: int = 1) -> None:
        self.wire.cms_errors.extend([int(code)] * int(count))

    def _fault_storage_full(self, on: bool = True) -> None:
        self.storage.full_override = bool(on)
        if not on:
            self.network.slot_freed()

    def _fault_storage_ok(self) -> None:
        self._fault_storage_full(on=False)

    def _fault_slow_send(self, seconds: float = 5.0) -> None:
        self.wire.cmgs_delay = float(seconds)

    def _fault_prompt_timeout(self, count: int = 1) -> None:
        self.wire.withhold_prompts += int(count)
