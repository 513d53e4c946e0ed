"""Migration 021's PostgreSQL half: migration 020's triggers in PL/pgSQL (issue 18).

Migration 020 made the integration tables on both backends, but its triggers are SQLite's
(`store.integrations_schema`), so on PostgreSQL it left them out. These are the same triggers,
rule for rule: the same events, from the same row changes, only for a subscribed scope, fanned
out to one delivery per webhook, and the same `message_counts` totals (re-seeded here from the
rows, since nothing kept them on PostgreSQL before). On SQLite migration 021 does nothing.

Payloads are built as text, key by key, so they are byte for byte what SQLite's `json_object`
writes: keys in the same order, no spaces, `null` for NULL, integers as digits, strings
escaped by `to_json` (the same escapes as SQLite's: ``\\"``, ``\\\\``, ``\\n``-style, else
``\\u00xx`` below 0x20). PostgreSQL's `json_build_object` would put spaces around ``:``.

Differences a reader may notice: a trigger's WHEN clause cannot hold a subquery on PostgreSQL,
so the "somebody subscribed" test runs first thing in the function; a timestamp the trigger
makes (`smsd_now()`, the statement's start, as SQLite's 'now' is per statement) has
microseconds where SQLite's has milliseconds padded with zeros. Triggers on one table fire in
name order on PostgreSQL and newest first on SQLite; the names below give the same order where
it shows (a broadcast's last message: `broadcast.finished` before `message.delivered`).

The statements go through `store.backend.pg_sql` like all others: no ``?`` in them, and
``%`` would be doubled (there is none).
"""

from __future__ import annotations

__all__ = ["PG_EVENT_SCHEMA", "json_object_sql"]


def json_object_sql(*pairs: tuple[str, str]) -> str:
    """SQLite's ``json_object(k1, v1, ...)`` as a PostgreSQL text expression, same bytes."""
    parts: list[str] = []
    for n, (key, value) in enumerate(pairs):
        # Keys are our own snake_case names, so quoting is all json.dumps would do; json itself
        # stays out of `smsd send`, which imports the migrations (tests/test_startup.py).
        if not key.replace("_", "").isalnum() or not key.isascii():
            raise ValueError(f"not a plain event key: {key!r}")
        head = ("{" if n == 0 else ",") + f'"{key}"' + ":"
        parts.append("'" + head.replace("'", "''") + "'")
        parts.append(f"coalesce(to_json({value})::text, 'null')")
    return "concat(" + ", ".join(parts) + ", '}')"


def _function(name: str, body: str) -> str:
    return (
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n{body}\n    RETURN NULL;\nEND $$"
    )


def _trigger(name: str, on: str) -> str:
    """``CREATE TRIGGER`` for `on` ("AFTER ... ON table [WHEN (...)]"), a row trigger."""
    event, _, when = on.partition(" WHEN ")
    condition = f" WHEN {when}" if when else ""
    return f"CREATE TRIGGER {name} {event} FOR EACH ROW{condition} EXECUTE FUNCTION {name}()"


def _event(kind: str, business: str, payload: str, *, scope: str | None = None) -> str:
    """The body that records one event when `scope` (default: `business`) has a webhook."""
    return (
        f"    IF smsd_subscribed({scope or business}) THEN\n"  # noqa: S608 - constant SQL
        "        INSERT INTO events (kind, business_id, payload)\n"
        f"        VALUES ({kind}, {business}, {payload});\n"
        "    END IF;"
    )


def _count(kind: str) -> str:
    return (
        "    INSERT INTO message_counts (modem, kind, n)"  # noqa: S608 - constant SQL
        f" VALUES (coalesce(NEW.modem, ''), {kind}, 1)\n"
        "    ON CONFLICT (modem, kind) DO UPDATE SET n = message_counts.n + 1;"
    )


_USER_CODE = "(SELECT user_code FROM people WHERE id = NEW.person_id)"
_MODEM_KIND = "CASE WHEN NEW.healthy <> 0 THEN 'modem.up' ELSE 'modem.down' END"
_MODEM_PAYLOAD = json_object_sql(("modem", "NEW.name"), ("error", "NEW.error"),
                                 ("at", "NEW.updated_at"))  # fmt: skip
_UNFINISHED = "('queued', 'sending')"

_HELPERS = (
    # The stored timestamp format (ISO-8601 UTC, microseconds) at the statement's start.
    "CREATE OR REPLACE FUNCTION smsd_now() RETURNS text LANGUAGE sql STABLE AS $$ SELECT"
    " to_char(statement_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"
    " || '+00:00' $$",
    # Does the scope (a business id, or NULL: the operator) have a live webhook? PL/pgSQL,
    # not SQL: its plan is kept for the session (a SQL function called from PL/pgSQL is
    # planned at every call, ~75 us, most of the triggers' cost when routing).
    "CREATE OR REPLACE FUNCTION smsd_subscribed(scope bigint) RETURNS boolean LANGUAGE plpgsql"
    " STABLE AS $$ BEGIN RETURN EXISTS (SELECT 1 FROM webhooks w WHERE w.removed_at IS NULL"
    " AND (w.business_id = scope OR (scope IS NULL AND w.business_id IS NULL))); END $$",
    # Migration 020's default (SQLite's strftime 'now') means nothing here.
    "ALTER TABLE events ALTER COLUMN created_at SET DEFAULT smsd_now()",
)

# (trigger name, function body, "AFTER ... ON table [WHEN (...)]"), as migration 020's.
_TRIGGERS = (
    ("events_fan_out",
     "    INSERT INTO webhook_deliveries (event_id, webhook_id, next_attempt_at, window_start)\n"
     "    SELECT NEW.id, w.id, NEW.created_at, NEW.created_at FROM webhooks w\n"
     "    WHERE w.business_id IS NOT DISTINCT FROM NEW.business_id AND w.removed_at IS NULL\n"
     "    ORDER BY w.id;",
     "AFTER INSERT ON events"),
    ("event_request_created",
     _event("'request.created'", "NEW.business_id", json_object_sql(
         ("request_id", "NEW.id"), ("user_code", _USER_CODE),
         ("code", "(SELECT keyword FROM codes WHERE id = NEW.code_id)"), ("at", "NEW.at"))),
     "AFTER INSERT ON requests"),
    ("event_optin_changed",
     _event("'optin.changed'", "NEW.business_id", json_object_sql(
         ("user_code", _USER_CODE), ("state", "NEW.kind"),
         ("channel", "coalesce(NEW.channel,"
                     " CASE WHEN NEW.incoming_id IS NULL THEN 'operator' ELSE 'sms' END)"),
         ("keyword", "NEW.keyword"), ("at", "NEW.at"))),
     "AFTER INSERT ON optin_events"),
    ("event_message_received",
     _event("'message.received'", "NULL", json_object_sql(
         ("incoming_id", "NEW.id"), ("modem", "NEW.modem"), ("sender_type", "NEW.sender_type"),
         ("parts", "coalesce(NEW.concat_total, 1)"), ("state", "NEW.state"),
         ("received_at", "NEW.received_at"))),
     "AFTER INSERT ON incoming WHEN (NEW.state IN ('new', 'malformed'))"),
    ("event_message_outcome",
     _event("'message.' || NEW.state", "NULL", json_object_sql(
         ("outgoing_id", "NEW.id"), ("kind", "NEW.kind"), ("modem", "NEW.modem"),
         ("business_id", "NEW.business_id"), ("parts", "NEW.parts"), ("error", "NEW.error"),
         ("at", "coalesce(NEW.delivered_at, NEW.sent_at, smsd_now())"))),
     "AFTER UPDATE OF state ON outgoing"
     " WHEN (NEW.state IN ('delivered', 'failed') AND OLD.state <> NEW.state)"),
    ("event_modem_first",
     _event(_MODEM_KIND, "NULL", _MODEM_PAYLOAD),
     "AFTER INSERT ON modem_status"),
    ("event_modem_changed",
     _event(_MODEM_KIND, "NULL", _MODEM_PAYLOAD),
     "AFTER UPDATE OF healthy ON modem_status WHEN (OLD.healthy <> NEW.healthy)"),
    ("broadcast_finished",
     "    IF EXISTS (SELECT 1 FROM outgoing WHERE broadcast_id = NEW.broadcast_id\n"  # noqa: S608
     f"               AND state IN {_UNFINISHED}) THEN\n"
     "        RETURN NULL;\n"
     "    END IF;\n"
     "    INSERT INTO events (kind, business_id, payload)\n"
     "    SELECT 'broadcast.finished', b.business_id, " + json_object_sql(
         ("broadcast_id", "b.id"), ("queued", "b.queued"),
         ("sent", "(SELECT count(*) FROM outgoing WHERE broadcast_id = b.id"
                  " AND state IN ('sent', 'delivered'))"),
         ("failed", "(SELECT count(*) FROM outgoing WHERE broadcast_id = b.id"
                    " AND state = 'failed')"),
         ("at", "smsd_now()")) + "\n"
     "    FROM broadcasts b WHERE b.id = NEW.broadcast_id AND b.finished_at IS NULL\n"
     "        AND smsd_subscribed(b.business_id);\n"
     "    UPDATE broadcasts SET finished_at = smsd_now()\n"
     "    WHERE id = NEW.broadcast_id AND finished_at IS NULL;",
     "AFTER UPDATE OF state ON outgoing WHEN (NEW.broadcast_id IS NOT NULL"
     f" AND OLD.state IN {_UNFINISHED} AND NEW.state NOT IN {_UNFINISHED})"),
    ("count_received", _count("'received'"),
     "AFTER INSERT ON incoming WHEN (NEW.state <> 'partial')"),
    ("count_sent", _count("'sent'"),
     "AFTER UPDATE OF sent_at ON outgoing"
     " WHEN (OLD.sent_at IS NULL AND NEW.sent_at IS NOT NULL)"),
    ("count_outcome", _count("NEW.state"),
     "AFTER UPDATE OF state ON outgoing"
     " WHEN (NEW.state IN ('delivered', 'failed') AND OLD.state <> NEW.state)"),
)  # fmt: skip

# Nothing kept the totals on PostgreSQL before this migration: count them again.
_RESEED = (
    "DELETE FROM message_counts",
    "INSERT INTO message_counts SELECT coalesce(modem, ''), 'received', count(*) FROM incoming"
    " WHERE state != 'partial' GROUP BY 1",
    "INSERT INTO message_counts SELECT coalesce(modem, ''), 'sent', count(*) FROM outgoing"
    " WHERE sent_at IS NOT NULL GROUP BY 1",
    "INSERT INTO message_counts SELECT coalesce(modem, ''), state, count(*) FROM outgoing"
    " WHERE state IN ('delivered', 'failed') GROUP BY 1, 2",
)

#: The statements of migration 021 on PostgreSQL, in order.
PG_EVENT_SCHEMA: tuple[str, ...] = (
    *_HELPERS,
    *(_function(name, body) for name, body, _ in _TRIGGERS),
    *(_trigger(name, on) for name, _, on in _TRIGGERS),
    *_RESEED,
)
