"""Store basics on real SQLite files: opening, migrations, directory, errors."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import sqlite3
import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import store as store_package
from store import (
    RESERVED_KEYWORDS,
    USER_CODE_ALPHABET,
    Conflict,
    InvalidInput,
    NotFound,
    Store,
    StoreUnavailable,
)
from store.base import Part, StoreBase
from store.migrations import MIGRATIONS, applied_migrations, run_migrations

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(db_target: str) -> Store:
    """A fresh migrated store in a temporary file."""
    return Store.open(db_target)


def test_open_creates_private_files(tmp_path: Path) -> None:
    """The database and its WAL/SHM files are created readable by the owner only."""
    path = tmp_path / "smsd.db"
    s = Store.open(path)
    s.directory.add_business("Pizza Co", now=T0)  # a write, so the -wal file exists
    for name in ("smsd.db", "smsd.db-wal", "smsd.db-shm"):
        mode = stat.S_IMODE((tmp_path / name).stat().st_mode)
        assert mode == 0o600, (name, oct(mode))
    s.close()


def test_open_uses_wal_and_foreign_keys(store: Store) -> None:
    """WAL journal mode (SQLite) and foreign key enforcement (both backends) are on."""
    conn = store.db.conn
    if store.dialect == "sqlite":
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    with pytest.raises(InvalidInput, match=r"(?i)foreign key"), store.transaction() as db:
        db.execute(
            "INSERT INTO codes (business_id, keyword, reply, created_at) VALUES (?, ?, ?, ?)",
            (999, "NOPE", "x", "2026-01-01T00:00:00+00:00"),
        )


def test_migrations_recorded_and_idempotent(tmp_path: Path) -> None:
    """Reopening applies nothing again; every migration is recorded once by name."""
    path = tmp_path / "smsd.db"
    Store.open(path).close()
    s = Store.open(path)
    assert applied_migrations(s.db.conn) == [name for name, _ in MIGRATIONS]
    assert run_migrations(s.db.conn) == []
    s.close()


#: Names recorded in databases already in use: they must never change.
RELEASED = [
    "001_initial",
    "002_accounts_privacy",
    "003_live_copies",
    "004_scale_views",
    "005_modems",
    "006_rules",
    "007_balances",
]
PARTS = ("directory", "inbox", "outbox", "routing", "accounts", "audit", "broadcasts",
         "invoices", "stats", "modems", "balances")  # fmt: skip


def test_migrations_in_order_one_name_each() -> None:
    """Migrations run in numbered order, each recorded under its function's name."""
    names = [name for name, _ in MIGRATIONS]
    assert names[: len(RELEASED)] == RELEASED
    assert names == sorted(set(names))
    assert all(fn.__name__ == "m" + name for name, fn in MIGRATIONS)


def test_every_migration_lives_in_migrations_module() -> None:
    """No store module but `store.migrations` defines a migration function."""
    package = Path(store_package.__file__).parent
    elsewhere = [
        path.name
        for path in package.glob("*.py")
        if path.name != "migrations.py" and re.search(r"^def m\d{3}_", path.read_text(), re.M)
    ]
    assert elsewhere == []


def test_a_database_of_an_older_release_opens_and_catches_up(tmp_path: Path) -> None:
    """A file migrated up to 003 by an older release gets only 004 onwards on open."""
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    for name, migration in MIGRATIONS[:3]:
        migration(conn)
        conn.execute("INSERT INTO migrations VALUES (?, ?)", (name, T0.isoformat()))
    conn.close()
    with Store.open(path) as s:
        assert applied_migrations(s.db.conn) == [name for name, _ in MIGRATIONS]
        assert s.directory.add_business("Pizza Co", now=T0).name == "Pizza Co"


def test_store_is_composed_of_parts(store: Store) -> None:
    """Each part is made once, holds the store as its core, and is a plain `Part`."""
    for name in PARTS:
        part = getattr(store, name)
        assert isinstance(part, Part) and part.core is store
        assert type(part).__bases__ == (Part,)
    assert Store.__bases__ == (StoreBase,)


def test_no_store_class_has_more_than_two_bases() -> None:
    """No class in the store package is assembled from mixins."""
    stacked = []
    for info in pkgutil.iter_modules(store_package.__path__):
        module = importlib.import_module(f"store.{info.name}")
        for cls_name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and len(cls.__bases__) > 2:
                stacked.append(cls_name)
    assert stacked == []


def test_schema_has_every_table(store: Store) -> None:
    """The first migration creates every table named in ARCHITECTURE.md."""
    expected = {
        "people",
        "businesses",
        "codes",
        "code_aliases",
        "optin_events",
        "requests",
        "incoming",
        "outgoing",
        "audit",
        "invoices",
        "invoice_lines",
        "migrations",
    }
    assert expected <= set(store.db.table_names())


def test_not_a_database_is_unavailable(tmp_path: Path) -> None:
    """A file that is not SQLite raises StoreUnavailable, not a raw sqlite3 error."""
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not a database file at all" * 100)
    with pytest.raises(StoreUnavailable):
        Store.open(path)


def test_locked_database_is_unavailable(tmp_path: Path) -> None:
    """A write blocked past the busy timeout raises StoreUnavailable."""
    path = tmp_path / "smsd.db"
    s = Store.open(path, busy_timeout_ms=50)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreUnavailable):
            s.directory.add_business("Blocked", now=T0)
    finally:
        other.execute("ROLLBACK")
        other.close()
    s.close()


def test_naive_datetime_rejected(store: Store) -> None:
    """Timestamps must be timezone-aware."""
    with pytest.raises(InvalidInput):
        store.directory.add_business("Naive", now=datetime(2026, 1, 1))


def test_business_names_unique_case_insensitive(store: Store) -> None:
    """A second business with the same name in another case is a Conflict."""
    store.directory.add_business("Pizza Co", now=T0)
    with pytest.raises(Conflict):
        store.directory.add_business("PIZZA CO", now=T0)
    assert store.directory.get_business("pizza co").name == "Pizza Co"


def test_codes_unique_across_keywords_and_aliases(store: Store) -> None:
    """Keywords and aliases share one case-insensitive namespace across businesses."""
    store.directory.add_business("A", now=T0)
    store.directory.add_business("B", now=T0)
    store.directory.add_code("A", "pizza", "Hot pizza", aliases=["pie"], now=T0)
    with pytest.raises(Conflict):
        store.directory.add_code("B", "PIZZA", "x", now=T0)
    with pytest.raises(Conflict):
        store.directory.add_code("B", "PIE", "x", now=T0)
    with pytest.raises(Conflict):
        store.directory.add_code("B", "burger", "x", aliases=["Pizza"], now=T0)
    assert [c.keyword for c in store.directory.list_codes()] == ["PIZZA"]


def test_reserved_and_invalid_keywords_rejected(store: Store) -> None:
    """STOP-family words and non-alphanumeric keywords cannot become codes."""
    store.directory.add_business("A", now=T0)
    for word in ("stop", "Help", "two words", "", "x" * 21):
        with pytest.raises(InvalidInput):
            store.directory.add_code("A", word, "reply", now=T0)
    assert "UNSUBSCRIBE" in RESERVED_KEYWORDS


def test_find_code_by_alias_any_case(store: Store) -> None:
    """find_code matches the keyword or an alias regardless of case."""
    store.directory.add_business("A", now=T0)
    code = store.directory.add_code("A", "Pizza", "Hot", aliases=("pie", "za"), now=T0)
    assert code.aliases == ("PIE", "ZA")
    found = store.directory.find_code("pIe")
    assert found is not None and found.id == code.id and found.business_name == "A"
    assert store.directory.find_code("nothing") is None
    with pytest.raises(NotFound):
        store.directory.get_code("nothing")


def test_code_is_active_respects_pause_and_dates(store: Store) -> None:
    """Paused codes and codes outside their dates are inactive."""
    store.directory.add_business("A", now=T0)
    code = store.directory.add_code(
        "A", "sale", "10% off", starts_at=T0, ends_at=T0 + timedelta(days=1), now=T0
    )
    assert code.is_active(T0 + timedelta(hours=1))
    assert not code.is_active(T0 - timedelta(seconds=1))
    assert not code.is_active(T0 + timedelta(days=1))
    paused = store.directory.set_code_paused("SALE", True)
    assert not paused.is_active(T0 + timedelta(hours=1))


def test_user_codes_unambiguous_and_unique(store: Store) -> None:
    """User codes are 6 chars from the unambiguous alphabet and all distinct."""
    people = [store.directory.create_person(f"+4477009001{i:02d}", T0) for i in range(50)]
    codes = {p.user_code for p in people}
    assert len(codes) == 50
    assert all(len(c) == 6 and set(c) <= set(USER_CODE_ALPHABET) for c in codes)
    assert not set("01OIL") & set(USER_CODE_ALPHABET)


def test_user_code_collision_retried(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """A drawn code that is already taken is drawn again, not an error."""
    first = store.directory.create_person("+447700900001", T0)
    draws = iter([first.user_code, first.user_code, "ZZZZZZ"])
    monkeypatch.setattr("store.directory.new_user_code", lambda: next(draws))
    second = store.directory.create_person("+447700900002", T0)
    assert second.user_code == "ZZZZZZ"


def test_erased_person_keeps_code_and_frees_phone(store: Store) -> None:
    """Erasure blanks the phone; the old code is never handed out again."""
    old = store.directory.create_person("+447700900001", T0)
    erased = store.directory.erase_person(old.user_code, T0)
    assert erased.phone is None and erased.erased_at == T0
    assert store.directory.find_person("+447700900001") is None
    new = store.directory.create_person("+447700900001", T0)
    assert new.user_code != old.user_code
    assert store.directory.get_person(old.user_code).phone is None


def test_duplicate_phone_is_conflict(store: Store) -> None:
    """Two people cannot share a phone number."""
    store.directory.create_person("+447700900001", T0)
    with pytest.raises(Conflict):
        store.directory.create_person("+447700900001", T0)


def test_transaction_rolls_back_everything(store: Store) -> None:
    """An error inside transaction() undoes every write made in it."""
    with pytest.raises(RuntimeError), store.transaction():
        store.directory.add_business("Gone", now=T0)
        raise RuntimeError("boom")
    assert store.directory.list_businesses() == []


def test_threads_share_the_store(store: Store) -> None:
    """Several threads writing through one Store all succeed."""
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(20):
                store.directory.add_business(f"T{n}-{i}", now=T0)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert len(store.directory.list_businesses()) == 80


def test_data_version_changes_on_other_connection_write(db_target: str) -> None:
    """data_version moves when another connection commits."""
    reader, writer = Store.open(db_target), Store.open(db_target)
    before = reader.data_version()
    writer.directory.add_business("X", now=T0)
    assert reader.data_version() != before
    reader.close()
    writer.close()
