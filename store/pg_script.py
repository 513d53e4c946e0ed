"""Statements sent to PostgreSQL as ONE simple query: one round trip, one wait (`store.postgres`).

Every round trip to the server is a wait while the server works, and on these machines the
server shares two cores with us. psycopg's pipeline mode sends statements together, but drives
each one through Parse/Bind/Describe/Execute and a Python generator per result: 13 small
SELECTs cost 0.8-1.1 ms of our CPU that way and 0.17-0.2 ms as one simple query (measured
with psycopg 3.3 on PostgreSQL 15, TCP to 127.0.0.1). So the store binds parameters on the
client (psycopg's `ClientCursor`: each value adapted and quoted by psycopg and libpq, as
``execute`` would, never by us) and joins the statements with ``;`` into one query.

Two more waits go the same way: the transaction's own statements. `Deferred` holds ``BEGIN``
(and the writer's advisory lock), ``SAVEPOINT`` and ``RELEASE`` until the next statement goes
out, and sends them in front of it; a savepoint released (or rolled back to) before anything
was sent inside it costs nothing, and a transaction that sent nothing commits for free.

A leaf: psycopg's cursor only as a type.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

__all__ = ["Deferred", "Result", "Script"]


@dataclass(frozen=True)
class Result:
    """One statement's outcome: its column names ([] for a command), rows, rowcount."""

    names: list[str]
    rows: list[tuple[Any, ...]]
    rowcount: int

    def dicts(self) -> list[dict[str, Any]]:
        """The rows as dicts by column name."""
        return [dict(zip(self.names, row, strict=True)) for row in self.rows]


@dataclass
class Script:
    """Statements to send together; `add` returns where its result will be in `run`'s list."""

    texts: list[str] = field(default_factory=list)

    def add(self, cur: psycopg.ClientCursor[tuple[Any, ...]], text: str,
            params: Sequence[Any] = ()) -> int:  # fmt: skip
        """Queue `text` (psycopg's ``%s`` placeholders) with `params` bound by psycopg."""
        self.texts.append(cur.mogrify(text, params) if params else text.replace("%%", "%"))
        return len(self.texts) - 1

    def run(self, cur: psycopg.ClientCursor[tuple[Any, ...]]) -> list[Result]:
        """Send everything as one query and read every statement's result, in order."""
        if not self.texts:
            return []
        cur.execute("; ".join(self.texts))
        return read_results(cur)


def read_results(cur: psycopg.ClientCursor[tuple[Any, ...]]) -> list[Result]:
    """Every result of the query `cur` just ran, in statement order."""
    out = []
    while True:
        # Column names from the result itself: `cur.description` builds a Column object
        # (and a type lookup) per column per result, a tenth of a burst's CPU on RETURNING *.
        result = cur.pgresult
        fields = 0 if result is None else result.nfields
        names = [bytes(result.fname(i) or b"").decode() for i in range(fields)] if result else []
        rows = cur.fetchall() if fields else []
        out.append(Result(names, rows, cur.rowcount))
        if not cur.nextset():
            return out


@dataclass
class Deferred:
    """The transaction statements not sent yet (see the module docstring)."""

    begun: bool = False  # BEGIN is queued: the server has not seen the transaction yet
    work: bool = False  # a write is queued (`PgDatabase.defer`): COMMIT must send it
    texts: list[str] = field(default_factory=list)
    unsent: set[str] = field(default_factory=set)  # rolled back before reaching the server

    def begin(self, texts: Sequence[str]) -> None:
        """A new transaction: its opening statements wait for the first real one."""
        self.begun = True
        self.texts = list(texts)

    def statement(self, text: str) -> None:
        """A write (parameters bound) sent with the next statement, or with COMMIT."""
        self.work = True
        self.texts.append(text)

    def savepoint(self, name: str) -> None:
        """``SAVEPOINT name``, sent with the next statement."""
        self.unsent.discard(name)
        self.texts.append(f"SAVEPOINT {name}")

    def release(self, name: str) -> None:
        """Queue ``RELEASE name``, or drop the savepoint if it was never sent (nothing to
        send now either way)."""
        if name in self.unsent:  # the RELEASE that follows ROLLBACK TO: nothing to release
            self.unsent.discard(name)
        elif self.texts and self.texts[-1] == f"SAVEPOINT {name}":
            self.texts.pop()
        else:
            self.texts.append(f"RELEASE {name}")

    def rollback_to(self, name: str) -> bool:
        """True if the savepoint was never sent (its block sent nothing: nothing to undo);
        False: ``ROLLBACK TO name`` must go now, and anything queued after it is moot."""
        mark = f"SAVEPOINT {name}"
        if mark in self.texts:
            del self.texts[self.texts.index(mark) :]
            self.unsent.add(name)
            return True
        self.texts.clear()
        return False

    def take(self) -> list[str]:
        """What must go in front of the next statement; the queue is empty after."""
        texts, self.texts, self.begun, self.work = self.texts, [], False, False
        return texts

    def clear(self) -> None:
        """Forget everything (the transaction ended, or never reached the server)."""
        self.begun = False
        self.work = False
        self.texts = []
        self.unsent.clear()
