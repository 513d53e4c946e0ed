"""The simulated modem's AT command interpreter: one command line in, one reply out.

No I/O and no clock of its own: :class:`AtEngine` keeps the settings a modem loses on a
reboot (echo, CMEE, CNMI, SIM PIN state...) and answers each command with a :class:`Reply`.
What needs time or the wire (the ``> `` prompt, acknowledging +CMT, freeing a slot for a
message the network is retrying, the SIM getting ready after its PIN) is handed to
:class:`Hooks`, which :class:`modem.sim.SimModem` implements.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from modem.reports import parse_ranges
from modem.sim.profiles import Profile
from modem.sim.storage import SmsStorage

__all__ = ["AtEngine", "Hooks", "Reply", "command_name"]

OK = "OK"
SMS_COMMANDS = {"+CPMS", "+CMGL", "+CMGR", "+CMGD", "+CMGS", "+CNMI", "+CSMP", "+CNMA", "+CSCA"}
ICCID = "8944110012345678901"
HARMLESS = {
    "Z", "&F", "&W", "V1", "Q0", "&C1", "&D2", "+CLIP", "+CRC", "+CFUN",
    "+CVHU", "+IFC", "+CMMS", "+CLIR", "+CSDH", "+CGDCONT", "+CTZU", "+CTZR",
}  # fmt: skip
CME_TEXT = {
    3: "operation not allowed", 4: "operation not supported", 10: "SIM not inserted",
    11: "SIM PIN required", 12: "SIM PUK required", 14: "SIM busy", 16: "incorrect password",
    100: "unknown",
}  # fmt: skip
_NAME = re.compile(r"^AT([+^#$%][A-Z0-9]+|&[A-Z]|[A-Z])?", re.IGNORECASE)


def command_name(line: str) -> str:
    """The command's name for statistics: ``AT+CMGL=4`` -> ``AT+CMGL``, ``ATE0`` -> ``ATE``."""
    match = _NAME.match(line.strip())
    if not match:
        return "?"
    return "AT" + (match.group(1) or "").upper()


@dataclass
class Reply:
    """What the modem answers: info lines, then a final result, or a prompt for a PDU."""

    info: list[str] = field(default_factory=list)
    final: str | None = OK
    prompt_length: int | None = None  # AT+CMGS=<len>: wait for a PDU of this TPDU length


class Hooks(Protocol):
    """What the engine asks of the simulator around it."""

    def ack(self) -> bool:
        """``AT+CNMA``: True if a +CMT/+CDS was waiting for it."""

    def slot_freed(self) -> None:
        """A stored message was deleted: the network may retry a refused one."""

    def pin_accepted(self) -> None:
        """The right PIN was entered: the SIM becomes ready after a while."""

    def ussd_request(self, args: str) -> Reply:
        """``AT+CUSD=<args>``: answer now, and later with a +CUSD URC."""


class AtEngine:
    """Interprets command lines against the settings and the SIM storage."""

    def __init__(
        self,
        profile: Profile,
        storage: SmsStorage,
        hooks: Hooks,
        *,
        reports: SmsStorage | None = None,
        pin: str | None,
        puk: str = "12345678",
        own_number: str = "+447700900000",
        imei: str = "",
    ) -> None:
        self.profile = profile
        self.storage = storage
        self.reports = reports  # the separate status-report memory "SR", if the modem has one
        self.hooks = hooks
        self.pin = pin
        self.puk = puk
        self.own_number = own_number
        self.imei = imei or "356938035643809"
        self.pin_tries = 3
        self._last = ""
        self.sim_state = "SIM PIN" if pin else "READY"
        self.sim_busy_until = 0.0
        self.power_up()

    def power_up(self) -> None:
        """The state after power-up: echo on, verbose errors off, the profile's CNMI."""
        self.echo = True
        self.cmee = 0
        self.cmgf = 0
        self.cnmi = list(self.profile.default_cnmi)
        self.csmp = "17,167,0,0"
        self.mems = ["SM", "SM", "SM"]
        self.cscs = "GSM"
        self.creg_n = 0
        if self.pin and self.sim_state == "READY":
            self.sim_state = "SIM PIN"  # a power cycle locks the SIM again
        self.sim_busy_until = 0.0

    # -- error helpers -------------------------------------------------------------------

    def cme(self, code: int) -> str:
        """An equipment error as CMEE asks for it."""
        if self.cmee == 0:
            return "ERROR"
        if self.cmee == 2:
            return f"+CME ERROR: {CME_TEXT.get(code, 'unknown')}"
        return f"+CME ERROR: {code}"

    @staticmethod
    def cms(code: int) -> str:
        """A message-service error (always numeric: TS 27.005 does not depend on CMEE)."""
        return f"+CMS ERROR: {code}"

    def _unsupported(self) -> Reply:
        if self.profile.unsupported:
            return Reply(final=self.profile.unsupported)
        return Reply(final="ERROR" if self.cmee == 0 else self.cme(4))

    def _sim_block(self, name: str) -> Reply | None:
        """Refuse SMS and SIM commands while the SIM is locked or still busy after its PIN."""
        sms = name[2:] in SMS_COMMANDS
        if self.sim_state == "SIM PIN":
            return Reply(final=self.cms(311) if sms else self.cme(11))
        if self.sim_state == "SIM PUK":
            return Reply(final=self.cms(316) if sms else self.cme(12))
        if time.monotonic() < self.sim_busy_until:
            return Reply(final=self.cms(515) if sms else self.cme(14))
        return None

    # -- dispatch ------------------------------------------------------------------------

    def execute(self, line: str) -> Reply:
        """Answer one command line (without its CR)."""
        name = command_name(line)
        self._last = line.strip()
        rest = line.strip()[len(name) :]
        simple: dict[str, Callable[[], Reply]] = {
            "AT": lambda: Reply(),
            "ATE": lambda: self._flag("echo", rest, (0, 1)),
            "ATI": self._ati,
            "AT+CMEE": lambda: self._cmee(rest),
            "AT+CPIN": lambda: self._cpin(rest),
            "AT+CMGF": lambda: self._cmgf(rest),
            "AT+CGMI": lambda: Reply([self.profile.manufacturer]),
            "AT+CGMM": lambda: Reply([self.profile.model]),
            "AT+CGMR": lambda: Reply([self.profile.revision]),
            "AT+CGSN": lambda: Reply([self.imei]),
            "AT+CSQ": lambda: Reply(["+CSQ: 21,99"]),
            "AT+CREG": lambda: self._reg("+CREG", rest),
            "AT+CGREG": lambda: self._reg("+CGREG", rest),
            "AT+CEREG": lambda: self._reg("+CEREG", rest),
        }
        if name in simple:
            return simple[name]()
        blocked = self._sim_block(name) if name != "?" else None
        if blocked is not None and (name[2:] in SMS_COMMANDS or name in ("AT+CIMI", "AT+COPS")):
            return blocked
        sms: dict[str, Callable[[], Reply]] = {
            "AT+CIMI": lambda: Reply(["234150000000001"]),
            "AT+COPS": lambda: Reply(['+COPS: 0,0,"SIMNET",2'] if rest == "?" else []),
            "AT+CNUM": lambda: Reply([f'+CNUM: "","{self.own_number}",145']),
            "AT+CPMS": lambda: self._cpms(rest),
            "AT+CNMI": lambda: self._cnmi(rest),
            "AT+CSMP": lambda: self._csmp(rest),
            "AT+CSCA": lambda: Reply(['+CSCA: "+447785016005",145'] if rest == "?" else []),
            "AT+CMGL": lambda: self._cmgl(rest),
            "AT+CMGR": lambda: self._cmgr(rest),
            "AT+CMGD": lambda: self._cmgd(rest),
            "AT+CMGS": lambda: self._cmgs(rest),
            "AT+CNMA": lambda: Reply() if self.hooks.ack() else Reply(final=self.cms(340)),
            "AT+CSMS": lambda: Reply(["+CSMS: 1,1,1,1"] if rest == "?" else ["+CSMS: 1,1,1"]),
            "AT+CSCS": lambda: self._cscs(rest),
            "AT+CUSD": lambda: self.hooks.ussd_request(rest.lstrip("=")),
            "AT+CCID": self._iccid,
            "AT^ICCID": self._iccid,
            "AT+QCCID": self._iccid,
        }
        if name in sms:
            return sms[name]()
        if name[2:] in HARMLESS or name[2:].startswith(self.profile.vendor_prefixes or ("\0",)):
            return Reply()
        return self._unsupported()

    # -- settings ------------------------------------------------------------------------

    def _iccid(self) -> Reply:
        command = self.profile.iccid_command
        name = command_name(command)
        if name != command_name(self._last):
            return self._unsupported()
        return Reply([ICCID if name == "AT+CCID" else f"{name[2:]}: {ICCID}"])

    def _cscs(self, rest: str) -> Reply:
        if rest == "?":
            return Reply([f'+CSCS: "{self.cscs}"'])
        value = rest.lstrip("=").strip('"').upper()
        if value not in ("GSM", "IRA", "UCS2"):
            return Reply(final=self.cme(4))
        self.cscs = value
        return Reply()

    def read_memory(self) -> SmsStorage:
        """The storage AT+CMGL/CMGR/CMGD act on: the first memory of AT+CPMS."""
        if self.mems[0] == "SR" and self.reports is not None:
            return self.reports
        return self.storage

    def _flag(self, attr: str, rest: str, allowed: tuple[int, ...]) -> Reply:
        value = _int(rest or "0")
        if value not in allowed:
            return Reply(final="ERROR")
        setattr(self, attr, bool(value))
        return Reply()

    def _ati(self) -> Reply:
        p = self.profile
        return Reply(
            [
                f"Manufacturer: {p.manufacturer}",
                f"Model: {p.model}",
                f"Revision: {p.revision}",
                f"IMEI: {self.imei}",
            ]
        )

    def _cmee(self, rest: str) -> Reply:
        if rest == "?":
            return Reply([f"+CMEE: {self.cmee}"])
        value = _int(rest.lstrip("="))
        if value not in (0, 1, 2):
            return Reply(final="ERROR")
        self.cmee = value
        return Reply()

    def _reg(self, name: str, rest: str) -> Reply:
        if rest == "?":
            return Reply([f"{name}: {self.creg_n},1"])
        if rest == "=?":
            return Reply([f"{name}: (0-2)"])
        value = _int(rest.lstrip("="))
        if value not in (0, 1, 2):
            return Reply(final=self.cme(3))
        self.creg_n = value
        return Reply()

    def _cmgf(self, rest: str) -> Reply:
        if rest == "?":
            return Reply([f"+CMGF: {self.cmgf}"])
        value = _int(rest.lstrip("="))
        if value not in (0, 1):
            return Reply(final=self.cms(302) if value != -1 else "ERROR")
        self.cmgf = value
        return Reply()

    def _cpin(self, rest: str) -> Reply:
        if rest == "?":
            if time.monotonic() < self.sim_busy_until:
                return Reply(final=self.cme(14))
            return Reply([f"+CPIN: {self.sim_state}"])
        args = _args(rest.lstrip("="))
        if self.sim_state == "READY" or not args:
            return Reply(final=self.cme(3))
        if self.sim_state == "SIM PUK":
            if len(args) == 2 and args[0] == self.puk:
                self.pin, self.pin_tries, self.sim_state = args[1], 3, "READY"
                self.hooks.pin_accepted()
                return Reply()
            return Reply(final=self.cme(16))
        if args[0] == self.pin:
            self.sim_state, self.pin_tries = "READY", 3
            self.hooks.pin_accepted()
            return Reply()
        self.pin_tries -= 1
        if self.pin_tries <= 0:
            self.sim_state = "SIM PUK"
        return Reply(final=self.cme(16))

    def _memory(self, name: str) -> SmsStorage:
        return self.reports if name == "SR" and self.reports is not None else self.storage

    def _cpms(self, rest: str) -> Reply:
        if rest == "?":
            fields = ",".join(
                f'"{m}",{self._memory(m).used},{self._memory(m).size}' for m in self.mems
            )
            return Reply([f"+CPMS: {fields}"])
        readable = '("SM","ME","SR")' if self.reports is not None else '("SM","ME")'
        if rest == "=?":
            return Reply([f'+CPMS: {readable},("SM","ME"),("SM","ME")'])
        mems = [m.upper() for m in _args(rest.lstrip("="))]
        allowed = ("SM", "ME", "MT", "SR") if self.reports is not None else ("SM", "ME", "MT")
        if not mems or len(mems) > 3 or any(m not in allowed for m in mems):
            return Reply(final=self.cms(302))
        if "SR" in mems[1:]:
            return Reply(final=self.cms(302))  # SR is for reading only
        # One physical store answers for SM and ME alike: the daemon only needs the names back.
        self.mems[: len(mems)] = mems
        counts = ",".join(f"{self._memory(m).used},{self._memory(m).size}" for m in self.mems)
        return Reply([f"+CPMS: {counts}"])

    def _cnmi(self, rest: str) -> Reply:
        if rest == "?":
            return Reply([f"+CNMI: {','.join(str(v) for v in self.cnmi)}"])
        if rest == "=?":
            return Reply([f"+CNMI: {self.profile.cnmi_test}"])
        values = [_int(v) if v else 0 for v in rest.lstrip("=").split(",")]
        limits = (2, 3, 3, 2, 1)
        no_cds = 1 not in parse_ranges(self.profile.cnmi_test)[3]
        if (
            not 1 <= len(values) <= 5
            or any(not 0 <= v <= lim for v, lim in zip(values, limits, strict=False))
            or (no_cds and values[3:4] == [1])
        ):
            return Reply(final=self.cms(303))
        self.cnmi[: len(values)] = values
        return Reply()

    def _csmp(self, rest: str) -> Reply:
        if rest == "?":
            return Reply([f"+CSMP: {self.csmp}"])
        self.csmp = rest.lstrip("=")
        return Reply()

    # -- storage and sending ---------------------------------------------------------------

    def _cmgl(self, rest: str) -> Reply:
        stat = _int(rest.lstrip("=") or "4")
        if self.cmgf != 0 or not 0 <= stat <= 4:
            return Reply(final=self.cms(302 if self.cmgf else 303))
        info: list[str] = []
        for index, slot in self.read_memory().listing(stat):
            info += [f"+CMGL: {index},{slot.stat},,{slot.tpdu_length}", slot.pdu]
        return Reply(info)

    def _cmgr(self, rest: str) -> Reply:
        index = _int(rest.lstrip("="))
        if self.cmgf != 0:
            return Reply(final=self.cms(302))
        memory = self.read_memory()
        if not memory.valid(index):
            return Reply(final=self.cms(321))
        slot = memory.read(index)
        if slot is None:
            return Reply()  # an empty slot: most modems answer a bare OK
        return Reply([f"+CMGR: {slot.stat},,{slot.tpdu_length}", slot.pdu])

    def _cmgd(self, rest: str) -> Reply:
        args = [_int(a) for a in rest.lstrip("=").split(",")]
        flag = args[1] if len(args) > 1 else 0
        memory = self.read_memory()
        if not 0 <= flag <= 4 or (flag == 0 and not memory.valid(args[0])):
            return Reply(final=self.cms(321))
        freed = memory.delete_flagged(flag) if flag else int(memory.delete(args[0]))
        if freed and memory is self.storage:
            self.hooks.slot_freed()
        return Reply()

    def _cmgs(self, rest: str) -> Reply:
        length = _int(rest.lstrip("="))
        if self.cmgf != 0:
            return Reply(final=self.cms(302))
        if not 7 <= length <= 176:
            return Reply(final=self.cms(304))
        return Reply(final=None, prompt_length=length)


def _int(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        return -1


def _args(text: str) -> list[str]:
    return [part.strip().strip('"') for part in text.split(",") if part.strip()]
