"""Seeding a database, writing a config, and reading what came out (the SQLite file as an
auditor reads it, what the simulated network delivered)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from modem.sim import SimModem
from store.store import Store

__all__ = ["StatementLog", "make_db", "rows", "sent_by", "texts_to", "write_config"]


def make_db(
    path: Path,
    *,
    pizza_reply: str = "Pizza: 2-for-1, show {user_code}",
    with_coffee: bool = False,
    known_people: Sequence[str] = (),
) -> Path:
    """A database with the business Pizza Place and its code PIZZA (and Coffee Corner/COFFEE);
    the numbers in ``known_people`` have texted before (they have their user codes)."""
    store = Store.open(path)
    try:
        store.directory.add_business("Pizza Place")
        store.directory.add_code("Pizza Place", "PIZZA", pizza_reply)
        if with_coffee:
            store.directory.add_business("Coffee Corner")
            store.directory.add_code("Coffee Corner", "COFFEE", "Coffee: 5th cup free")
        now = datetime.now(UTC)
        with store.transaction():
            for phone in known_people:
                store.directory.create_person(phone, now)
    finally:
        store.close()
    return path


def rows(db: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Read rows straight from the SQLite file, as an auditor would."""
    with sqlite3.connect(db, timeout=30) as conn:
        return list(conn.execute(sql, params))


def texts_to(sim: SimModem, number: str) -> list[str]:
    """What the simulated network delivered to ``number``, decoded."""
    return [m["text"] for m in sim.sent() if m["to"] == number]


def sent_by(sims: list[SimModem]) -> list[dict[str, object]]:
    """Every message every simulator sent, in order per simulator."""
    return [m for sim in sims for m in sim.sent()]


def write_config(
    path: Path,
    db: Path,
    urls: list[str],
    *,
    status_reports: bool = False,
    backoff: float = 0.5,
    command_timeout: float = 10.0,
) -> Path:
    """A TOML config: the database, one [[modems]] per url, fast retries for tests."""
    lines = ["[database]", f"path = {json.dumps(str(db))}", ""]
    for i, url in enumerate(urls):
        lines += [
            "[[modems]]",
            f"url = {json.dumps(url)}",
            f'name = "modem{i}"',
            f"command_timeout = {command_timeout}",
            "",
        ]
    lines += [
        "[outgoing]",
        f"backoff_base_s = {backoff}",
        f"backoff_max_s = {backoff * 4}",
        f"status_reports = {'true' if status_reports else 'false'}",
        "",
        "[limits]",
        "replies_per_hour = 1000",
        "loop_threshold = 1000",
        "",
    ]
    path.write_text("\n".join(lines))
    return path


def host_config(
    path: Path, url: str, host: str, link: str, *, claim_timeout: float = 3, more: str = ""
) -> list[str]:
    """A gateway host's TOML config on the shared PostgreSQL `url`: the host's name, one modem
    (`link`, named ``HOST-m0``) whose sends time out after half of `claim_timeout`, claims
    that expire after it, fast retries, then `more`; the `smsd run` arguments naming it."""
    path.write_text(
        "\n".join([
            "[database]", f"url = {json.dumps(url)}", "",
            "[gateway]", f"host = {json.dumps(host)}", "",
            "[[modems]]", f"url = {json.dumps(link)}", f'name = "{host}-m0"',
            f"send_timeout = {claim_timeout / 2}", "",
            "[outgoing]", "backoff_base_s = 0.5", "backoff_max_s = 2", "status_reports = false",
            f"claim_timeout_s = {claim_timeout}", "",
            "[limits]", "replies_per_hour = 1000", "loop_threshold = 1000", "", more,
        ])
    )  # fmt: skip
    return ["--config", str(path)]


def pg_count(url: str, sql: str) -> int:
    """The number a ``SELECT count(...)`` (or any one-value query) reads straight from the
    PostgreSQL database at `url`, as an auditor would (0 for no row)."""
    import psycopg  # only PostgreSQL tests pay for it

    with psycopg.connect(url) as conn:
        row = conn.execute(sql).fetchone()
    return 0 if row is None else int(row[0])


class StatementLog(list[str]):
    """A `set_trace_callback` target that records each SQL statement once.

    SQLite traces a statement again as each trigger program it fires starts (migration 020's
    event triggers, most of which only check that nobody subscribed): the same expanded SQL
    twice in a row. Those repeats are not statements the code ran, so they are dropped.
    """

    def __call__(self, sql: str) -> None:
        if not self or self[-1] != sql:
            self.append(sql)
