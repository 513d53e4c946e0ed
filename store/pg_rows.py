"""PostgreSQL's many-row INSERT: one statement over one JSON parameter (`store.postgres`).

A leaf (psycopg cursors only as types): `rows_insert` rewrites the store's one-row ``INSERT
... VALUES (...)`` into an INSERT over ``jsonb_array_elements`` of one parameter, `json_rows`
makes that parameter, `Pending` finds a queued batch's ids among the results of its round trip.
One JSON text crosses instead of one array per column: psycopg quotes array elements in
Python, one by one, where `json.dumps` is one call in C.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from store.pg_script import Result

__all__ = ["INSERT_VALUES", "Pending", "json_rows", "rows_insert"]

#: A plain "INSERT INTO t (columns) VALUES (one row)", with at most ON CONFLICT DO NOTHING.
INSERT_VALUES = re.compile(
    r"^\s*INSERT\s+INTO\s+(\w+)\s*\(([^)]*)\)\s*VALUES\s*\(([^)]*)\)"
    r"((?:\s+ON\s+CONFLICT\s*\(\w+\)\s+DO\s+NOTHING)?)\s*$",
    re.I,
)


#: Column types whose values go through JSON text and a cast unchanged (`rows_insert`).
_JSON_TYPES = frozenset({"text", "bigint", "integer", "smallint", "double precision"})


#: Exactly these types go through JSON and back unchanged (a bool or an enum would not).
_PLAIN_TYPES = frozenset({str, int, float, type(None)})
#: Built once: `json.dumps` with options builds an encoder per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False)


def json_rows(rows: list[list[Any]]) -> str | None:
    """The rows as one JSON array of arrays; None if a value is not a str, int, float or
    None (JSON would change it) or a text holds NUL (PostgreSQL's JSON refuses it)."""
    # The set of the values' types, collected in C (map, chain) rather than value by value.
    if not _PLAIN_TYPES.issuperset(map(type, chain.from_iterable(rows))):
        return None
    try:
        text = _ENCODER.encode(rows)
    except ValueError:  # NaN or infinity
        return None
    return None if "\\u0000" in text else text


def rows_insert(text: str, types: dict[str, str]) -> str | None:
    """``INSERT INTO t (a, b, c) VALUES (%s, 'x', %s)`` as ``INSERT INTO t (a, b, c)
    SELECT (v.r->>0)::A, 'x', (v.r->>1)::C FROM jsonb_array_elements(%s::jsonb) AS v(r)``,
    `types` the table's column types: one parameter whatever the row count (a constant text,
    prepared once; rows in order); None when the text is not such an INSERT or a column's
    type does not come back from JSON text as it went in."""
    match = INSERT_VALUES.match(text)
    if match is None:
        return None
    table, conflict = match[1].lower(), match[4]
    columns = [c.strip().lower() for c in match[2].split(",")]
    values = [v.strip() for v in match[3].split(",")]
    if len(columns) != len(values):
        return None
    picked: list[str] = []
    bound = 0
    for column, value in zip(columns, values, strict=True):
        if value != "%s":
            picked.append(value)
        elif types.get(column) in _JSON_TYPES:
            picked.append(f"(v.r->>{bound})::{types[column]}")
            bound += 1
        else:
            return None
    # Names and literals come from the store's own constant SQL, never from input.
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(picked)}"  # noqa: S608
        f" FROM jsonb_array_elements(%s::jsonb) AS v(r){conflict}"
    )


@dataclass
class Pending:
    """Where a queued batch's ids will be among the script's results (`store.pg_script`)."""

    at: list[int]  # the statements whose RETURNING rows hold the ids, in order
    per_row: bool = False  # one statement per row (each returns its row's id, or nothing)
    keys: list[Any] | None = None  # each row's `Batch.key` value: which row an id belongs to

    def ids(self, results: Sequence[Result]) -> list[int | None]:
        """Each row's RETURNING id (None where an ON CONFLICT DO NOTHING inserted nothing)."""
        if self.per_row:
            out: list[int | None] = []
            for at in self.at:
                rows = results[at].rows
                out.append(int(rows[0][0]) if rows else None)
            return out
        returned = [row for at in self.at for row in results[at].rows]
        if self.keys is None:
            return [int(row[0]) for row in returned]
        # ON CONFLICT DO NOTHING: a row that inserted nothing returned nothing; a key repeated
        # in the batch was inserted by its first row only (as one statement per row would).
        by_key = {row[1]: int(row[0]) for row in returned}
        return [by_key.pop(key, None) for key in self.keys]

    def whole(self, results: Sequence[Result], key: str | None) -> list[dict[str, Any] | None]:
        """Each row's whole new row (``RETURNING *``), as `ids` finds its id."""
        if self.per_row:
            return [next(iter(results[at].dicts()), None) for at in self.at]
        returned = [row for at in self.at for row in results[at].dicts()]
        if self.keys is None or key is None:
            return list(returned)
        by_key = {row[key]: row for row in returned}
        return [by_key.pop(k, None) for k in self.keys]
