"""What `smsd send` does, without Click: queue one message and say so.

Shared by the Click command (`cli/send.py`) and its quick path (`cli/quicksend.py`), so both
write the same rows and print the same lines. A number that opted out is refused unless
`force` (audited); texts over ``[outgoing] max_parts`` are refused; the daemon notices the new
row through ``PRAGMA data_version``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

from cli.instance import daemon_running
from cli.operator import operator_name
from cli.session import Context
from smsd.operator import check_parts, check_recipient

__all__ = ["Queued", "queue_message", "queued_line", "warning_line"]


class Queued(NamedTuple):
    """One queued message: its outbox id, the E.164 recipient and the part count."""

    id: int
    recipient: str
    parts: int


def queue_message(ctx: Context, recipient: str, text: str, *, force: bool) -> Queued:
    """Queue `text` to `recipient` (already E.164) in one transaction; `Refused` if it may not
    be sent (opted out without `force`, too many parts): then nothing is written."""
    parts = check_parts(text, ctx.source().outgoing().max_parts)
    store = ctx.store(create=True)
    with store.transaction():
        if check_recipient(store, recipient, force=force):
            person = store.directory.find_person(recipient)
            subject = person.user_code if person is not None else "unregistered number"
            store.audit.record_audit(operator_name(), "send_forced", subject, "opted out")
        new_id = store.broadcasts.queue_manual(recipient, text, now=datetime.now(UTC))
    return Queued(new_id, recipient, parts)


def warning_line(db: str) -> str | None:
    """The stderr warning when no daemon runs on `db` (the message waits), else None."""
    if daemon_running(db):  # `smsd run` holds an flock on its database
        return None
    return f"Warning: no daemon is running on {db}: the message waits until one starts"


def queued_line(queued: Queued) -> str:
    """The one line `smsd send` prints on success."""
    plural = "s" if queued.parts > 1 else ""
    return f"queued message {queued.id} to {queued.recipient} ({queued.parts} part{plural})"
