"""A simulated GSM modem on a pseudo-terminal: part of the product, so ``smsd`` runs anywhere.

The daemon opens :attr:`SimModem.device_path` (or the ``link`` symlink) with real pyserial
and talks AT to it exactly as to a USB stick. Other processes steer the simulator through
a JSON-lines unix socket (:mod:`modem.sim.control`, :func:`control_request`)::

    sim = SimModem("huawei", link="/tmp/smsd-sim0")      # control: /tmp/smsd-sim0.ctl
    sim.start()
    sim.deliver("+447700900123", "PIZZA")                  # -> +CMTI: "SM",0
    sim.sent()                                             # what the daemon sent, reassembled
    sim.fault("reboot")                                    # hang, unplug, garbage, cms_error...

Parts, composed here: :class:`~modem.sim.port.PtyPort` (pty and thread),
:class:`~modem.sim.wire.Wire` (bytes in, replies and URCs out),
:class:`~modem.sim.commands.AtEngine` (AT interpreter), :class:`~modem.sim.storage.SmsStorage`
(SIM slots), :class:`~modem.sim.network.Network` (incoming, +CNMA, status reports) and
:class:`~modem.sim.faults.Faults` (power cycle and faults). One lock guards all of it; the
port thread runs input and timers under it.
"""

from __future__ import annotations

import random
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from types import FrameType
from typing import Any

import structlog

from modem.sim.commands import AtEngine, Reply
from modem.sim.control import ControlServer, dispatch
from modem.sim.faults import Faults
from modem.sim.link import LinkClaim
from modem.sim.network import OUTCOMES, Network, deliver_pdus, reassemble
from modem.sim.port import PtyPort
from modem.sim.profiles import get_profile
from modem.sim.storage import SmsStorage
from modem.sim.ussd import SimUssd
from modem.sim.wire import Wire

__all__ = ["SimModem"]

log = structlog.get_logger(__name__)


class SimModem:
    """A GSM modem simulated on a pty, with faults on demand and a control socket."""

    def __init__(
        self,
        profile: str = "generic",
        *,
        link: str | None = None,
        control: str | None = None,
        storage_size: int | None = None,
        cmgs_delay: float = 0.0,
        own_number: str = "+447700900000",
        pin: str | None = None,
        pin_delay: float = 0.5,
        seed: int = 0,
        noise: bool = True,
        urc_mid_reply: float | None = None,
    ) -> None:
        self.profile = get_profile(profile)
        self.link = link
        self.control_path: str | None = control or (link + ".ctl" if link else None)
        self.pin_delay = pin_delay
        self._lock = threading.RLock()
        rng = random.Random(seed)  # URC holding and mid-reply noise: reproducible
        self._counts: Counter[str] = Counter()
        self.storage = SmsStorage(
            storage_size or self.profile.storage_size, self.profile.index_base
        )
        reports = self.profile.report_memory
        self.engine = AtEngine(
            self.profile,
            self.storage,
            self,
            pin=pin,
            own_number=own_number,
            reports=SmsStorage(reports, self.profile.index_base) if reports else None,
        )
        self._port = PtyPort(self._lock, self._on_data, link)
        self._link_claim = LinkClaim(link) if link else None
        self.network = Network(self.engine, self.storage, self._port, self._emit_urc, self._counts)
        self.ussd = SimUssd(self.engine, self._port, self._emit_urc)
        self.wire = Wire(
            self._port,
            self.engine,
            self.network,
            self.profile,
            self._counts,
            rng,
            urc_mid_reply=self.profile.urc_mid_reply if urc_mid_reply is None else urc_mid_reply,
            cmgs_delay=cmgs_delay or self.profile.cmgs_delay,
            noise=noise,
        )
        self.booted = threading.Event()  # set after the boot lines, cleared by a power cycle
        self.faults = Faults(
            self._lock,
            self.wire,
            self.engine,
            self.network,
            self.storage,
            self.booted,
            noise_rng=random.Random(seed + 1),  # idle noise timing, apart from the above
            ussd=self.ussd,
        )
        self._control = (
            ControlServer(self.control_path, partial(dispatch, self)) if self.control_path else None
        )
        self._stopped = threading.Event()
        self._concat_ref = rng.randrange(256)

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def profile_name(self) -> str:
        """The dialect profile's name."""
        return self.profile.name

    @property
    def device_path(self) -> str:
        """The pty slave the daemon opens (changes on every ``replug``)."""
        return self._port.device_path

    def start(self) -> str:
        """Open the pty, serve it and the control socket, wait for the boot; return the path."""
        if self._link_claim is not None:
            self._link_claim.claim()  # LinkInUse before the link or control socket is touched
        path = self._port.open_pty()
        self._port.start()
        with self._lock:
            self.faults.power_up()
        if self._control is not None:
            self._control.start()
        # Callers open the port right away: let the first boot finish so no command is lost.
        self.booted.wait(self.profile.boot_delay + 5.0)
        log.info("sim_started", profile=self.profile.name, device=path, control=self.control_path)
        return path

    def stop(self) -> None:
        """Close the control socket and the pty; ``wait()`` returns."""
        if self._stopped.is_set():
            return
        if self._control is not None:
            self._control.stop()
        self._port.stop()
        if self._link_claim is not None:
            self._link_claim.release()
        self._stopped.set()
        log.info("sim_stopped", profile=self.profile.name)

    def wait_booted(self, timeout: float | None = None) -> bool:
        """Block until the modem finished booting (input before that is ignored, as on a real
        modem); True if it did within ``timeout``."""
        return self.booted.wait(timeout)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until :meth:`stop` was called (or ``timeout``); True if it was."""
        return self._stopped.wait(timeout)

    def serve_forever(self) -> None:
        """Block until SIGTERM/SIGINT (when called from the main thread) or :meth:`stop`."""
        previous: dict[signal.Signals, Any] = {}
        if threading.current_thread() is threading.main_thread():

            def _on_signal(signum: int, frame: FrameType | None) -> None:
                threading.Thread(target=self.stop, name="sim-stop").start()

            for sig in (signal.SIGTERM, signal.SIGINT):
                previous[sig] = signal.signal(sig, _on_signal)
        try:
            while not self.wait(0.5):  # short waits keep the main thread responsive to signals
                pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def __enter__(self) -> SimModem:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _on_data(self, data: bytes) -> None:
        self.wire.feed(data)  # port thread, lock held

    def _emit_urc(self, name: str, chunk: bytes) -> None:
        self.wire.emit_urc(name, chunk)  # the network's URCs (lock held)

    # -- Hooks for the AT engine -----------------------------------------------------------------

    def ack(self) -> bool:
        """``AT+CNMA`` arrived (engine hook)."""
        return self.network.ack()

    def slot_freed(self) -> None:
        """A message was deleted (engine hook)."""
        self.network.slot_freed()

    def ussd_request(self, args: str) -> Reply:
        """``AT+CUSD=...`` arrived (engine hook)."""
        return self.ussd.request(args)

    def pin_accepted(self) -> None:
        """The SIM is unlocked but busy for ``pin_delay`` seconds (engine hook)."""
        self.engine.sim_busy_until = time.monotonic() + self.pin_delay

    # -- public API ------------------------------------------------------------------------

    def fault(self, name: str, **kw: Any) -> None:
        """Inject the named fault (see :mod:`modem.sim.faults`); ``ValueError`` if unknown."""
        self.faults.inject(name, **kw)

    @property
    def hung(self) -> bool:
        """True while the modem does not answer commands (the ``hang`` faults)."""
        return self.wire.hung

    @property
    def forbidden(self) -> list[str]:
        """Command lines the daemon must never send (bulk deletes), as received."""
        return self.wire.forbidden

    def tap(
        self,
        *,
        on_command: Callable[[str], None] | None = None,
        on_urc: Callable[[str], None] | None = None,
    ) -> None:
        """Watch the wire: ``on_command(line)`` for each command line received, ``on_urc(name)``
        for each URC emitted. They run on the port thread under the lock: keep them quick."""
        with self._lock:
            self.wire.on_command, self.wire.on_urc = on_command, on_urc

    def deliver(
        self, sender: str, text: str, *, direct: bool = False, order: list[int] | None = None
    ) -> int:
        """An SMS from ``sender`` arrives; returns how many parts it took.

        ``direct`` forces ``+CMT`` routing whatever CNMI says; ``order`` lists the 1-based part
        numbers in the order the network delivers them (multipart out of order).
        """
        with self._lock:
            self._concat_ref = (self._concat_ref + 1) % 256
            pdus = deliver_pdus(sender, text, self._concat_ref)
            total = len(pdus)
            seqs = list(order) if order is not None else list(range(1, total + 1))
            if sorted(seqs) != list(range(1, total + 1)):
                raise ValueError(f"order must be a permutation of 1..{total}, got {order}")
            for seq in seqs:
                self.network.incoming(pdus[seq - 1], direct=direct)
            self._counts["delivered"] += 1
        log.info("sim_sms_delivered", parts=total, direct=direct)
        log.debug("sim_sms_delivered_from", pii_sender=sender)
        return total

    def sent(self) -> list[dict[str, Any]]:
        """What the daemon sent: ``[{"to","text","parts","references","status_report",...}]``."""
        with self._lock:
            return reassemble(list(self.network.sent))

    def sent_pdus(self) -> list[str]:
        """Every accepted SUBMIT PDU as the daemon wrote it, in order."""
        with self._lock:
            return [part.pdu for part in self.network.sent]

    def status_report(
        self, outcome: str = "delivered", *, reference: int | None = None, status: int | None = None
    ) -> None:
        """Without ``reference``: the outcome of future reports ("none" for no reports).
        With it: report now on the last message sent with that TP-MR."""
        if outcome not in OUTCOMES and outcome != "none":
            raise ValueError(f"outcome must be one of {sorted(OUTCOMES)} or 'none'")
        with self._lock:
            if reference is None:
                self.network.report_outcome = outcome
            else:
                code = OUTCOMES.get(outcome, 0) if status is None else status
                self.network.report_for(reference, code)

    @property
    def stats(self) -> dict[str, int]:
        """Counters: "commands", "urcs", "forbidden", "sent", "stored", "memory_full"..."""
        with self._lock:
            base = dict.fromkeys(
                (
                    "commands",
                    "urcs",
                    "forbidden",
                    "sent",
                    "delivered",
                    "stored",
                    "memory_full",
                    "acks",
                    "cms_errors",
                ),
                0,
            )
            base.update(self._counts)
            base["pending"] = len(self.network.refused)
            base["storage_used"] = self.storage.used
            reports = self.engine.reports
            base["report_memory_used"] = reports.used if reports is not None else 0
            return base

    @property
    def command_counts(self) -> dict[str, int]:
        """Commands received per name (``AT+CMGL``, ``ATE``, ``AT``...)."""
        with self._lock:
            return dict(self.wire.per_command)
