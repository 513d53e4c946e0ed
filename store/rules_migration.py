"""Migration 006: the tables of the messaging-rules parts (see `store.rules_schema`).

No imports from the rest of the store: `store.migrations` loads this before `store.base`.
"""

from __future__ import annotations

import sqlite3

__all__ = ["m006_rules"]

_SCHEMA = (
    "CREATE TABLE business_policy (business_id INTEGER PRIMARY KEY REFERENCES businesses(id),"
    " double_opt_in INTEGER NOT NULL DEFAULT 0, frequency TEXT)",
    "CREATE TABLE optin_pending (id INTEGER PRIMARY KEY,"
    " person_id INTEGER NOT NULL REFERENCES people(id),"
    " business_id INTEGER NOT NULL REFERENCES businesses(id),"
    " code_id INTEGER NOT NULL REFERENCES codes(id), keyword TEXT, at TEXT NOT NULL,"
    " incoming_id INTEGER, confirmed_at TEXT, confirm_incoming_id INTEGER)",
    "CREATE INDEX optin_pending_open ON optin_pending(person_id, business_id)"
    " WHERE confirmed_at IS NULL",
    "CREATE TABLE gateway_consent (id INTEGER PRIMARY KEY, phone TEXT NOT NULL,"
    " person_id INTEGER REFERENCES people(id), kind TEXT NOT NULL CHECK (kind IN ('in', 'out')),"
    " at TEXT NOT NULL, keyword TEXT, channel TEXT NOT NULL, incoming_id INTEGER, actor TEXT)",
    "CREATE INDEX gateway_consent_phone ON gateway_consent(phone, id)",
    "ALTER TABLE optin_events ADD COLUMN channel TEXT",
    "CREATE TABLE polls (id INTEGER PRIMARY KEY,"
    " code_id INTEGER NOT NULL UNIQUE REFERENCES codes(id),"
    " business_id INTEGER NOT NULL REFERENCES businesses(id), options TEXT NOT NULL,"
    " created_at TEXT NOT NULL, closes_at TEXT, closed_at TEXT)",
    "CREATE TABLE poll_votes (poll_id INTEGER NOT NULL REFERENCES polls(id),"
    " person_id INTEGER NOT NULL REFERENCES people(id), option TEXT NOT NULL, at TEXT NOT NULL,"
    " incoming_id INTEGER, PRIMARY KEY (poll_id, person_id))",
    "CREATE TABLE scheduled_broadcasts (id INTEGER PRIMARY KEY,"
    " business_id INTEGER NOT NULL REFERENCES businesses(id), text TEXT NOT NULL, next_at TEXT,"
    " every TEXT CHECK (every IN ('daily', 'weekly')), created_at TEXT NOT NULL,"
    " runs INTEGER NOT NULL DEFAULT 0, last_run_at TEXT, cancelled_at TEXT, actor TEXT)",
    "CREATE INDEX scheduled_due ON scheduled_broadcasts(next_at) WHERE next_at IS NOT NULL",
    "CREATE TABLE retired_codes (code_id INTEGER PRIMARY KEY REFERENCES codes(id),"
    " at TEXT NOT NULL, actor TEXT, reason TEXT)",
)


def m006_rules(conn: sqlite3.Connection) -> None:
    """Consent, double opt-in, polls, scheduled broadcasts and retired codes (issue 16)."""
    for statement in _SCHEMA:
        conn.execute(statement)
