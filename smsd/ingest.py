"""Taking messages off a modem: +CMTI, +CMT, +CDS/+CDSI and the storage sweep.

Order is the promise: read, commit to the store (recorded AND routed), then delete from the
modem (or ``AT+CNMA`` for direct delivery). A PDU that cannot be decoded is stored raw and
flagged, never dropped.

One commit per burst: what is waiting together — a sweep (``AT+CMGL=4`` lists them all) or
several ``+CMTI`` queued while the worker was busy (each read with ``AT+CMGR`` first) — is
recorded and routed in ONE transaction (`smsd.pipeline.Pipeline.burst`: the burst in one
SAVEPOINT, one per message only if it raises), then each copy is deleted. The deleted copies'
dedupe keys are released by the next transaction that runs anyway — this modem's next burst —
or, when none follows within ``release_delay`` seconds, by a small one of their own
(`Ingest.release_pending`; also after a sweep that took nothing, and when the worker stops).
Why that is safe is argued in `smsd.releases`. One fsync per burst, and still no delete
before its commit.

Status reports a modem keeps in a memory of their own (Huawei's ``SR``, announced by
``+CDSI: "SR",<n>``) are read, matched to outgoing rows (commit) and deleted with that memory
selected, all under the modem's command lock (:meth:`modem.modem.Modem.memory`); every sweep
empties that memory too, so it never fills and makes the modem drop reports. A ``+CDS``
straight to the terminal is acknowledged with ``AT+CNMA`` when the modem's routing says so.

Routing, and normalising senders, go through the daemon's :class:`smsd.pipeline.Pipeline`.
A store error in the burst transaction (recording or routing) rolls it all back and leaves
the burst on the SIM (the caller raises the store alarm and sweeps again later); a modem
error while deleting leaves committed, routed messages on the SIM, where their live keys make
the next read a duplicate. A message whose routing raises anything else is rolled back alone
and stays 'new' until `Pipeline.route_left` at the next start, its record committed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import structlog

from modem.at import Urc
from modem.errors import PduError
from modem.modem import Modem, StoredMessage
from modem.pdu import SmsDeliver, SmsStatusReport, decode_pdu
from smsd.pipeline import Pipeline
from smsd.releases import PendingReleases
from store.models import Incoming, IncomingDraft
from store.store import Store

__all__ = ["Ingest"]

log = structlog.get_logger()
_INDEX = re.compile(
    r'^\+CDSI?:\s*"?(?P<mem>[A-Z]{2})"?\s*,\s*(?P<index>\d+)|^\+CMTI:\s*"?(?P<mem2>[A-Z]{2})"?\s*,\s*(?P<index2>\d+)'
)
_QUIET_URCS = frozenset({"^RSSI", "^MODE", "^SRVST", "+CREG", "+CIEV", "+QIND", "?"})


def _storage_index(line: str) -> tuple[str, int] | None:
    match = _INDEX.match(line)
    if match is None:
        return None
    mem = match.group("mem") or match.group("mem2")
    index = match.group("index") or match.group("index2")
    return mem, int(index)


class Ingest:
    """Stores what a modem received and hands complete messages to the pipeline."""

    def __init__(
        self,
        store: Store,
        pipeline: Pipeline,
        *,
        storage: str = "SM",
        release_delay: float = 1.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.pipeline = pipeline
        self.storage = storage
        self.clock = clock
        self.received = 0
        self.pending = PendingReleases(storage, release_delay)

    def sweep(self, modem: Modem, modem_name: str) -> int:
        """Take every message in the modem's storage as one batch, then empty its status-report
        memory if it has one; return how many messages and reports were taken."""
        reports = 0
        memory = self._report_memory(modem)
        if memory is not None:
            reports = self.take_reports(modem, modem_name, memory)
        taken = reports + self._sweep_storage(modem, modem_name)
        if not taken:
            self.release_pending(modem_name)  # no burst to carry them: an idle sweep does
        return taken

    def _report_memory(self, modem: Modem) -> str | None:
        routing = modem.report_routing
        if routing is None or routing.mode != "stored" or routing.memory in (None, self.storage):
            return None
        return routing.memory

    def take_reports(
        self, modem: Modem, modem_name: str, memory: str, indexes: Sequence[int] | None = None
    ) -> int:
        """Status reports in ``memory`` (all of them, or at ``indexes``): read, match to the
        outgoing rows (one commit), delete, with ``memory`` selected throughout."""
        with modem.memory(memory):
            if indexes is None:
                stored = modem.list_stored()
            else:
                found = (modem.read_stored(i, memory) for i in indexes)
                stored = [m for m in found if m is not None]
            if not stored:
                return 0
            ids = self._commit_burst(modem_name, [(None, m.pdu) for m in stored])
            for message in stored:
                modem.delete_stored(message.index)  # after the commit, as for messages
        if ids:  # a message in the report memory (never seen, but not to be lost): keyed direct
            self.pending.deleted(modem_name, None)
        log.info("report_memory_emptied", modem=modem_name, memory=memory, taken=len(stored))
        return len(stored)

    def _sweep_storage(self, modem: Modem, modem_name: str) -> int:
        stored = modem.list_stored()
        # Slots the listing shows empty hold no copy: release keys a crash left live there.
        self.store.inbox.release_absent(modem_name, self.storage, [m.index for m in stored])
        if stored:
            self.take_stored(modem, modem_name, stored)
            log.info("storage_swept", modem=modem_name, taken=len(stored))
        return len(stored)

    def handle_urcs(self, modem: Modem, modem_name: str, urcs: Sequence[Urc]) -> None:
        """React to URCs that were waiting together; the +CMTI/+CDSI ones form one batch."""
        indexes: list[int] = []
        reports: list[int] = []
        report_memory = self._report_memory(modem)
        for urc in urcs:
            if urc.name in ("+CMTI", "+CDSI"):
                where = _storage_index(urc.line)
                if where is None:
                    log.warning("urc_unparsed", modem=modem_name, urc=urc.name)
                elif where[0] != self.storage and where[0] == report_memory:
                    reports.append(where[1])
                elif where[1] not in indexes:  # a repeated URC names the same copy
                    indexes.append(where[1])
            elif urc.name in ("+CMT", "+CDS") and urc.pdu is not None:
                self._take_direct(modem, modem_name, urc.pdu, urc.name)
            elif urc.name not in _QUIET_URCS:
                log.debug("urc_ignored", modem=modem_name, urc=urc.name)
        if reports and report_memory is not None:
            self.take_reports(modem, modem_name, report_memory, sorted(set(reports)))
        stored = [m for m in (modem.read_stored(i) for i in indexes) if m is not None]
        if stored:
            self.take_stored(modem, modem_name, stored)

    def take_stored(self, modem: Modem, modem_name: str, stored: Sequence[StoredMessage]) -> None:
        """Record and route all in one commit, then delete each from the modem; their keys
        are released by the next transaction."""
        self._commit_burst(modem_name, [(m.index, m.pdu) for m in stored])
        for message in stored:
            modem.delete_stored(message.index)  # after the commit; a crash: dedupe catches it
            self.pending.deleted(modem_name, message.index)

    def _take_direct(self, modem: Modem, modem_name: str, pdu: str, kind: str) -> None:
        self._commit_burst(modem_name, [(None, pdu)])
        routing = modem.report_routing
        if kind == "+CMT" or routing is None or routing.ack:
            modem.ack()  # only after the commit: an unacknowledged +CMT is redelivered
        self.pending.deleted(modem_name, None)

    def _commit_burst(
        self, modem_name: str, copies: Sequence[tuple[int | None, str]]
    ) -> list[int | None]:
        """ONE transaction: release this modem's pending keys, record the copies, route the
        new messages; an id or None (duplicate, report, malformed) per message recorded."""
        releases = self.pending.of(modem_name)
        with self.pipeline.burst(releases) as burst:
            drafts, stored = self._record(modem_name, copies)
            ids = [None if m is None else m.id for m in stored]
            burst.route([i for i in ids if i is not None], {m.id: m for m in stored if m})
        self.pending.released(modem_name, releases)
        for draft, incoming_id in zip(drafts, ids, strict=True):
            self._log_received(draft, incoming_id)
        return ids

    def release_due(self, modem_name: str) -> None:
        """Release `modem_name`'s pending keys if no burst carried them within the delay."""
        if self.pending.seconds_until_due(modem_name) <= 0:
            self.release_pending(modem_name)

    def release_pending(self, modem_name: str) -> None:
        """Release `modem_name`'s pending keys now, in a small transaction of their own."""
        releases = self.pending.of(modem_name)
        if releases:
            with self.pipeline.burst(releases):
                pass
            self.pending.released(modem_name, releases)

    def record_many(self, modem_name: str, copies: Sequence[tuple[int | None, str]]) -> list[int]:
        """Commit PDUs in one transaction (no routing); return the ids of the new messages."""
        with self.store.transaction():
            drafts, stored = self._record(modem_name, copies)
        for draft, message in zip(drafts, stored, strict=True):
            self._log_received(draft, None if message is None else message.id)
        return [m.id for m in stored if m is not None]

    def _record(
        self, modem_name: str, copies: Sequence[tuple[int | None, str]]
    ) -> tuple[list[IncomingDraft], list[Incoming | None]]:
        """Record PDUs inside the caller's transaction: the drafts, and each message as
        stored (None: a duplicate)."""
        now = self.clock()
        drafts: list[IncomingDraft] = []
        for index, pdu in copies:
            draft = self._classify(modem_name, index, pdu, now)
            if draft is not None:
                drafts.append(draft)
        return drafts, self.store.inbox.record_and_read(drafts)

    def _classify(
        self, modem_name: str, index: int | None, pdu: str, now: datetime
    ) -> IncomingDraft | None:
        """A message to record, or None once a malformed PDU or a status report is handled."""
        try:
            decoded = decode_pdu(pdu)
        except PduError as exc:
            self.store.inbox.record_malformed(
                raw_pdu=pdu,
                reason=exc.reason,
                received_at=now,
                modem=modem_name,
                storage=self.storage,
                storage_index=index,
            )
            log.warning("pdu_malformed", modem=modem_name, index=index, reason=exc.reason)
            return None
        if isinstance(decoded, SmsStatusReport):
            self._status_report(modem_name, decoded)
            return None
        return self._draft(modem_name, index, pdu, decoded, now)

    def _draft(
        self, modem_name: str, index: int | None, pdu: str, sms: SmsDeliver, now: datetime
    ) -> IncomingDraft:
        sender, kind = self.pipeline.normalize_sender(sms.sender.number, sms.sender.ton)
        concat = sms.concat
        return IncomingDraft(
            sender=sender,
            sender_type=kind,
            text=sms.text,
            received_at=now,
            scts=sms.scts,
            raw_pdu=pdu,
            encoding=sms.encoding,
            concat=None if concat is None else (concat.reference, concat.total, concat.sequence),
            modem=modem_name,
            storage=self.storage if index is not None else None,
            storage_index=index,
        )

    def _log_received(self, draft: IncomingDraft, incoming_id: int | None) -> None:
        if incoming_id is None:
            log.info("sms_duplicate_ignored", modem=draft.modem, index=draft.storage_index)
            return
        self.received += 1
        concat = draft.concat
        log.info(
            "sms_received",
            modem=draft.modem,
            incoming_id=incoming_id,
            sender_type=draft.sender_type,
            part=None if concat is None else f"{concat[2]}/{concat[1]}",
        )
        log.debug(
            "sms_received_detail",
            incoming_id=incoming_id,
            pii_sender=draft.sender,
            pii_text=draft.text,
        )

    def _status_report(self, modem_name: str, report: SmsStatusReport) -> None:
        matched = self.store.outbox.match_status_report(
            modem=modem_name,
            mr=report.reference,
            recipient=self.pipeline.normalize_sender(report.recipient.number, report.recipient.ton)[
                0
            ],
            state=report.state,
            when=report.discharge,
            status=report.status,
        )
        log.info(
            "status_report_received",
            modem=modem_name,
            mr=report.reference,
            state=report.state,
            matched=matched,
        )
