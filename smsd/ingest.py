"""Taking messages off a modem: +CMTI, +CMT, +CDS/+CDSI and the storage sweep.

Order is the promise: read, commit to the store, then delete from the modem (or ``AT+CNMA``
for direct delivery), then route. A PDU that cannot be decoded is stored raw and flagged, never
dropped. A store error before the commit leaves the message on the SIM (the caller raises the
store alarm and sweeps again later); a store error while routing leaves a committed message in
state 'new' and sets :attr:`Ingest.unrouted`, so the daemon routes it once the store is back.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import structlog

from modem.at import Urc
from modem.errors import PduError
from modem.modem import Modem
from modem.pdu import SmsDeliver, SmsStatusReport, decode_pdu
from store.errors import StoreError
from store.store import Store

__all__ = ["Ingest"]

log = structlog.get_logger()
_INDEX = re.compile(
    r'^\+CDSI?:\s*"?(?P<mem>[A-Z]{2})"?\s*,\s*(?P<index>\d+)|^\+CMTI:\s*"?(?P<mem2>[A-Z]{2})"?\s*,\s*(?P<index2>\d+)'
)


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
        process: Callable[[int], bool],
        on_enqueued: Callable[[], None],
        normalize: Callable[[str, int], tuple[str, str]],
        *,
        storage: str = "SM",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.normalize = normalize
        self.storage = storage
        self.process = process
        self.on_enqueued = on_enqueued
        self.clock = clock
        self.received = 0
        self.unrouted = threading.Event()  # a committed message could not be routed yet

    def sweep(self, modem: Modem, modem_name: str) -> int:
        """Take every message in the modem's storage; return how many were taken."""
        stored = modem.list_stored()
        for message in stored:
            self._take(modem, modem_name, message.index, message.pdu)
        if stored:
            log.info("storage_swept", modem=modem_name, taken=len(stored))
        return len(stored)

    def handle_urc(self, modem: Modem, modem_name: str, urc: Urc) -> None:
        """React to one unsolicited result code at once."""
        if urc.name in ("+CMTI", "+CDSI"):
            where = _storage_index(urc.line)
            if where is None:
                log.warning("urc_unparsed", modem=modem_name, urc=urc.name)
                return
            message = modem.read_stored(where[1])
            if message is not None:
                self._take(modem, modem_name, message.index, message.pdu)
        elif urc.name in ("+CMT", "+CDS") and urc.pdu is not None:
            incoming_id = self._record(modem_name, None, urc.pdu)
            modem.ack()  # only after the commit: an unacknowledged +CMT is redelivered
            self.store.release_location(modem_name, None, None)
            self._route(incoming_id)
        elif urc.name not in ("^RSSI", "^MODE", "^SRVST", "+CREG", "+CIEV", "+QIND", "?"):
            log.debug("urc_ignored", modem=modem_name, urc=urc.name)

    def _take(self, modem: Modem, modem_name: str, index: int, pdu: str) -> None:
        incoming_id = self._record(modem_name, index, pdu)
        modem.delete_stored(index)  # only after the commit; a crash here is caught by dedupe
        self.store.release_location(modem_name, self.storage, index)
        self._route(incoming_id)

    def _route(self, incoming_id: int | None) -> None:
        """Route a committed message; on a store error leave it 'new' for the daemon."""
        if incoming_id is None:
            return
        try:
            queued = self.process(incoming_id)
        except StoreError:
            self.unrouted.set()
            raise
        if queued:
            self.on_enqueued()

    def _record(self, modem_name: str, index: int | None, pdu: str) -> int | None:
        """Commit one PDU; return the id of a message to route now, if any."""
        now = self.clock()
        try:
            decoded = decode_pdu(pdu)
        except PduError as exc:
            self.store.record_malformed(
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
        return self._deliver(modem_name, index, pdu, decoded, now)

    def _deliver(
        self, modem_name: str, index: int | None, pdu: str, sms: SmsDeliver, now: datetime
    ) -> int | None:
        sender, kind = self.normalize(sms.sender.number, sms.sender.ton)
        concat = sms.concat
        incoming_id = self.store.record_incoming(
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
        if incoming_id is None:
            log.info("sms_duplicate_ignored", modem=modem_name, index=index)
            return None
        self.received += 1
        log.info(
            "sms_received",
            modem=modem_name,
            incoming_id=incoming_id,
            sender_type=kind,
            part=None if concat is None else f"{concat.sequence}/{concat.total}",
        )
        log.debug(
            "sms_received_detail", incoming_id=incoming_id, pii_sender=sender, pii_text=sms.text
        )
        return incoming_id

    def _status_report(self, modem_name: str, report: SmsStatusReport) -> None:
        matched = self.store.match_status_report(
            modem=modem_name,
            mr=report.reference,
            recipient=self.normalize(report.recipient.number, report.recipient.ton)[0],
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
