"""Migration 023's PostgreSQL half: the INSERT triggers of migration 021 once per statement.

Migration 021's triggers fire once per row, as SQLite's must: routing a burst inserts ~50
incoming rows, ~45 requests and ~40 opt events in three statements, and each row ran a
PL/pgSQL function (an upsert of the same `message_counts` row for each message; a webhook
lookup for each event). PostgreSQL can fire a trigger once per statement with the statement's
new rows as a table (``REFERENCING NEW TABLE``): these are the same rules over that table,
with the same results: the same `message_counts` totals (one upsert per modem and statement),
the same events with the same payloads, in the rows' order (an AFTER row trigger fires at the
end of its statement anyway, row after row). The UPDATE triggers on `outgoing` and
`modem_status` stay per row (a transition table cannot go with ``UPDATE OF``). On SQLite
migration 023 does nothing.
"""

from __future__ import annotations

from store.integrations_pg import json_object_sql

__all__ = ["PG_STATEMENT_TRIGGERS"]

_USER_CODE = "(SELECT user_code FROM people WHERE id = a.person_id)"
# A webhook of the row's business is live (`smsd_subscribed` of a business, inline: a
# function call per row would cost what the statement trigger saves).
_SUBSCRIBED = (
    "EXISTS (SELECT 1 FROM webhooks w WHERE w.removed_at IS NULL AND w.business_id = a.business_id)"
)
_ANY_WEBHOOK = "EXISTS (SELECT 1 FROM webhooks WHERE removed_at IS NULL)"

# (trigger, table, body over the transition table `added`): replaces 021's row trigger.
_TRIGGERS = (
    ("count_received", "incoming",
     "    INSERT INTO message_counts (modem, kind, n)\n"
     "    SELECT coalesce(a.modem, ''), 'received', count(*) FROM added a\n"
     "    WHERE a.state <> 'partial' GROUP BY 1\n"
     "    ON CONFLICT (modem, kind) DO UPDATE SET n = message_counts.n + EXCLUDED.n;"),
    ("event_message_received", "incoming",
     "    IF smsd_subscribed(NULL) THEN\n"  # noqa: S608 - constant SQL
     "        INSERT INTO events (kind, business_id, payload)\n"
     "        SELECT 'message.received', NULL, " + json_object_sql(
         ("incoming_id", "a.id"), ("modem", "a.modem"), ("sender_type", "a.sender_type"),
         ("parts", "coalesce(a.concat_total, 1)"), ("state", "a.state"),
         ("received_at", "a.received_at")) + "\n"
     "        FROM added a WHERE a.state IN ('new', 'malformed') ORDER BY a.id;\n"
     "    END IF;"),
    ("event_request_created", "requests",
     f"    IF {_ANY_WEBHOOK} THEN\n"  # noqa: S608 - constant SQL
     "        INSERT INTO events (kind, business_id, payload)\n"
     "        SELECT 'request.created', a.business_id, " + json_object_sql(
         ("request_id", "a.id"), ("user_code", _USER_CODE),
         ("code", "(SELECT keyword FROM codes WHERE id = a.code_id)"), ("at", "a.at")) + "\n"
     f"        FROM added a WHERE {_SUBSCRIBED} ORDER BY a.id;\n"
     "    END IF;"),
    ("event_optin_changed", "optin_events",
     f"    IF {_ANY_WEBHOOK} THEN\n"  # noqa: S608 - constant SQL
     "        INSERT INTO events (kind, business_id, payload)\n"
     "        SELECT 'optin.changed', a.business_id, " + json_object_sql(
         ("user_code", _USER_CODE), ("state", "a.kind"),
         ("channel", "coalesce(a.channel,"
                     " CASE WHEN a.incoming_id IS NULL THEN 'operator' ELSE 'sms' END)"),
         ("keyword", "a.keyword"), ("at", "a.at")) + "\n"
     f"        FROM added a WHERE {_SUBSCRIBED} ORDER BY a.id;\n"
     "    END IF;"),
)  # fmt: skip


def _statements(name: str, table: str, body: str) -> tuple[str, ...]:
    return (
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n{body}\n    RETURN NULL;\nEND $$",
        f"DROP TRIGGER IF EXISTS {name} ON {table}",
        f"CREATE TRIGGER {name} AFTER INSERT ON {table} REFERENCING NEW TABLE AS added"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
    )


#: The statements of migration 023 on PostgreSQL, in order.
PG_STATEMENT_TRIGGERS: tuple[str, ...] = tuple(
    statement for trigger in _TRIGGERS for statement in _statements(*trigger)
)
