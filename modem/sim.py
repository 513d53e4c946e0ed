"""A simulated GSM modem on a pseudo-terminal: part of the product, so ``smsd`` runs anywhere.

The daemon opens :attr:`SimModem.device_path` (or the ``link`` symlink) with real pyserial
and talks AT to it exactly as to a USB stick. Other processes steer the simulator through
a JSON-lines unix socket (:mod:`modem.sim_control`, :func:`control_request`)::

    sim = SimModem("huawei", link="/tmp/smsd-sim0")      # control: /tmp/smsd-sim0.ctl
    sim.start()
    sim.deliver("+447700900123", "PIZZA")                  # -> +CMTI: "SM",0
    sim.sent()                                             # what the daemon sent, reassembled
    sim.fault("reboot")                                    # hang, unplug, garbage, cms_error...

Modules: :mod:`~modem.sim_port` (pty and thread), :mod:`~modem.sim_commands` (AT
interpreter), :mod:`~modem.sim_storage` (SIM slots), :mod:`~modem.sim_network` (incoming,
+CNMA, status reports), :mod:`~modem.sim_profiles` (dialects), :mod:`~modem.sim_faults`.
One lock guards all of it; the port thread runs input and timers under it.
"""

from __future__ import annotations

import random
import signal
import threading
import time
from collections import Counter
from functools import partial
from types import FrameType
from typing import Any

import structlog

from modem.sim_commands import AtEngine, command_name
from modem.sim_control import ControlServer, SimNotRunning, control_request, dispatch
from modem.sim_faults import FaultsMixin
from modem.sim_network import OUTCOMES, Network, deliver_pdus, reassemble
from modem.sim_port import PtyPort, Timer
from modem.sim_profiles import PROFILES, get_profile
from modem.sim_storage import SmsStorage

__all__ = ["PROFILES", "SimModem", "SimNotRunning", "control_request"]

log = structlog.get_logger(__name__)

CR, LF, BS, CTRL_Z, ESC = 0x0D, 0x0A, 0x08, 0x1A, 0x1B
HOLD_MAX = 0.3  # a URC held back for injection into a reply goes out alone after this
MAX_INPUT = 1024  # longer command or PDU input is cut, as a modem's line buffer would


class SimModem(FaultsMixin):
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
        self.noise = noise
        self.urc_mid_reply = self.profile.urc_mid_reply if urc_mid_reply is None else urc_mid_reply
        self.cmgs_delay = cmgs_delay or self.profile.cmgs_delay
        self._lock = threading.RLock()
        self._rng = random.Random(seed)  # URC holding and mid-reply noise: reproducible
        self._noise_rng = random.Random(seed + 1)  # idle noise timing, apart from the above
        self._counts: Counter[str] = Counter()
        self._per_command: Counter[str] = Counter()
        self.forbidden: list[str] = []
        self.storage = SmsStorage(
            storage_size or self.profile.storage_size, self.profile.index_base
        )
        self.engine = AtEngine(self.profile, self.storage, self, pin=pin, own_number=own_number)
        self._port = PtyPort(self._lock, self._on_data, link)
        self.network = Network(self.engine, self.storage, self._port, self._emit_urc, self._counts)
        self._control = (
            ControlServer(self.control_path, partial(dispatch, self)) if self.control_path else None
        )
        self._stopped = threading.Event()
        self.booted = threading.Event()  # set after the boot lines, cleared by a power cycle
        self._epoch = 0  # bumped by every power cycle: timers of an older life do nothing
        self._booting = self._busy = self.hung = False
        self._inbuf = bytearray()
        self._line = bytearray()
        self._pdu: bytearray | None = None  # PDU input after the prompt, until Ctrl-Z / ESC
        self._pdu_length = 0
        self._held: list[bytes] = []
        self._held_timer: Timer | None = None
        self._concat_ref = self._rng.randrange(256)
        self._init_faults()

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
        path = self._port.open_pty()
        self._port.start()
        with self._lock:
            self._power_up()
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

    # -- the wire ------------------------------------------------------------------------

    def _on_data(self, data: bytes) -> None:
        """Bytes from the daemon (port thread, lock held)."""
        if self.hung or self._booting:
            self._counts["ignored_bytes"] += len(data)
            if self.hung:  # received but never answered: still counted as commands
                self._count_unanswered(data)
            return
        self._inbuf += data
        self._pump()

    def _pump(self) -> None:
        while self._inbuf and not self._busy and not self.hung:
            byte = self._inbuf.pop(0)
            if self._pdu is not None:
                self._pdu_byte(byte)
            else:
                self._command_byte(byte)

    def _count_unanswered(self, data: bytes) -> None:
        self._line += data
        *lines, rest = self._line.split(b"\r")
        self._line = bytearray(rest[-MAX_INPUT:])
        for raw in lines:
            line = raw.decode("latin-1").strip(" \n\x1b")
            if line[:2].upper() == "AT":
                self._counts["commands"] += 1
                self._counts["unanswered"] += 1
                self._per_command[command_name(line)] += 1

    def _command_byte(self, byte: int) -> None:
        if self.engine.echo and byte != ESC:
            self._port.write(bytes((byte,)))
        if byte == CR:
            line = self._line.decode("latin-1")
            self._line.clear()
            if self.engine.echo and self.profile.echo_line_end:
                self._port.write(self.profile.echo_line_end)
            self._command(line.strip())
        elif byte == ESC:
            self._line.clear()  # gammu's ESC CR: whatever was typed is dropped
        elif byte == BS:
            del self._line[-1:]
        elif byte != LF and len(self._line) < MAX_INPUT:
            self._line.append(byte)

    def _command(self, line: str) -> None:
        if line[:2].upper() != "AT":
            return  # modems ignore lines that are not commands
        name = command_name(line)
        self._counts["commands"] += 1
        self._per_command[name] += 1
        if self._hang_on_hit(name):
            return  # the hang_on fault: received, never answered
        if name == "AT+CMGD" and "," in line and line.rsplit(",", 1)[1].strip() not in ("", "0"):
            # Bulk delete (AT+CMGD=1,4 and friends) erases what the daemon has not stored yet.
            self.forbidden.append(line)
            self._counts["forbidden"] += 1
            log.warning("sim_forbidden_command", command=line)
        reply = self.engine.execute(line)
        if reply.prompt_length is not None:
            self._start_pdu(reply.prompt_length)
        else:
            self._reply(reply.info, reply.final or "OK")

    def _reply(self, info: list[str], final: str) -> None:
        out = bytearray()
        if info:
            out += b"\r\n" + b"".join(line.encode() + b"\r\n" for line in info)
        if (
            self.noise
            and self.profile.noise_lines
            and self._rng.random() < self.profile.noise_mid_reply
        ):
            line = self._rng.choice(self.profile.noise_lines)
            self._count_urc(line)
            out += f"\r\n{line}\r\n".encode()
        out += b"".join(self._held)  # URCs held back land between the reply's lines
        self._held.clear()
        out += f"\r\n{final}\r\n".encode()
        self._port.write(bytes(out))

    def _emit_urc(self, name: str, chunk: bytes) -> None:
        """Send a URC now, or hold it for the next reply (mid-reply injection, busy modem)."""
        self._count_urc(name)
        # A hang stops the command interpreter only: the radio side still reports URCs.
        if self._pdu is not None or self._busy or self._booting:
            self._held.append(chunk)
        elif self._rng.random() < self.urc_mid_reply:
            self._held.append(chunk)
            if self._held_timer is None:
                self._held_timer = self._port.call_later(HOLD_MAX, self._flush_held)
        else:
            self._port.write(chunk)

    def _flush_held(self) -> None:
        self._held_timer = None
        if self._held and self._pdu is None and not self._busy and not self.hung:
            self._port.write(b"".join(self._held))
            self._held.clear()
        elif self._held:
            self._held_timer = self._port.call_later(HOLD_MAX, self._flush_held)

    def _count_urc(self, name: str) -> None:
        self._counts["urcs"] += 1
        self._counts["urc:" + name.split(":")[0]] += 1

    # -- AT+CMGS ---------------------------------------------------------------------------

    def _start_pdu(self, length: int) -> None:
        self._pdu = bytearray()
        self._pdu_length = length
        if self._prompt_faults > 0:
            self._prompt_faults -= 1
            self._counts["prompts_withheld"] += 1
            return
        self._port.write(self.profile.prompt)

    def _pdu_byte(self, byte: int) -> None:
        assert self._pdu is not None
        if byte == ESC:
            self._pdu = None
            self._counts["sends_cancelled"] += 1
            return
        if byte == CTRL_Z:
            pdu, self._pdu = self._pdu.decode("latin-1").strip().upper(), None
            self._submit(pdu)
            return
        if self.engine.echo:
            self._port.write(bytes((byte,)))
        if byte not in (CR, LF) and len(self._pdu) < MAX_INPUT:
            self._pdu.append(byte)

    def _submit(self, pdu: str) -> None:
        """Ctrl-Z: the network checks the PDU; the answer comes after ``cmgs_delay``."""
        code = self._cms_faults.pop(0) if self._cms_faults else None
        submit, mr, final = self.network.submit(pdu, self._pdu_length, code)
        self._busy = True
        epoch = self._epoch

        def done() -> None:
            if epoch != self._epoch:
                return  # rebooted or unplugged while "sending": no answer ever comes
            info = []
            if submit is not None and mr is not None:
                self.network.accepted(pdu, submit, mr)
                info.append(f"+CMGS: {mr}")
            self._busy = False
            self._reply(info, final)
            self._pump()

        self._port.call_later(self.cmgs_delay, done)

    # -- Hooks for the AT engine -----------------------------------------------------------------

    def ack(self) -> bool:
        """``AT+CNMA`` arrived (engine hook)."""
        return self.network.ack()

    def slot_freed(self) -> None:
        """A message was deleted (engine hook)."""
        self.network.slot_freed()

    def pin_accepted(self) -> None:
        """The SIM is unlocked but busy for ``pin_delay`` seconds (engine hook)."""
        self.engine.sim_busy_until = time.monotonic() + self.pin_delay

    # -- public API ------------------------------------------------------------------------

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
        log.info("sim_sms_delivered", sender=sender, parts=total, direct=direct)
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
            return base

    @property
    def command_counts(self) -> dict[str, int]:
        """Commands received per name (``AT+CMGL``, ``ATE``, ``AT``...)."""
        with self._lock:
            return dict(self._per_command)
