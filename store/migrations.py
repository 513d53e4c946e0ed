"""Schema migrations: named, ordered functions recorded in the `migrations` table.

Every migration of the schema is here, in the order it runs: a function `mNNN_name` whose
recorded name is `NNN_name` (the function's name without its leading "m"), registered by
`@_migration` as it is defined, so the file's order is the order applied.
`run_migrations` applies, in order, every migration whose name is not yet recorded. Each one
runs in its own `BEGIN IMMEDIATE` transaction together with the row that records it, so a crash
mid-migration leaves nothing half-applied, and two processes opening the same new file at once
cannot both apply it (the second re-checks under the write lock). Never edit a released
migration: append a new one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime

from store.backend import PG_PRELUDE, Connection
from store.integrations_pg import PG_EVENT_SCHEMA
from store.integrations_rows import PG_STATEMENT_TRIGGERS
from store.integrations_schema import INTEGRATIONS_SCHEMA
from store.schema_sql import INITIAL_SCHEMA, WEB_SCHEMA

__all__ = ["MIGRATIONS", "applied_migrations", "run_migrations"]

Migration = Callable[[Connection], None]

# Timestamps are ISO-8601 text in UTC (see ARCHITECTURE.md), so TEXT columns sort by time.


# Migration 002: the business-facing privacy views (see `store.business_view`: they carry
# user codes, keywords, counts and times, and no column that could hold a phone number or a
# name), exact unit prices on invoice lines, and indexes.
_ACCOUNTS_PRIVACY = """
CREATE VIEW business_requests AS
    SELECT r.id AS request_id, r.business_id, r.code_id, p.user_code, c.keyword, r.at
    FROM requests r JOIN people p ON p.id = r.person_id JOIN codes c ON c.id = r.code_id;
CREATE VIEW business_optins AS
    SELECT e.id AS event_id, e.business_id, p.user_code, e.kind, e.at
    FROM optin_events e JOIN people p ON p.id = e.person_id;
CREATE VIEW business_broadcasts AS
    SELECT o.id AS outgoing_id, o.business_id, o.state, o.created_at, o.sent_at,
           coalesce(o.parts, 1) AS parts
    FROM outgoing o WHERE o.kind = 'broadcast';
CREATE VIEW request_facts AS
    SELECT r.id AS request_id, r.person_id, r.business_id, c.keyword, r.at,
           coalesce(b.sector, 'unknown') AS sector,
           coalesce(p.age_band, 'unknown') AS age_band,
           coalesce(p.gender, 'unknown') AS gender,
           coalesce(p.country, 'unknown') AS country
    FROM requests r JOIN people p ON p.id = r.person_id JOIN codes c ON c.id = r.code_id
    JOIN businesses b ON b.id = r.business_id;
ALTER TABLE invoice_lines ADD COLUMN unit_price TEXT;
ALTER TABLE invoice_lines ADD COLUMN kind TEXT;
CREATE INDEX outgoing_business_kind_created ON outgoing(business_id, kind, created_at);
CREATE INDEX outgoing_person ON outgoing(person_id);
CREATE INDEX audit_subject ON audit(subject)
"""

# Migration 004: narrow views over single tables (opaque ids, keywords, times and coarse
# attributes), so a query joins people only when a breakdown needs a person's attribute; and
# a covering index instead of `requests_business_at`, so history, counts and stats of a
# business never touch the 10 M-row table itself.
_SCALE_VIEWS = """
CREATE VIEW request_keys AS
    SELECT id AS request_id, business_id, code_id, person_id, at FROM requests;
CREATE VIEW optin_keys AS
    SELECT id AS event_id, business_id, person_id, kind, at FROM optin_events;
CREATE VIEW person_facts AS
    SELECT id AS person_id, user_code,
           coalesce(age_band, 'unknown') AS age_band,
           coalesce(gender, 'unknown') AS gender,
           coalesce(country, 'unknown') AS country
    FROM people;
CREATE VIEW business_facts AS
    SELECT id AS business_id, coalesce(sector, 'unknown') AS sector FROM businesses;
DROP INDEX requests_business_at;
CREATE INDEX requests_business_at_cover ON requests(business_id, at, id, person_id, code_id);
CREATE INDEX optin_business_person ON optin_events(business_id, person_id, kind)
"""

# Issue 16: the messaging-rules parts (store/consent.py, polls.py, schedules.py, code_admin.py).
_RULES = (
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

#: (recorded name, function), in order; a recorded name must never change.
_REGISTERED: list[tuple[str, Migration]] = []


def _migration(fn: Migration) -> Migration:
    """Register `fn` under its name without the leading "m" (`m001_initial` -> 001_initial)."""
    _REGISTERED.append((fn.__name__.removeprefix("m"), fn))
    return fn


def _statements(script: str) -> list[str]:
    # executescript() would COMMIT our open transaction first, so statements run one by one.
    return [s.strip() for s in script.split(";") if s.strip()]


@_migration
def m001_initial(conn: Connection) -> None:
    """Create the whole schema of ARCHITECTURE.md with its indexes."""
    for statement in _statements(INITIAL_SCHEMA):
        conn.execute(statement)


@_migration
def m002_accounts_privacy(conn: Connection) -> None:
    """Create the business-facing views, exact unit prices on invoice lines, and indexes."""
    for statement in _statements(_ACCOUNTS_PRIVACY):
        conn.execute(statement)


@_migration
def m003_live_copies(conn: Connection) -> None:
    """Index the incoming rows whose modem copy is still live (dedupe key not released)."""
    conn.execute(
        "CREATE INDEX incoming_live_copy ON incoming (modem, storage, storage_index)"
        " WHERE dedupe_key NOT LIKE '%#released:%'"
    )


@_migration
def m004_scale_views(conn: Connection) -> None:
    """Narrow privacy views and covering indexes for business queries at 10 M requests."""
    for statement in _statements(_SCALE_VIEWS):
        conn.execute(statement)


@_migration
def m005_modems(conn: Connection) -> None:
    """The daemon's modem reports, and a preferred modem per business."""
    conn.execute(
        "CREATE TABLE modem_status (name TEXT PRIMARY KEY, url TEXT NOT NULL,"
        " healthy INTEGER NOT NULL, updated_at TEXT NOT NULL, session INTEGER,"
        " details TEXT, error TEXT)"
    )
    conn.execute("ALTER TABLE businesses ADD COLUMN modem TEXT")


@_migration
def m006_rules(conn: Connection) -> None:
    """Consent policy, double opt-in, gateway-wide consent, polls, schedules, retired codes.

    `optin_events.channel` NULL reads as 'sms' with an incoming message, else 'operator'.
    """
    for statement in _RULES:
        conn.execute(statement)


@_migration
def m007_balances(conn: Connection) -> None:
    """SIM balances read by USSD per modem, and requests for a fresh one (`--refresh`)."""
    conn.execute(
        "CREATE TABLE modem_balances (id INTEGER PRIMARY KEY, modem TEXT NOT NULL,"
        " at TEXT NOT NULL, text TEXT, amount TEXT, currency TEXT, error TEXT)"
    )
    conn.execute("CREATE INDEX modem_balances_latest ON modem_balances (modem, id)")
    conn.execute(
        "CREATE TABLE balance_requests (id INTEGER PRIMARY KEY, modem TEXT,"
        " requested_at TEXT NOT NULL, balance_id INTEGER REFERENCES modem_balances (id))"
    )


@_migration
def m008_hosts(conn: Connection) -> None:
    """Several gateway hosts on one store: who claimed an outgoing row, whose modem a status is."""
    conn.execute("ALTER TABLE outgoing ADD COLUMN claimed_by TEXT")
    conn.execute("ALTER TABLE modem_status ADD COLUMN host TEXT")
    conn.execute(
        "CREATE INDEX outgoing_sending ON outgoing(state, claimed_at) WHERE state = 'sending'"
    )
    conn.execute("CREATE TABLE gateway_hosts (host TEXT PRIMARY KEY, seen_at TEXT NOT NULL)")


@_migration
def m009_stats_rollups(conn: Connection) -> None:
    """Roll-ups for gateway-wide statistics (see `store.rollups`); filled by the first fold."""
    conn.execute(
        "CREATE TABLE stats_cells (dim TEXT NOT NULL, business_id INTEGER NOT NULL,"
        " cell TEXT NOT NULL, people INTEGER NOT NULL, requests INTEGER NOT NULL,"
        " PRIMARY KEY (dim, business_id, cell))"
    )
    conn.execute(
        "CREATE TABLE stats_cell_people (dim TEXT NOT NULL, cell TEXT NOT NULL,"
        " people INTEGER NOT NULL, PRIMARY KEY (dim, cell))"
    )
    # One row once the first fold ran (no row: nothing folded yet).
    conn.execute("CREATE TABLE stats_watermark (last_request_id INTEGER NOT NULL)")


# Migration 010: the web portal (`smsd web`): server-side sessions (only the SHA-256 of the
# cookie's id is stored), sign-in throttling per key, one-time codes texted for sign-up and
# reset (hashed), `businesses.pending` while a web sign-up awaits `smsd company approve`
# (businesses the operator adds are live). Web opt-ins/outs use `optin_events.channel`
# (migration 006) = 'web'.


@_migration
def m010_web(conn: Connection) -> None:
    """The web portal's sessions, sign-in throttling, texted codes and pending businesses."""
    for statement in _statements(WEB_SCHEMA):
        conn.execute(statement)


@_migration
def m020_integrations(conn: Connection) -> None:
    """API tokens, idempotency keys, broadcasts, webhooks, events, and the triggers that
    write events in the transaction of what causes them (store/integrations_schema.py).

    On PostgreSQL the tables are made but not the triggers (SQLite's trigger SQL): those
    come in PL/pgSQL with migration 021.
    """
    postgres = not isinstance(conn, sqlite3.Connection)
    for statement in INTEGRATIONS_SCHEMA:
        if postgres and statement.lstrip().upper().startswith("CREATE TRIGGER"):
            continue
        conn.execute(statement)


@_migration
def m021_pg_event_triggers(conn: Connection) -> None:
    """On PostgreSQL, migration 020's triggers in PL/pgSQL (store/integrations_pg.py): the
    same events and fan-out, and `message_counts` counted again. Nothing to do on SQLite."""
    if isinstance(conn, sqlite3.Connection):
        return
    for statement in PG_EVENT_SCHEMA:
        conn.execute(statement)


@_migration
def m022_modem_claims(conn: Connection) -> None:
    """Modem names held by one gateway host each (`store.modems`), seeded from the hosts
    the status rows name; and the names a host was refused, for `smsd modem status`."""
    conn.execute(
        "CREATE TABLE modem_claims (name TEXT PRIMARY KEY, host TEXT NOT NULL,"
        " claimed_at TEXT NOT NULL)"
    )
    conn.execute(
        "INSERT INTO modem_claims (name, host, claimed_at)"
        " SELECT name, host, updated_at FROM modem_status WHERE host IS NOT NULL"
    )
    conn.execute(
        "CREATE TABLE modem_refusals (name TEXT NOT NULL, host TEXT NOT NULL,"
        " holder TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (name, host))"
    )


@_migration
def m023_pg_statement_triggers(conn: Connection) -> None:
    """On PostgreSQL, the INSERT triggers of migration 021 once per statement over its new
    rows (store/integrations_rows.py): the same counts and events, without a PL/pgSQL call
    per routed row. Nothing to do on SQLite."""
    if isinstance(conn, sqlite3.Connection):
        return
    for statement in PG_STATEMENT_TRIGGERS:
        conn.execute(statement)


@_migration
def m024_pg_json_arrays(conn: Connection) -> None:
    """On PostgreSQL, `smsd_texts` and `smsd_bigints`, which the translated ``IN (SELECT
    value FROM json_each(?))`` calls (`store.backend`). `PG_PRELUDE` has just created them, as
    it does before every migration; the migration only records that the schema needs them, so
    a read-only open of an older database refuses it instead of failing at its first lookup."""
    if isinstance(conn, sqlite3.Connection):
        return
    conn.execute("SELECT smsd_texts('[]'::json), smsd_bigints('[]'::json)")


MIGRATIONS: tuple[tuple[str, Migration], ...] = tuple(_REGISTERED)


def applied_migrations(conn: Connection) -> list[str]:
    """Names of the migrations recorded in the database, in the order they were applied."""
    rows = conn.execute("SELECT name FROM migrations ORDER BY rowid").fetchall()
    return [str(r[0]) for r in rows]


def run_migrations(conn: Connection) -> list[str]:
    """Apply every pending migration; return the names applied now (empty when up to date).

    `conn` must be in autocommit mode (`isolation_level=None`): transactions are explicit here.
    The same list runs on both backends (`store.backend` translates the SQL); on PostgreSQL the
    bookkeeping table gets an explicit `rowid` (SQLite's implicit one keeps the order), and
    `PG_PRELUDE` creates the few SQL objects the shared statements need there.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        if not isinstance(conn, sqlite3.Connection):  # a store.postgres.PgDatabase
            conn.execute(
                "CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY,"
                " applied_at TEXT NOT NULL, rowid BIGINT GENERATED ALWAYS AS IDENTITY)"
            )
            for statement in PG_PRELUDE:
                conn.execute(statement)
        else:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS migrations"
                " (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    applied_now: list[str] = []
    for name, migration in MIGRATIONS:
        conn.execute("BEGIN IMMEDIATE")
        try:
            done = conn.execute("SELECT 1 FROM migrations WHERE name = ?", (name,)).fetchone()
            if done is None:
                migration(conn)
                conn.execute(
                    "INSERT INTO migrations (name, applied_at) VALUES (?, ?)",
                    (name, datetime.now(UTC).isoformat(timespec="microseconds")),
                )
                applied_now.append(name)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return applied_now
