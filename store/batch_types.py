"""The value type of `store.batch`: one statement for many rows (a leaf: the PostgreSQL
adapter and `store.batch` both use it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Batch"]


@dataclass(frozen=True)
class Batch:
    """One statement of the store's SQL for many parameter rows; `ids`: return each row's id.

    `key` (column, index in a row): a unique column the rows set, for an INSERT with ON
    CONFLICT DO NOTHING; it tells which rows inserted, so PostgreSQL can take them in one
    statement.
    """

    sql: str
    rows: Sequence[Sequence[Any]]
    ids: bool = False
    key: tuple[str, int] | None = None
    whole: bool = False  # `store.batch.insert_rows`: each row's whole new row, not its id
