"""The SQL text of the two largest migrations (001 and 010), kept apart so that
`store/migrations.py` reads as the ordered list of steps. Nothing here runs by itself.
"""

__all__ = ["INITIAL_SCHEMA", "WEB_SCHEMA"]

INITIAL_SCHEMA = """
CREATE TABLE people (
    id INTEGER PRIMARY KEY,
    phone TEXT UNIQUE,
    user_code TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    first_name TEXT, surname TEXT, email TEXT, postal_code TEXT, password_hash TEXT,
    imei TEXT, age_band TEXT, country TEXT, gender TEXT,
    registered_at TEXT, erased_at TEXT
);
CREATE TABLE businesses (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    first_name TEXT, surname TEXT, email TEXT, password_hash TEXT, sector TEXT,
    daily_cap INTEGER,
    created_at TEXT NOT NULL
);
CREATE TABLE codes (
    id INTEGER PRIMARY KEY,
    business_id INTEGER NOT NULL REFERENCES businesses(id),
    keyword TEXT NOT NULL UNIQUE,
    reply TEXT NOT NULL,
    description TEXT,
    paused INTEGER NOT NULL DEFAULT 0,
    starts_at TEXT, ends_at TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE code_aliases (
    alias TEXT PRIMARY KEY,
    code_id INTEGER NOT NULL REFERENCES codes(id) ON DELETE CASCADE
);
CREATE TABLE incoming (
    id INTEGER PRIMARY KEY,
    modem TEXT, storage TEXT, storage_index INTEGER,
    sender TEXT NOT NULL, sender_type TEXT NOT NULL,
    scts TEXT, received_at TEXT NOT NULL,
    text TEXT, raw_pdu TEXT, encoding TEXT,
    concat_ref INTEGER, concat_total INTEGER, concat_seq INTEGER,
    state TEXT NOT NULL DEFAULT 'new'
        CHECK (state IN ('new', 'partial', 'routed', 'malformed', 'ignored')),
    error TEXT,
    dedupe_key TEXT NOT NULL UNIQUE,
    -- a multipart part points at the reassembled message once it exists
    part_of INTEGER REFERENCES incoming(id)
);
CREATE TABLE optin_events (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES people(id),
    business_id INTEGER NOT NULL REFERENCES businesses(id),
    kind TEXT NOT NULL CHECK (kind IN ('in', 'out')),
    at TEXT NOT NULL,
    keyword TEXT,
    incoming_id INTEGER REFERENCES incoming(id)
);
CREATE TABLE requests (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES people(id),
    business_id INTEGER NOT NULL REFERENCES businesses(id),
    code_id INTEGER NOT NULL REFERENCES codes(id),
    at TEXT NOT NULL,
    incoming_id INTEGER REFERENCES incoming(id)
);
CREATE TABLE outgoing (
    id INTEGER PRIMARY KEY,
    recipient TEXT NOT NULL,
    text TEXT NOT NULL,
    kind TEXT NOT NULL
        CHECK (kind IN ('user_code', 'reply', 'help', 'confirm', 'broadcast', 'manual')),
    business_id INTEGER REFERENCES businesses(id),
    incoming_id INTEGER REFERENCES incoming(id),
    person_id INTEGER REFERENCES people(id),
    state TEXT NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'sending', 'sent', 'delivered', 'failed')),
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT, claimed_at TEXT,
    modem TEXT, mr INTEGER,
    sent_at TEXT, delivered_at TEXT,
    error TEXT,
    parts INTEGER
);
CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT,
    reason TEXT
);
CREATE TABLE invoices (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    business_id INTEGER NOT NULL REFERENCES businesses(id),
    month TEXT NOT NULL,
    currency TEXT NOT NULL,
    total_cents INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (business_id, month)
);
CREATE TABLE invoice_lines (
    id INTEGER PRIMARY KEY,
    invoice_id INTEGER NOT NULL REFERENCES invoices(id) ON DELETE CASCADE,
    description TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    unit_price_cents INTEGER NOT NULL,
    amount_cents INTEGER NOT NULL
);
CREATE INDEX requests_business_at ON requests(business_id, at);
CREATE INDEX requests_person_at ON requests(person_id, at);
CREATE INDEX requests_code_at ON requests(code_id, at);
CREATE INDEX optin_person_business_at ON optin_events(person_id, business_id, at);
CREATE INDEX optin_business_at ON optin_events(business_id, at);
CREATE INDEX outgoing_state_next ON outgoing(state, next_attempt_at);
CREATE INDEX outgoing_recipient_created ON outgoing(recipient, created_at);
CREATE INDEX outgoing_modem_mr ON outgoing(modem, mr, recipient);
CREATE INDEX incoming_sender_received ON incoming(sender, received_at);
CREATE INDEX incoming_partials ON incoming(sender, concat_ref, concat_total)
    WHERE state = 'partial' AND part_of IS NULL;
CREATE INDEX incoming_state ON incoming(state);
CREATE INDEX audit_at ON audit(at);
"""

WEB_SCHEMA = """
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
ALTER TABLE businesses ADD COLUMN pending INTEGER NOT NULL DEFAULT 0
"""
