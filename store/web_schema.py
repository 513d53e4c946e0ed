"""Migration 010: what the web portal keeps (sessions, sign-in throttling, texted codes).

- `web_sessions`: server-side sessions; the cookie carries an opaque random id and only its
  SHA-256 is stored, so a copy of the database cannot be replayed as a cookie.
- `web_throttle`: failures per key (an account or a client address) with a lock-out time.
- `web_codes`: one-time codes texted for sign-up and password reset (hash only, expiry,
  attempts, used).
- `businesses.pending`: 1 while a business that signed up on the web awaits approval
  (`smsd company approve NAME`); businesses added by the operator are live (0).
- `optin_events.channel`: where an opt-in or opt-out came from ('sms' or 'web').
"""

from __future__ import annotations

import sqlite3

__all__ = ["m010_web"]

_SCRIPT = """
CREATE TABLE web_sessions (
    id_hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('person', 'business', 'signup', 'reset')),
    subject INTEGER NOT NULL,
    csrf TEXT NOT NULL,
    created_at TEXT NOT NULL,
    seen_at TEXT NOT NULL
);
CREATE INDEX web_sessions_subject ON web_sessions(kind, subject);
CREATE TABLE web_throttle (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    locked_until TEXT,
    updated_at TEXT NOT NULL
);
CREATE TABLE web_codes (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES people(id),
    purpose TEXT NOT NULL CHECK (purpose IN ('signup', 'reset')),
    code_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    used_at TEXT
);
CREATE INDEX web_codes_person ON web_codes(person_id, purpose, created_at);
ALTER TABLE businesses ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
ALTER TABLE optin_events ADD COLUMN channel TEXT NOT NULL DEFAULT 'sms'
"""


def m010_web(conn: sqlite3.Connection) -> None:
    """Create the portal's tables and columns."""
    for statement in (s.strip() for s in _SCRIPT.split(";")):
        if statement:
            conn.execute(statement)
