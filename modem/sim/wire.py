"""The simulated modem's serial side: bytes in, replies and URCs out.

:class:`Wire` splits what the daemon writes into command lines and PDU input after the
``> `` prompt, hands each line to the :class:`~modem.sim.commands.AtEngine`, writes replies
(with noise and held-back URCs between their lines) and holds URCs while the modem is busy.
It keeps the state that power and faults act on: booting, hung, withheld prompts, injected
``+CMS ERROR`` codes. Every method runs under the simulator's one lock.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable

import structlog

from modem.sim.commands import AtEngine, command_name
from modem.sim.network import Network
from modem.sim.port import PtyPort, Timer
from modem.sim.profiles import Profile

__all__ = ["HOLD_MAX", "MAX_INPUT", "Wire"]

log = structlog.get_logger(__name__)

CR, LF, BS, CTRL_Z, ESC = 0x0D, 0x0A, 0x08, 0x1A, 0x1B
HOLD_MAX = 0.3  # a URC held back for injection into a reply goes out alone after this
MAX_INPUT = 1024  # longer command or PDU input is cut, as a modem's line buffer would

Tap = Callable[[str], None]


class Wire:
    """Command lines and PDU input in, replies and URCs out, on one :class:`PtyPort`."""

    def __init__(
        self,
        port: PtyPort,
        engine: AtEngine,
        network: Network,
        profile: Profile,
        counts: Counter[str],
        rng: random.Random,
        *,
        urc_mid_reply: float,
        cmgs_delay: float,
        noise: bool,
    ) -> None:
        self.port, self.engine, self.network, self.profile = port, engine, network, profile
        self.counts = counts
        self.per_command: Counter[str] = Counter()
        self.forbidden: list[str] = []
        self.urc_mid_reply = urc_mid_reply
        self.cmgs_delay = cmgs_delay
        self.noise = noise
        self.epoch = 0  # bumped by every power cycle: timers of an older life do nothing
        self.booting = self.busy = self.hung = False
        self.hang_on: str | None = None  # hang when this command arrives (one shot)
        self.cms_errors: list[int] = []  # the next sends fail with these codes
        self.withhold_prompts = 0  # the next AT+CMGS get no "> "
        self.on_command: Tap | None = None  # sees each command line (see SimModem.tap)
        self.on_urc: Tap | None = None  # sees each URC's name
        self._rng = rng
        self._inbuf = bytearray()
        self._line = bytearray()
        self._pdu: bytearray | None = None  # PDU input after the prompt, until Ctrl-Z / ESC
        self._pdu_length = 0
        self._held: list[bytes] = []
        self._held_timer: Timer | None = None
        self._hang_timer: Timer | None = None

    @property
    def idle(self) -> bool:
        """Neither hung nor in a PDU exchange: idle noise and held URCs may go out."""
        return not self.hung and self._pdu is None and not self.busy

    def power_up(self) -> int:
        """Forget all input and held URCs, start booting; returns the new epoch."""
        self.epoch += 1
        self.booting, self.busy, self.hung = True, False, False
        self._inbuf.clear()
        self._line.clear()
        self._pdu = None
        self._held.clear()
        return self.epoch

    def booted(self, lines: list[str]) -> None:
        """The boot finished: send its lines, then whatever URCs came up meanwhile."""
        self.booting = False
        for line in lines:
            self.count_urc(line)
            self.port.write(f"\r\n{line}\r\n".encode())
        self.port.write(b"".join(self._held))
        self._held.clear()

    def hang(self, seconds: float | None = None) -> None:
        """Stop answering commands (they are still counted) until :meth:`unhang` or ``seconds``."""
        self.hung = True
        if self._hang_timer is not None:
            self._hang_timer.cancel()
            self._hang_timer = None
        if seconds is not None:
            self._hang_timer = self.port.call_later(float(seconds), self.unhang)

    def unhang(self) -> None:
        """Answer again; what was typed into the hung modem is gone."""
        self.hung = False
        self._line.clear()
        self._hang_timer = None

    # -- input ---------------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Bytes from the daemon (port thread, lock held)."""
        if self.hung or self.booting:
            self.counts["ignored_bytes"] += len(data)
            if self.hung:  # received but never answered: still counted as commands
                self._count_unanswered(data)
            return
        self._inbuf += data
        self._pump()

    def _pump(self) -> None:
        while self._inbuf and not self.busy and not self.hung:
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
                self.counts["commands"] += 1
                self.counts["unanswered"] += 1
                self.per_command[command_name(line)] += 1

    def _command_byte(self, byte: int) -> None:
        if self.engine.echo and byte != ESC:
            self.port.write(bytes((byte,)))
        if byte == CR:
            line = self._line.decode("latin-1")
            self._line.clear()
            if self.engine.echo and self.profile.echo_line_end:
                self.port.write(self.profile.echo_line_end)
            self._command(line.strip())
        elif byte == ESC:
            self._line.clear()  # gammu's ESC CR: whatever was typed is dropped
        elif byte == BS:
            del self._line[-1:]
        elif byte != LF and len(self._line) < MAX_INPUT:
            self._line.append(byte)

    def _command(self, line: str) -> None:
        if self.on_command is not None:
            self.on_command(line)
        if line[:2].upper() != "AT":
            return  # modems ignore lines that are not commands
        name = command_name(line)
        self.counts["commands"] += 1
        self.per_command[name] += 1
        if self._hang_on_hit(name):
            return  # the hang_on fault: received, never answered
        if name == "AT+CMGD" and "," in line and line.rsplit(",", 1)[1].strip() not in ("", "0"):
            # Bulk delete (AT+CMGD=1,4 and friends) erases what the daemon has not stored yet.
            self.forbidden.append(line)
            self.counts["forbidden"] += 1
            log.warning("sim_forbidden_command", command=line)
        reply = self.engine.execute(line)
        if reply.prompt_length is not None:
            self._start_pdu(reply.prompt_length)
        else:
            self._reply(reply.info, reply.final or "OK")

    def _hang_on_hit(self, name: str) -> bool:
        """True (and hung from now) if ``name`` is the hang_on fault's trigger."""
        if self.hang_on is None or name.upper() != self.hang_on:
            return False
        self.hang_on = None
        self.counts["unanswered"] += 1
        self.hang()
        log.info("sim_hung_on_command", command=name)
        return True

    # -- output --------------------------------------------------------------------------

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
            self.count_urc(line)
            out += f"\r\n{line}\r\n".encode()
        out += b"".join(self._held)  # URCs held back land between the reply's lines
        self._held.clear()
        out += f"\r\n{final}\r\n".encode()
        self.port.write(bytes(out))

    def emit_urc(self, name: str, chunk: bytes) -> None:
        """Send a URC now, or hold it for the next reply (mid-reply injection, busy modem)."""
        if self.on_urc is not None:
            self.on_urc(name)
        self.count_urc(name)
        # A hang stops the command interpreter only: the radio side still reports URCs.
        if self._pdu is not None or self.busy or self.booting:
            self._held.append(chunk)
        elif self._rng.random() < self.urc_mid_reply:
            self._held.append(chunk)
            if self._held_timer is None:
                self._held_timer = self.port.call_later(HOLD_MAX, self._flush_held)
        else:
            self.port.write(chunk)

    def _flush_held(self) -> None:
        self._held_timer = None
        if self._held and self.idle:
            self.port.write(b"".join(self._held))
            self._held.clear()
        elif self._held:
            self._held_timer = self.port.call_later(HOLD_MAX, self._flush_held)

    def count_urc(self, name: str) -> None:
        """Count one unsolicited line by its name (``+CMTI``, ``^RSSI``...)."""
        self.counts["urcs"] += 1
        self.counts["urc:" + name.split(":")[0]] += 1

    # -- AT+CMGS ---------------------------------------------------------------------------

    def _start_pdu(self, length: int) -> None:
        self._pdu = bytearray()
        self._pdu_length = length
        if self.withhold_prompts > 0:
            self.withhold_prompts -= 1
            self.counts["prompts_withheld"] += 1
            return
        self.port.write(self.profile.prompt)

    def _pdu_byte(self, byte: int) -> None:
        assert self._pdu is not None
        if byte == ESC:
            self._pdu = None
            self.counts["sends_cancelled"] += 1
            return
        if byte == CTRL_Z:
            pdu, self._pdu = self._pdu.decode("latin-1").strip().upper(), None
            self._submit(pdu)
            return
        if self.engine.echo:
            self.port.write(bytes((byte,)))
        if byte not in (CR, LF) and len(self._pdu) < MAX_INPUT:
            self._pdu.append(byte)

    def _submit(self, pdu: str) -> None:
        """Ctrl-Z: the network checks the PDU; the answer comes after ``cmgs_delay``."""
        code = self.cms_errors.pop(0) if self.cms_errors else None
        submit, mr, final = self.network.submit(pdu, self._pdu_length, code)
        self.busy = True
        epoch = self.epoch

        def done() -> None:
            if epoch != self.epoch:
                return  # rebooted or unplugged while "sending": no answer ever comes
            info = []
            if submit is not None and mr is not None:
                self.network.accepted(pdu, submit, mr)
                info.append(f"+CMGS: {mr}")
            self.busy = False
            self._reply(info, final)
            self._pump()

        self.port.call_later(self.cmgs_delay, done)
