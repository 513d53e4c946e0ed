"""The network side of the simulated modem: incoming SMS, +CNMA, status reports, sent log.

:class:`Network` decides what happens to a message arriving from the (simulated) network:
stored in SM with ``+CMTI``, routed directly with ``+CMT`` (and then waiting for ``AT+CNMA``),
or refused for "memory full" and retried by the network once a slot frees. It also keeps
what the daemon submitted, and turns status-report requests into ``+CDS`` / ``+CDSI``.

All methods run under the simulator's lock (the caller holds it).
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog

from modem.errors import ModemError
from modem.pdu import (
    Concat,
    SmsSubmit,
    decode_submit,
    encode_deliver,
    encode_status_report,
    split_message,
)
from modem.sim.commands import AtEngine
from modem.sim.port import PtyPort, Timer
from modem.sim.storage import SmsStorage, StoredPdu

__all__ = ["OUTCOMES", "Network", "SentPart", "deliver_pdus", "reassemble"]

log = structlog.get_logger(__name__)

OUTCOMES = {"delivered": 0x00, "pending": 0x20, "failed": 0x41}  # TP-ST values (TS 23.040)


@dataclass(frozen=True)
class SentPart:
    """One SMS-SUBMIT the simulated network accepted."""

    pdu: str
    submit: SmsSubmit
    mr: int
    at: datetime


@dataclass
class _Direct:
    kind: str  # "+CMT" or "+CDS"
    pdu: str


def _tpdu_length(pdu: str) -> int:
    return StoredPdu(0, pdu).tpdu_length


class Network:
    """Routing of incoming messages and status reports by the current CNMI settings."""

    def __init__(
        self,
        engine: AtEngine,
        storage: SmsStorage,
        port: PtyPort,
        emit_urc: Callable[[str, bytes], None],
        counts: Counter[str],
    ) -> None:
        self.engine = engine
        self.storage = storage
        self.port = port
        self.emit_urc = emit_urc
        self.counts = counts
        self.cnma_timeout = 10.0
        self.retry_delay = 0.05
        self.report_delay = 0.05
        self.report_outcome = "delivered"
        self.refused: deque[str] = deque()  # "memory full": the network retries these later
        self.sent: list[SentPart] = []
        self._direct_queue: deque[_Direct] = deque()
        self._awaiting: tuple[_Direct, Timer] | None = None
        self.next_mr = 0  # the TP-MR the next accepted SUBMIT gets (0..255, wraps)

    # -- incoming ------------------------------------------------------------------------

    def incoming(self, pdu: str, *, direct: bool = False) -> None:
        """A message part arrives from the network."""
        mode, mt = self.engine.cnmi[0], self.engine.cnmi[1]
        if direct or (mode != 0 and mt == 2):
            self._direct(_Direct("+CMT", pdu))
            return
        self._store(pdu, "+CMTI", notify=mode != 0 and mt in (1, 3))

    def _store(self, pdu: str, urc: str, *, notify: bool) -> None:
        index = self.storage.store(pdu)
        if index is None:
            # +CMS ERROR: 322 towards the network: it keeps the message and retries later.
            self.refused.append(pdu)
            self.counts["memory_full"] += 1
            log.info(
                "sim_sms_refused", reason="memory full (+CMS ERROR: 322)", waiting=len(self.refused)
            )
            return
        self.counts["stored"] += 1
        if notify:
            self.emit_urc(urc, f'\r\n{urc}: "{self.engine.mems[2]}",{index}\r\n'.encode())

    def slot_freed(self) -> None:
        """A slot was emptied: the network's retry of refused messages comes a moment later."""
        if self.refused:
            self.port.call_later(self.retry_delay, self.retry_refused)

    def retry_refused(self) -> None:
        """Deliver refused messages while there is room."""
        while self.refused and self.storage.has_room():
            self.counts["retried"] += 1
            self.incoming(self.refused.popleft())

    # -- direct routing and +CNMA ----------------------------------------------------------

    def _direct(self, item: _Direct) -> None:
        if self._awaiting is not None:
            self._direct_queue.append(item)  # one unacknowledged +CMT/+CDS at a time
            return
        length = _tpdu_length(item.pdu)
        head = f"{item.kind}: ,{length}" if item.kind == "+CMT" else f"{item.kind}: {length}"
        self.emit_urc(item.kind, f"\r\n{head}\r\n{item.pdu}\r\n".encode())
        timer = self.port.call_later(self.cnma_timeout, self._ack_timed_out)
        self._awaiting = (item, timer)

    def ack(self) -> bool:
        """``AT+CNMA``: acknowledge the waiting +CMT/+CDS; False when none waits."""
        if self._awaiting is None:
            return False
        self._awaiting[1].cancel()
        self._awaiting = None
        self.counts["acks"] += 1
        self._next_direct()
        return True

    def _ack_timed_out(self) -> None:
        if self._awaiting is None:
            return
        item, _ = self._awaiting
        self._awaiting = None
        self.counts["cnma_timeouts"] += 1
        # TS 27.005 §3.4.1: no +CNMA in time -> the ME turns routing off (mt and ds to 0);
        # the network did not get its acknowledgement, so it retries the message later.
        self.engine.cnmi[1] = self.engine.cnmi[3] = 0
        log.info("sim_ack_timed_out", urc=item.kind)
        if item.kind == "+CMT":
            self.refused.append(item.pdu)
            self.port.call_later(self.retry_delay, self.retry_refused)
        self._next_direct()

    def _next_direct(self) -> None:
        if self._direct_queue:
            self._direct(self._direct_queue.popleft())

    def power_cycled(self) -> None:
        """A reboot forgets the unacknowledged +CMT: the network will retry it."""
        if self._awaiting is not None:
            item, timer = self._awaiting
            timer.cancel()
            self._awaiting = None
            if item.kind == "+CMT":
                self.refused.appendleft(item.pdu)
        for item in self._direct_queue:
            if item.kind == "+CMT":
                self.refused.append(item.pdu)
        self._direct_queue.clear()
        self.port.call_later(self.retry_delay, self.retry_refused)

    # -- sending and status reports -----------------------------------------------------------

    def submit(
        self, pdu: str, length: int, cms_fault: int | None
    ) -> tuple[SmsSubmit | None, int | None, str]:
        """Check a PDU written after the prompt: ``(submit, TP-MR, final result)``.

        A PDU that does not decode or does not match AT+CMGS's ``<length>`` is refused with
        +CMS ERROR: 304 (invalid PDU mode parameter); an injected fault with its own code.
        """
        try:
            submit = decode_submit(pdu)
            tpdu_length = len(pdu) // 2 - 1 - int(pdu[:2], 16)
        except (ModemError, ValueError):
            return None, None, "+CMS ERROR: 304"
        if tpdu_length != length:
            return None, None, "+CMS ERROR: 304"
        if cms_fault is not None:
            self.counts["cms_errors"] += 1
            return None, None, f"+CMS ERROR: {cms_fault}"
        mr, self.next_mr = self.next_mr, (self.next_mr + 1) % 256  # TP-MR wraps after 255
        return submit, mr, "OK"

    def accepted(self, pdu: str, submit: SmsSubmit, mr: int) -> None:
        """The network took a SUBMIT; schedule its status report if one was requested."""
        part = SentPart(pdu, submit, mr, datetime.now(UTC).replace(microsecond=0))
        self.sent.append(part)
        self.counts["sent"] += 1
        if submit.status_report_request and self.report_outcome != "none":
            status = OUTCOMES[self.report_outcome]
            self.port.call_later(self.report_delay, lambda: self.report(part, status))

    def report(self, part: SentPart, status: int) -> None:
        """Emit a status report for ``part`` as CNMI's ``<ds>`` asks (+CDS, +CDSI or none)."""
        now = datetime.now(UTC).replace(microsecond=0)
        pdu = encode_status_report(
            part.mr, part.submit.recipient.number, scts=part.at, discharge=now, status=status
        )
        mode, ds = self.engine.cnmi[0], self.engine.cnmi[3]
        self.counts["status_reports"] += 1
        if mode == 0 or ds == 0:
            self.counts["status_reports_dropped"] += 1
        elif ds == 1:
            self._direct(_Direct("+CDS", pdu))
        elif self.engine.reports is not None:
            self._store_report(pdu)
        else:
            self._store(pdu, "+CDSI", notify=True)

    def _store_report(self, pdu: str) -> None:
        """Huawei-style: into the small "SR" memory; when it is full the report is lost."""
        reports = self.engine.reports
        index = reports.store(pdu) if reports is not None else None
        if index is None:
            self.counts["reports_lost"] += 1
            log.info("sim_report_lost", reason="status-report memory full")
            return
        self.counts["reports_stored"] += 1
        self.emit_urc("+CDSI", f'\r\n+CDSI: "SR",{index}\r\n'.encode())

    def fill_reports(self, reference: int = 200) -> int:
        """Fill the "SR" memory with reports for messages nobody sent from here; how many."""
        reports = self.engine.reports
        count = 0
        now = datetime.now(UTC).replace(microsecond=0)
        while reports is not None and reports.has_room():
            pdu = encode_status_report(
                (reference + count) % 256, "+447700900999", scts=now, discharge=now, status=0
            )
            reports.store(pdu)
            count += 1
        return count

    def report_for(self, reference: int, status: int) -> None:
        """A status report for the last message sent with TP-MR ``reference``."""
        for part in reversed(self.sent):
            if part.mr == reference:
                self.report(part, status)
                return
        raise ValueError(f"no sent message has reference {reference}")


def deliver_pdus(sender: str, text: str, reference: int) -> list[str]:
    """SMS-DELIVER PDUs for ``text`` from ``sender``: several, with an 8-bit concat UDH, if long."""
    encoding, texts = split_message(text)
    scts = datetime.now(UTC).replace(microsecond=0)
    total = len(texts)
    return [
        encode_deliver(
            sender,
            part,
            scts=scts,
            encoding=encoding,
            concat=Concat(reference, total, seq, 8) if total > 1 else None,
        )
        for seq, part in enumerate(texts, start=1)
    ]


def reassemble(parts: list[SentPart]) -> list[dict[str, Any]]:
    """Group sent parts into messages by recipient and concat reference, in sending order."""
    messages: list[dict[str, Any]] = []
    open_groups: dict[tuple[str, int, int], dict[str, Any]] = {}
    for part in parts:
        sub = part.submit
        to = sub.recipient.number
        concat = sub.concat
        key = (to, concat.reference, concat.total) if concat else None
        group = open_groups.get(key) if key else None
        if group is None or (concat and concat.sequence in group["_seqs"]):
            group = {"to": to, "_seqs": {}, "status_report": False, "total": 1}
            messages.append(group)
            if key and concat:
                open_groups[key] = group
                group["total"] = concat.total
        group["_seqs"][concat.sequence if concat else 1] = part
        group["status_report"] = group["status_report"] or sub.status_report_request
    return [_finish(group) for group in messages]


def _finish(group: dict[str, Any]) -> dict[str, Any]:
    ordered = [group["_seqs"][seq] for seq in sorted(group["_seqs"])]
    return {
        "to": group["to"],
        "text": "".join(p.submit.text or p.submit.data.hex() for p in ordered),
        "parts": len(ordered),
        "complete": len(ordered) == group["total"],
        "references": [p.mr for p in ordered],
        "status_report": group["status_report"],
        "encoding": ordered[0].submit.encoding,
    }
