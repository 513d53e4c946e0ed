"""Migration 020's schema (run by store/migrations.py): tokens, webhooks, events, deliveries.

Events are written by triggers, so each one is committed in the same transaction as the row
that caused it (a request, an opt event, an incoming message, a delivery report, a modem's
status, the last message of a broadcast) whatever code path wrote that row, and none is lost
if anything crashes after the commit. An event is recorded only for a scope (a business, or
the operator: `business_id IS NULL`) that has at least one webhook; each event fans out to one
`webhook_deliveries` row per webhook of its scope, which `smsd web` delivers.

Business-scoped payloads carry user codes, keywords, counts and times only; operator payloads
carry ids, modem names and states, never a phone number or message text.
"""

from __future__ import annotations

__all__ = ["EVENT_KINDS", "INTEGRATIONS_SCHEMA", "NOW_SQL"]

#: Every event kind, and whether it is business-scoped (True) or the operator's (False).
EVENT_KINDS: dict[str, bool] = {
    "request.created": True,
    "optin.changed": True,
    "broadcast.finished": True,
    "message.received": False,
    "message.delivered": False,
    "message.failed": False,
    "modem.down": False,
    "modem.up": False,
    "balance.low": False,
}

#: The current time in the stored timestamp format (ISO-8601 UTC, microseconds).
NOW_SQL = "(strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000+00:00')"


def _subscribed(scope: str) -> str:
    """A trigger's WHEN clause: the scope (a business id expression or NULL) has a webhook."""
    return (
        f"EXISTS (SELECT 1 FROM webhooks w WHERE w.business_id IS {scope} AND w.removed_at IS NULL)"
    )


_TABLES = f"""
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    business_id INTEGER REFERENCES businesses(id),
    scope TEXT NOT NULL CHECK (scope IN ('read', 'write', 'operator')),
    token_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT,
    CHECK ((scope = 'operator') = (business_id IS NULL))
);
CREATE TABLE api_idempotency (
    owner TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    response TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (owner, key)
);
CREATE TABLE broadcasts (
    id INTEGER PRIMARY KEY,
    business_id INTEGER NOT NULL REFERENCES businesses(id),
    created_at TEXT NOT NULL,
    queued INTEGER NOT NULL,
    finished_at TEXT
);
ALTER TABLE outgoing ADD COLUMN broadcast_id INTEGER REFERENCES broadcasts(id);
CREATE INDEX outgoing_broadcast_state ON outgoing(broadcast_id, state)
    WHERE broadcast_id IS NOT NULL;
CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY,
    business_id INTEGER REFERENCES businesses(id),
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at TEXT NOT NULL,
    removed_at TEXT
);
CREATE INDEX webhooks_scope ON webhooks(business_id) WHERE removed_at IS NULL;
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE DEFAULT (lower(hex(randomblob(12)))),
    kind TEXT NOT NULL,
    business_id INTEGER REFERENCES businesses(id),
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT {NOW_SQL}
);
CREATE INDEX events_created ON events(created_at);
CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY,
    event_id INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    webhook_id INTEGER NOT NULL REFERENCES webhooks(id),
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    -- retries stop 24 h (by default) after this: the event's time, or the operator's retry
    window_start TEXT NOT NULL,
    last_attempt_at TEXT,
    last_status INTEGER,
    last_error TEXT,
    delivered_at TEXT,
    UNIQUE (event_id, webhook_id)
);
CREATE TABLE webhook_lease (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    holder TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX deliveries_due ON webhook_deliveries(next_attempt_at) WHERE state = 'pending';
CREATE INDEX deliveries_webhook_state ON webhook_deliveries(webhook_id, state);
CREATE TRIGGER events_fan_out AFTER INSERT ON events BEGIN
    INSERT INTO webhook_deliveries (event_id, webhook_id, next_attempt_at, window_start)
    SELECT NEW.id, w.id, NEW.created_at, NEW.created_at FROM webhooks w
    WHERE w.business_id IS NEW.business_id AND w.removed_at IS NULL;
END
"""

# Totals per modem for /metrics, kept by triggers so a scrape never counts millions of rows;
# seeded from the rows already there. 'sent' counts first sends, 'delivered'/'failed' every
# transition into that state.
_COUNTS = """
CREATE TABLE message_counts (
    modem TEXT NOT NULL,
    kind TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (modem, kind)
) WITHOUT ROWID;
INSERT INTO message_counts SELECT coalesce(modem, ''), 'received', count(*) FROM incoming
    WHERE state != 'partial' GROUP BY 1;
INSERT INTO message_counts SELECT coalesce(modem, ''), 'sent', count(*) FROM outgoing
    WHERE sent_at IS NOT NULL GROUP BY 1;
INSERT INTO message_counts SELECT coalesce(modem, ''), state, count(*) FROM outgoing
    WHERE state IN ('delivered', 'failed') GROUP BY 1, 2;
CREATE TRIGGER count_received AFTER INSERT ON incoming WHEN NEW.state != 'partial' BEGIN
    INSERT INTO message_counts VALUES (coalesce(NEW.modem, ''), 'received', 1)
    ON CONFLICT (modem, kind) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER count_sent AFTER UPDATE OF sent_at ON outgoing
WHEN OLD.sent_at IS NULL AND NEW.sent_at IS NOT NULL BEGIN
    INSERT INTO message_counts VALUES (coalesce(NEW.modem, ''), 'sent', 1)
    ON CONFLICT (modem, kind) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER count_outcome AFTER UPDATE OF state ON outgoing
WHEN NEW.state IN ('delivered', 'failed') AND OLD.state != NEW.state BEGIN
    INSERT INTO message_counts VALUES (coalesce(NEW.modem, ''), NEW.state, 1)
    ON CONFLICT (modem, kind) DO UPDATE SET n = n + 1;
END
"""

_USER_CODE = "(SELECT user_code FROM people WHERE id = NEW.person_id)"

_TRIGGERS = f"""
CREATE TRIGGER event_request_created AFTER INSERT ON requests
WHEN {_subscribed("NEW.business_id")} BEGIN
    INSERT INTO events (kind, business_id, payload) VALUES ('request.created', NEW.business_id,
        json_object('request_id', NEW.id, 'user_code', {_USER_CODE},
            'code', (SELECT keyword FROM codes WHERE id = NEW.code_id), 'at', NEW.at));
END;
CREATE TRIGGER event_optin_changed AFTER INSERT ON optin_events
WHEN {_subscribed("NEW.business_id")} BEGIN
    INSERT INTO events (kind, business_id, payload) VALUES ('optin.changed', NEW.business_id,
        json_object('user_code', {_USER_CODE}, 'state', NEW.kind,
            'channel', coalesce(NEW.channel,
                CASE WHEN NEW.incoming_id IS NULL THEN 'operator' ELSE 'sms' END),
            'keyword', NEW.keyword, 'at', NEW.at));
END;
CREATE TRIGGER event_message_received AFTER INSERT ON incoming
WHEN NEW.state IN ('new', 'malformed') AND {_subscribed("NULL")} BEGIN
    INSERT INTO events (kind, payload) VALUES ('message.received',
        json_object('incoming_id', NEW.id, 'modem', NEW.modem, 'sender_type', NEW.sender_type,
            'parts', coalesce(NEW.concat_total, 1), 'state', NEW.state,
            'received_at', NEW.received_at));
END;
CREATE TRIGGER event_message_outcome AFTER UPDATE OF state ON outgoing
WHEN NEW.state IN ('delivered', 'failed') AND OLD.state != NEW.state
    AND {_subscribed("NULL")} BEGIN
    INSERT INTO events (kind, payload) VALUES ('message.' || NEW.state,
        json_object('outgoing_id', NEW.id, 'kind', NEW.kind, 'modem', NEW.modem,
            'business_id', NEW.business_id, 'parts', NEW.parts, 'error', NEW.error,
            'at', coalesce(NEW.delivered_at, NEW.sent_at, {NOW_SQL})));
END;
CREATE TRIGGER event_modem_first AFTER INSERT ON modem_status
WHEN {_subscribed("NULL")} BEGIN
    INSERT INTO events (kind, payload) VALUES
        (CASE WHEN NEW.healthy THEN 'modem.up' ELSE 'modem.down' END,
         json_object('modem', NEW.name, 'error', NEW.error, 'at', NEW.updated_at));
END;
CREATE TRIGGER event_modem_changed AFTER UPDATE OF healthy ON modem_status
WHEN OLD.healthy != NEW.healthy AND {_subscribed("NULL")} BEGIN
    INSERT INTO events (kind, payload) VALUES
        (CASE WHEN NEW.healthy THEN 'modem.up' ELSE 'modem.down' END,
         json_object('modem', NEW.name, 'error', NEW.error, 'at', NEW.updated_at));
END;
CREATE TRIGGER broadcast_finished AFTER UPDATE OF state ON outgoing
WHEN NEW.broadcast_id IS NOT NULL AND OLD.state IN ('queued', 'sending')
    AND NEW.state NOT IN ('queued', 'sending')
    AND NOT EXISTS (SELECT 1 FROM outgoing WHERE broadcast_id = NEW.broadcast_id
                    AND state IN ('queued', 'sending')) BEGIN
    INSERT INTO events (kind, business_id, payload)
    SELECT 'broadcast.finished', b.business_id, json_object('broadcast_id', b.id,
        'queued', b.queued,
        'sent', (SELECT count(*) FROM outgoing WHERE broadcast_id = b.id
                 AND state IN ('sent', 'delivered')),
        'failed', (SELECT count(*) FROM outgoing WHERE broadcast_id = b.id AND state = 'failed'),
        'at', {NOW_SQL})
    FROM broadcasts b WHERE b.id = NEW.broadcast_id AND b.finished_at IS NULL
        AND {_subscribed("b.business_id")};
    UPDATE broadcasts SET finished_at = {NOW_SQL}
    WHERE id = NEW.broadcast_id AND finished_at IS NULL;
END
"""


def _split(script: str) -> list[str]:
    """Statements of `script`, keeping each trigger body (with its inner `;`) whole."""
    out: list[str] = []
    for chunk in script.split(";\n"):
        text = chunk.strip()
        if not text:
            continue
        if out and out[-1].startswith("CREATE TRIGGER") and not out[-1].endswith("END"):
            out[-1] += ";\n" + text
        else:
            out.append(text)
    return out


#: The statements of migration 020, in order.
INTEGRATIONS_SCHEMA: tuple[str, ...] = tuple(_split(_TABLES) + _split(_TRIGGERS) + _split(_COUNTS))
