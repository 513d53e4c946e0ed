"""Migration 002: privacy views for business-facing queries, exact invoice prices, indexes.

The views are the privacy boundary of `store.business_view.BusinessView`: they carry user
codes, keywords, counts and times, and no column that could hold a phone number or a name
(no `phone`, `sender`, `recipient`, `first_name`, `surname`, `email`, `text`). Business-facing
code selects only from these views.
"""

from __future__ import annotations

import sqlite3

__all__ = ["BUSINESS_VIEWS", "m002_accounts_privacy"]

#: The views business-facing queries may read (tests check their columns).
BUSINESS_VIEWS = ("business_requests", "business_optins", "business_broadcasts", "request_facts")

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
