"""`smsd db migrate` and `smsd db copy` through the CLI, on real SQLite files and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from click.testing import CliRunner

from cli.main import cli
from store import Store
from store.migrations import MIGRATIONS

if TYPE_CHECKING:
    from smsd.testing.pgcluster import PgCluster

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def test_migrate_reports_every_migration(db_target: str) -> None:
    """`db migrate` applies and lists every migration on either backend."""
    result = CliRunner().invoke(cli, ["--db", db_target, "db", "migrate", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["migrations"] == [name for name, _ in MIGRATIONS]
    assert doc["database"] == ("postgresql" if db_target.startswith("postgresql") else "sqlite")


def test_copy_then_the_gateway_runs_on_postgresql(tmp_path: Path, pg_cluster: PgCluster) -> None:
    """`db copy` moves the rows, prints verified counts, and refuses to copy twice."""
    source = tmp_path / "old.db"
    with Store.open(source) as store:
        store.directory.add_business("Pizza Place", now=T0)
        store.directory.add_code("Pizza Place", "PIZZA", "2-for-1", aliases=("PIE",), now=T0)
    url = pg_cluster.fresh_url()
    result = CliRunner().invoke(cli, ["db", "copy", str(source), url, "--json"])
    assert result.exit_code == 0, result.output
    rows = {t["table"]: t["rows"] for t in json.loads(result.stdout)}
    assert rows["businesses"] == 1 and rows["codes"] == 1 and rows["code_aliases"] == 1
    with Store.open(url) as moved:
        code = moved.directory.find_code("pie")
        assert code is not None and code.reply == "2-for-1"
    again = CliRunner().invoke(cli, ["db", "copy", str(source), url])
    assert again.exit_code == 1 and "not empty" in again.stderr


def test_copy_wants_a_postgresql_url(tmp_path: Path) -> None:
    """A second SQLite path as destination is a user error, nothing is created."""
    source = tmp_path / "old.db"
    Store.open(source).close()
    result = CliRunner().invoke(cli, ["db", "copy", str(source), str(tmp_path / "new.db")])
    assert result.exit_code == 1 and "postgresql://" in result.stderr
    assert not (tmp_path / "new.db").exists()


def test_modem_status_shows_every_hosts_modems(pg_cluster: PgCluster) -> None:
    """`smsd modem status` on a shared store lists both hosts' modems, each with its host."""
    url = pg_cluster.fresh_url()
    for host in ("site-a", "site-b"):
        with Store.open(url, host=host) as store:
            store.modems.record_modem_status(f"{host}-m0", "sim", healthy=True, now=T0)
    result = CliRunner().invoke(cli, ["--db", url, "modem", "status", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert {name: doc["host"] for name, doc in report.items()} == {
        "site-a-m0": "site-a",
        "site-b-m0": "site-b",
    }
