"""The PostgreSQL connection behind `Store.open("postgresql://...")` (see `store.backend`).

`PgDatabase` wraps one psycopg 3 connection in autocommit mode (every transaction explicit)
with the surface the store's parts use; statements are translated by `store.backend.pg_sql`.
Imported only when a PostgreSQL URL is opened.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.adapt import Loader
from psycopg.pq import TransactionStatus

from store.backend import pg_sql
from store.batch_types import Batch
from store.errors import Conflict, InvalidInput, StoreError, StoreUnavailable
from store.pg_cursor import PgCursor
from store.pg_rows import INSERT_VALUES, Pending, json_rows, rows_insert
from store.pg_script import Deferred, Result, Script

__all__ = ["WRITE_LOCK_KEY", "PgCursor", "PgDatabase", "translate_pg"]

#: The advisory-lock key of the store's single writer ("smsd" in ASCII).
WRITE_LOCK_KEY = 0x736D7364

_BEGIN_WRITE = ("BEGIN", f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")
_BEGIN_READ = ("BEGIN ISOLATION LEVEL REPEATABLE READ",)
# A read-only store's transactions are READ ONLY one by one, never by a session SET: through
# pgbouncer in transaction mode a SET would stay on the server connection for other clients.
_BEGIN_READ_ONLY = ("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",)
_BEGIN_WRITE_REFUSED = ("BEGIN READ ONLY",)
_SAVEPOINT = re.compile(r"^\s*(SAVEPOINT|RELEASE|ROLLBACK\s+TO)\s+(\w+)\s*$", re.IGNORECASE)

_INSERT_INTO = re.compile(r"^\s*INSERT\s+INTO\s+(\w+)", re.IGNORECASE)


def translate_pg(exc: psycopg.Error) -> StoreError:
    """Map a psycopg exception to the store's error tree (the caller raises it `from exc`)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, pg_errors.UniqueViolation):
        return Conflict(text)
    if isinstance(exc, psycopg.IntegrityError | psycopg.DataError):
        return InvalidInput(text)
    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        return StoreUnavailable(text)
    if isinstance(exc, pg_errors.ReadOnlySqlTransaction):  # as SQLite's "readonly database"
        return StoreUnavailable(text)
    return StoreError(text)


def _arg(value: Any) -> Any:
    return int(value) if isinstance(value, bool) else value


class _Numeric(Loader):
    """``numeric`` (what sum() and avg() of integers return) as int when whole, else float."""

    def load(self, data: Any) -> int | float:
        value = Decimal(bytes(data).decode())
        return int(value) if value == value.to_integral_value() else float(value)


class PgDatabase:
    """A psycopg connection in autocommit mode, speaking the store's SQL (see module doc).

    Parameters are bound on the client and statements go as simple queries (`store.pg_script`:
    several in one round trip where the store asks for several); ``BEGIN``, ``SAVEPOINT`` and
    ``RELEASE`` wait for the next statement and go in front of it.
    """

    dialect = "postgresql"

    def __init__(self, url: str, *, read_only: bool = False) -> None:
        self.url = url
        self.read_only = read_only  # every transaction READ ONLY: the server refuses writes
        self._lock = threading.RLock()
        self._identity: dict[str, bool] = {}  # table -> has an identity `id` column
        self._many: dict[str, str | None] = {}  # INSERT text -> its `_rows_insert` form
        self._deferred = Deferred()
        self._conn = self._connect()

    def _connect(self) -> psycopg.Connection[tuple[Any, ...]]:
        try:
            conn = psycopg.connect(self.url, autocommit=True, connect_timeout=5)
        except psycopg.Error as exc:
            raise translate_pg(exc) from exc
        conn.cursor_factory = psycopg.ClientCursor
        conn.adapters.register_loader("numeric", _Numeric)
        conn.read_only = self.read_only or None  # psycopg's own BEGIN (`stream`)
        return conn

    def _cursor(self) -> psycopg.ClientCursor[tuple[Any, ...]]:
        return psycopg.ClientCursor(self._conn)

    @property
    def conn(self) -> PgDatabase:
        """Itself: `db.conn.execute` and `db.execute` are the same call here."""
        return self

    @property
    def backend_pid(self) -> int:
        """The server process serving this connection (for measurements)."""
        return int(self._conn.info.backend_pid)

    @property
    def in_transaction(self) -> bool:
        """True inside BEGIN ... COMMIT/ROLLBACK (sent or not yet)."""
        status = self._conn.info.transaction_status
        return self._deferred.begun or status != TransactionStatus.IDLE

    def execute(self, sql: str, params: Sequence[Any] = ()) -> PgCursor:
        """Run one statement of the store's SQL (translated); errors as `StoreError`s."""
        with self._lock:
            if self._control(sql):
                return PgCursor(self._cursor())
            text, order = pg_sql(sql)
            args = [_arg(params[i]) for i in order]
            returning = self._adds_returning(text)
            alone = self.read_only and not self.in_transaction  # READ ONLY, in its own
            script = Script()
            cur = self._cursor()
            try:
                for control in _BEGIN_WRITE_REFUSED if alone else self._deferred.take():
                    script.add(cur, control)
                at = script.add(cur, text + " RETURNING id" if returning else text, args)
                if alone:
                    script.add(cur, "COMMIT")
                cur.execute("; ".join(script.texts))
                for _ in range(at):  # to the statement's own result, past the ones before it
                    cur.nextset()
            except psycopg.Error as exc:
                if alone and self._conn.info.transaction_status == TransactionStatus.INERROR:
                    with contextlib.suppress(StoreError):
                        self._send("ROLLBACK")
                raise translate_pg(exc) from exc
            return PgCursor(cur, returning=returning)

    def _control(self, sql: str) -> bool:
        """Handle a transaction statement (see the class doc); False for any other."""
        head = sql.lstrip()[:16].upper()
        if head.startswith("BEGIN"):
            self._begin(write=head.startswith("BEGIN IMMEDIATE"))
            return True
        word = head.split(None, 1)[0] if head.strip() else ""
        if word in ("COMMIT", "ROLLBACK") and head.rstrip() == word:
            self._end(word)
            return True
        match = _SAVEPOINT.match(sql)
        if match is None:
            return False
        kind, name = match[1].upper(), match[2]
        if kind == "SAVEPOINT":
            self._deferred.savepoint(name)
        elif kind == "RELEASE":
            self._deferred.release(name)
        elif not self._deferred.rollback_to(name):
            self._send(f"ROLLBACK TO {name}")
        return True

    def _end(self, word: str) -> None:
        """COMMIT or ROLLBACK: nothing to send if the transaction never reached the server
        (unless a deferred write waits for the COMMIT)."""
        if self._deferred.begun and not (word == "COMMIT" and self._deferred.work):
            self._deferred.clear()
            return
        controls = self._deferred.take() if word == "COMMIT" else []
        self._deferred.clear()
        self._send("; ".join([*controls, word]))

    def defer(self, sql: str, params: Sequence[Any]) -> None:
        """`store.batch.write_later`: bind the statement now, send it with the next one."""
        text, order = pg_sql(sql)
        with self._lock:
            script = Script()
            script.add(self._cursor(), text, [_arg(params[i]) for i in order])
            self._deferred.statement(script.texts[0])

    def _send(self, text: str) -> None:
        try:
            self._cursor().execute(text)
        except psycopg.Error as exc:
            raise translate_pg(exc) from exc

    def _flush(self) -> None:
        """Send the deferred statements now (before a call that bypasses `Script`)."""
        controls = self._deferred.take()
        if controls:
            self._send("; ".join(controls))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """One statement for many parameter rows: one round trip."""
        self.write_many([Batch(sql, [tuple(r) for r in rows])])

    def query_many(
        self, queries: Sequence[tuple[str, Sequence[Any]]]
    ) -> list[list[dict[str, Any]]]:
        """The rows of several SELECTs sent together: one round trip."""
        with self._lock:
            cur, script = self._script()
            try:
                at = []
                for sql, params in queries:
                    text, order = pg_sql(sql)
                    at.append(script.add(cur, text, [_arg(params[i]) for i in order]))
                results = script.run(cur)
                return [results[i].dicts() for i in at]
            except psycopg.Error as exc:
                raise translate_pg(exc) from exc

    def write_many(self, batches: Sequence[Batch]) -> list[list[int | None]]:
        """Several statements, each for many parameter rows, sent together: one round trip.

        For a batch that asks for ids, each row's ``RETURNING id`` (None when an ``ON
        CONFLICT DO NOTHING`` inserted nothing); for the others an empty list.
        """
        pending, results = self._send_batches(batches)
        return [p.ids(results) for p in pending]

    def insert_rows(self, batch: Batch) -> list[dict[str, Any] | None]:
        """`store.batch.insert_rows`: one round trip."""
        (pending,), results = self._send_batches([batch])
        return pending.whole(results, None if batch.key is None else batch.key[0])

    def _script(self) -> tuple[psycopg.ClientCursor[tuple[Any, ...]], Script]:
        """A cursor and a script that starts with the deferred statements."""
        cur, script = self._cursor(), Script()
        for control in self._deferred.take():
            script.add(cur, control)
        return cur, script

    def _send_batches(self, batches: Sequence[Batch]) -> tuple[list[Pending], list[Result]]:
        with self._lock:
            cur, script = self._script()
            try:
                pending = [self._queue_batch(cur, script, batch) for batch in batches]
                return pending, script.run(cur)
            except psycopg.Error as exc:
                raise translate_pg(exc) from exc

    def _queue_batch(self, cur: psycopg.ClientCursor[tuple[Any, ...]], script: Script,
                     batch: Batch) -> Pending:  # fmt: skip
        """Queue one batch: an INSERT of many rows as ONE statement over one JSON array of
        rows (`_rows_insert`: the server runs one statement, not one per row, and the rows
        cross as one `json.dumps`; with ON CONFLICT DO NOTHING only when `batch.key` tells
        the rows apart), anything else (an UPDATE) as one statement per row."""
        if not batch.rows:
            return Pending([])
        text, order = pg_sql(batch.sql)
        # Inline, not `_arg`: a burst binds ~40 values per message, and calls cost.
        same = order == tuple(range(len(order)))
        picked = batch.rows if same else [[r[i] for i in order] for r in batch.rows]
        rows = [[int(v) if v.__class__ is bool else v for v in r] for r in picked]
        conflict = " ON CONFLICT " in text.upper()
        single = len(rows) == 1 or (conflict and batch.key is None)
        many = None if single else self._rows_insert(text)
        payload = None if many is None else json_rows(rows)
        back = batch.ids or batch.whole
        if many is None or payload is None:
            text += " RETURNING *" if batch.whole else " RETURNING id" if batch.ids else ""
            at = [script.add(cur, text, row) for row in rows]
            return Pending(at if back else [], per_row=True)
        if batch.whole:
            many += " RETURNING *"
        elif batch.ids:
            many += " RETURNING id" if batch.key is None else f" RETURNING id, {batch.key[0]}"
        where = script.add(cur, many, (payload,))
        keys = None if batch.key is None else [r[batch.key[1]] for r in batch.rows]
        return Pending([where] if back else [], keys=keys)

    def _rows_insert(self, text: str) -> str | None:
        """`rows_insert` of an INSERT's text, with its table's column types (cached)."""
        if text not in self._many:
            match = INSERT_VALUES.match(text)
            types = {} if match is None else self._column_types(match[1].lower())
            self._many[text] = rows_insert(text, types)
        return self._many[text]

    def _column_types(self, table: str) -> dict[str, str]:
        row = self._conn.execute(
            "SELECT json_object_agg(attname, format_type(atttypid, atttypmod)) FROM pg_attribute"
            " WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped",
            (table,),
        ).fetchone()
        return dict(row[0] or {}) if row else {}

    def _adds_returning(self, text: str) -> bool:
        """An INSERT without RETURNING into a table whose `id` is an identity column."""
        match = _INSERT_INTO.match(text)
        if match is None or " RETURNING " in text.upper():
            return False
        table = match[1].lower()
        if table not in self._identity:
            row = self._conn.execute(
                "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()"
                " AND table_name = %s AND column_name = 'id' AND is_identity = 'YES'",
                (table,),
            ).fetchone()
            self._identity[table] = row is not None
        return self._identity[table]

    def _begin(self, *, write: bool) -> None:
        # Only here (and in data_version, outside any transaction) is a broken connection
        # replaced: mid-transaction, a new connection would silently drop the atomicity.
        if self._conn.broken or self._conn.closed:
            self._deferred.clear()
            self._conn = self._connect()  # the server came back: carry on
        # Sent in front of the transaction's first statement (one simple query).
        if self.read_only:
            self._deferred.begin(_BEGIN_WRITE_REFUSED if write else _BEGIN_READ_ONLY)
        else:
            self._deferred.begin(_BEGIN_WRITE if write else _BEGIN_READ)

    def query(self, sql: str, params: Sequence[Any] = ()) -> Iterator[dict[str, Any]]:
        """Rows as dicts (sqlite-utils' `Database.query`)."""
        cur = self.execute(sql, params)
        names = [d[0] for d in cur.description or ()]
        for row in cur.fetchall():
            yield dict(zip(names, row, strict=True))

    def copy(self, statement: str) -> contextlib.AbstractContextManager[psycopg.Copy]:
        """A ``COPY ... FROM STDIN`` (bulk load: `write_row` per row); no translation."""
        self._flush()
        return self._conn.cursor().copy(statement)

    def stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        """Rows of a large SELECT through a server-side cursor, a few thousand at a time."""
        text, order = pg_sql(sql)
        with self._lock:
            self._flush()  # psycopg's transaction() must see ours (it then takes a savepoint)
        with self._lock, self._conn.transaction(), self._conn.cursor(name="stream") as cur:
            cur.itersize = 5000
            cur.execute(text, [params[i] for i in order])
            yield from cur

    def iterdump(self) -> Iterator[str]:
        """Every row of every table as an INSERT line (sqlite3's `iterdump`, for checks that
        something appears nowhere; not a backup: use pg_dump)."""
        for table in sorted(self.table_names()):
            for row in self.stream(f"SELECT * FROM {table}"):  # noqa: S608 - catalog names
                yield f"INSERT INTO {table} VALUES {row!r};"  # noqa: S608 - a text line

    def table_names(self) -> list[str]:
        """Tables of the schema in use (sqlite-utils' `Database.table_names`)."""
        cur = self.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        )
        return [str(r[0]) for r in cur.fetchall()]

    def data_version(self) -> int:
        """A number that moves whenever any connection commits a write."""
        with self._lock:
            if self._conn.broken or self._conn.closed:  # polled when idle, never in a transaction
                self._conn = self._connect()
        row = self.execute("SELECT pg_snapshot_xmax(pg_current_snapshot())::text").fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def __del__(self) -> None:
        # As a forgotten sqlite3 connection: closed when collected, without a warning.
        conn = getattr(self, "_conn", None)
        if conn is not None and not conn.closed:
            conn.close()
