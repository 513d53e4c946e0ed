"""Migrations 002 and 004: privacy views for business-facing queries, invoice prices, indexes.

The views are the privacy boundary of `store.business_view.BusinessView`: they carry user
codes, keywords, counts and times, and no column that could hold a phone number or a name
(no `phone`, `sender`, `recipient`, `first_name`, `surname`, `email`, `text`). Business-facing
code selects only from these views.

Migration 004 adds narrow views over single tables (`request_keys`, `optin_keys`,
`person_facts`, `business_facts`): opaque ids, keywords, times and the coarse attributes
`request_facts` already carried, so a query joins people only when the breakdown needs a
person's attribute. It also replaces `requests_business_at` with a covering index, so history,
counts and stats of a business never touch the 10 M-row table itself.
"""

from __future__ import annotations

import sqlite3

__all__ = ["BUSINESS_VIEWS", "m002_accounts_privacy", "m004_scale_views"]

#: The views business-facing queries may read (tests check their columns).
BUSINESS_VIEWS = (
    "business_requests",
    "business_optins",
    "business_broadcasts",
    "request_facts",
    "request_keys",
    "optin_keys",
    "person_facts",
    "business_facts",
)

_SCRIPT = """
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


def m002_accounts_privacy(conn: sqlite3.Connection) -> None:
    """Create the business-facing views, exact unit prices on invoice lines, and indexes."""
    for statement in (s.strip() for s in _SCRIPT.split(";")):
        if statement:
            conn.execute(statement)


_SCALE_SCRIPT = """
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


def m004_scale_views(conn: sqlite3.Connection) -> None:
    """Narrow privacy views and covering indexes for business queries at 10 M requests."""
    for statement in (s.strip() for s in _SCALE_SCRIPT.split(";")):
        if statement:
            conn.execute(statement)
