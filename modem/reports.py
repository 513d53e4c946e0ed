"""Where a modem puts network status reports, decided per modem from what it says it can do.

Three ways, in order of preference:

``direct``  ``AT+CNMI=...,1,...``: each report comes as a ``+CDS`` URC with its PDU; when
            ``AT+CSMS?`` says service 1 (phase 2+) it must be acknowledged with ``AT+CNMA``.
``stored``  ``AT+CNMI=...,2,...``: the modem stores the report and says ``+CDSI: "<mem>",<n>``.
            Huawei E173/E3372-class sticks keep them in their own ``SR`` memory (tens of slots,
            then further reports are dropped by the modem itself): reading and deleting them
            needs ``SR`` selected as the read memory first (:meth:`modem.modem.Modem.memory`).
``off``     status reports are not requested, or the modem offers no way to get them.

:func:`decide_routing` asks ``AT+CNMI=?``, ``AT+CPMS=?`` and ``AT+CSMS?`` through any
:class:`~modem.status.Commander`; modems that answer none of them get the configured CNMI as it
is (reports stored in the read memory, the old behaviour).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from modem.errors import AtError
from modem.status import Commander, reply_fields

__all__ = ["ReportRouting", "decide_routing", "parse_ranges", "with_ds"]

RoutingMode = Literal["direct", "stored", "off"]
_GROUP = re.compile(r"\(([^()]*)\)")


@dataclass(frozen=True)
class ReportRouting:
    """How status reports reach the daemon on one modem (shown by ``smsd modem status``)."""

    mode: RoutingMode
    cnmi: str  # the AT+CNMI command that sets it
    memory: str | None = None  # where stored reports are kept ("SR", "SM", "ME")
    ack: bool = False  # a +CDS must be acknowledged with AT+CNMA

    def describe(self) -> str:
        """One line for people: ``direct (+CDS, acknowledged)``, ``stored in SR (+CDSI)``."""
        if self.mode == "direct":
            return "direct (+CDS, acknowledged with AT+CNMA)" if self.ack else "direct (+CDS)"
        if self.mode == "stored":
            return f"stored in {self.memory} (+CDSI)"
        return "off"


def parse_ranges(text: str) -> list[set[int]]:
    """``(0-2),(0-3),(0,2),(0,1)`` -> ``[{0,1,2}, {0,1,2,3}, {0,2}, {0,1}]``; junk is skipped."""
    groups: list[set[int]] = []
    for group in _GROUP.findall(text):
        values: set[int] = set()
        for item in group.split(","):
            low, _, high = item.strip().partition("-")
            if low.isdigit() and (not high or high.isdigit()):
                values.update(range(int(low), int(high or low) + 1))
        groups.append(values)
    return groups


def parse_memories(text: str) -> list[list[str]]:
    """``("SM","ME","SR"),("SM","ME")`` -> ``[["SM","ME","SR"], ["SM","ME"]]``."""
    return [
        [m.strip().strip('"').upper() for m in group.split(",") if m.strip()]
        for group in _GROUP.findall(text)
    ]


def with_ds(cnmi: str, ds: int) -> str:
    """The configured ``AT+CNMI=<mode>,<mt>,<bm>,<ds>,<bfr>`` with its ``<ds>`` replaced."""
    head, _, args = cnmi.partition("=")
    values = args.split(",") if args else []
    values += ["0"] * (5 - len(values))
    values[3] = str(ds)
    return f"{head}={','.join(values[:5])}"


def _ask(command: Commander, cmd: str) -> list[str] | None:
    try:
        return command(cmd)
    except AtError:
        return None


def decide_routing(
    command: Commander, cnmi: str, storage: str, *, wanted: bool = True
) -> ReportRouting:
    """Pick direct +CDS where offered, else stored (in SR when the modem has it)."""
    if not wanted:
        return ReportRouting("off", with_ds(cnmi, 0))
    test = reply_fields(_ask(command, "AT+CNMI=?") or [], "+CNMI")
    ds_offered = parse_ranges(",".join(test))[3:4] if test else []
    if not ds_offered:  # no answer: keep what the operator configured
        if cnmi.partition("=")[2].split(",")[3:4] == ["1"]:
            return ReportRouting("direct", cnmi, ack=True)
        return ReportRouting("stored", cnmi, storage)
    offered = ds_offered[0]
    if 1 in offered:
        csms = reply_fields(_ask(command, "AT+CSMS?") or [], "+CSMS")
        ack = not csms or csms[0] != "0"  # unknown: acknowledge (a stray CNMA only errors)
        return ReportRouting("direct", with_ds(cnmi, 1), ack=ack)
    if 2 in offered:
        lines = _ask(command, "AT+CPMS=?") or []
        memories = parse_memories(",".join(reply_fields(lines, "+CPMS") or []))
        readable = memories[0] if memories else []
        memory = "SR" if "SR" in readable else storage
        return ReportRouting("stored", with_ds(cnmi, 2), memory)
    return ReportRouting("off", with_ds(cnmi, 0))
