"""PostgreSQL fail-over to a promoted streaming standby, through one multi-host URL.

Each test has its own primary and a synchronous standby (`PgCluster.start_standby`: a
promotion then loses no commit), never the session's shared `pg_cluster`. The URL names both
(`multi_host_url`); with ``target_session_attrs=read-write`` libpq connects to whichever one
accepts writes, so the store follows a promotion without pgbouncer or DNS changes. A read-only
store with ``prefer-standby`` reads from the standby.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from modem.sim import SimModem
from smsd.testing import (
    DaemonProcess,
    host_config,
    make_db,
    notify_socket,
    pg_count,
    wait_until,
)
from smsd.testing.pgcluster import PgCluster, available, multi_host_url
from store import Store
from store.errors import StoreUnavailable

Pair = tuple[PgCluster, PgCluster]


@pytest.fixture
def pair() -> Iterator[Pair]:
    """A primary and its synchronous streaming standby, both started; both removed after."""
    if not available():
        pytest.fail("no PostgreSQL server binaries: apt-get install postgresql")
    with ExitStack() as stack:
        primary = PgCluster()
        stack.callback(primary.stop)
        primary.start()
        standby = primary.start_standby()
        stack.callback(standby.stop)
        yield primary, standby


def _port(store: Store) -> int:
    """The port of the server the store is connected to (which cluster it is on)."""
    with store.transaction(write=False) as db:
        row = db.execute("SELECT inet_server_port()").fetchone()
    assert row is not None
    return int(row[0])


def _phones(prefix: str, n: int) -> list[str]:
    return [f"+44770{prefix}{i:04d}" for i in range(n)]


def test_the_same_store_follows_a_promotion_and_keeps_every_commit(pair: Pair) -> None:
    """Primary stopped: calls fail as unavailable; standby promoted: the same Store writes
    there by itself, with every person committed before."""
    primary, standby = pair
    url = multi_host_url(primary.fresh_url(), pair, "read-write")
    now = datetime.now(UTC)
    with Store.open(url) as store:
        assert _port(store) == primary.port
        before = {p: store.directory.create_person(p, now).user_code for p in _phones("10", 20)}
        primary.pause()
        for _ in range(2):  # the dead connection, then the standby refusing a read-write session
            with pytest.raises(StoreUnavailable):
                store.directory.find_person(next(iter(before)))
        standby.promote()
        late = store.directory.create_person("+447701099999", now)
        assert _port(store) == standby.port
        found = {p: getattr(store.directory.find_person(p), "user_code", None) for p in before}
        assert found == before
        assert store.directory.get_person(late.user_code).phone == "+447701099999"


def test_a_transaction_cut_by_the_fail_over_leaves_nothing(pair: Pair) -> None:
    """A transaction whose primary stops half-way raises StoreUnavailable; after the promotion
    none of its writes exist, and the store is usable again."""
    primary, standby = pair
    url = multi_host_url(primary.fresh_url(), pair, "read-write")
    now = datetime.now(UTC)
    first, second = _phones("11", 2)
    with Store.open(url) as store:
        kept = store.directory.create_person("+447701100099", now)
        with pytest.raises(StoreUnavailable), store.transaction():
            store.directory.create_person(first, now)  # sent: BEGIN, the lock, the INSERT
            primary.pause()
            store.directory.create_person(second, now)
        assert store.depth == 0
        standby.promote()
        assert store.directory.find_person(first) is None
        assert store.directory.find_person(second) is None
        assert store.directory.find_person("+447701100099") == kept
        assert store.directory.create_person(first, now).phone == first
    assert pg_count(standby.url, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'") == 0


def test_a_read_only_store_reads_from_the_standby(pair: Pair) -> None:
    """`prefer-standby`: a read-only store (and `smsd code list`) is served by the standby and
    sees each commit of the writer on the primary as soon as COMMIT returns (remote_apply)."""
    primary, standby = pair
    one = primary.fresh_url()
    read_url = multi_host_url(one, pair, "prefer-standby")
    now = datetime.now(UTC)
    with (
        Store.open(multi_host_url(one, pair, "read-write")) as writer,
        Store.open(read_url, read_only=True) as reader,
    ):
        assert (_port(writer), _port(reader)) == (primary.port, standby.port)
        version = reader.data_version()
        for phone in _phones("12", 5):
            person = writer.directory.create_person(phone, now)
            assert reader.directory.get_person(person.user_code) == person
        assert reader.data_version() != version  # the daemon's wake-up works on a standby
        with pytest.raises(StoreUnavailable):  # the standby (and READ ONLY) refuse writes
            reader.directory.create_person("+447701299999", now)
        assert writer.directory.find_person("+447701299999") is None
        writer.directory.add_business("Pizza Place")
        writer.directory.add_code("Pizza Place", "PIZZA", "Pizza: 2-for-1")
    listed = CliRunner().invoke(cli, ["--db", read_url, "code", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert [c["code"] for c in json.loads(listed.output)] == ["PIZZA"]


def _refusals(log: str) -> int:
    """How many writes the daemon's modem worker saw refused so far."""
    return len(re.findall(r'"event": "store_(?:alarm_raised|write_refused)"', log))


def _events(log: str) -> list[str]:
    """The daemon's JSON log events, in order."""
    return re.findall(r'"event": "(\w+)"', log)


def test_a_daemon_on_a_multi_host_url_survives_a_promotion(pair: Pair, tmp_path: Path) -> None:
    """`smsd run` on the multi-host URL: texts that arrive while the primary is down wait on
    the SIM; once the standby is promoted every person gets one code and one reply, once."""
    primary, standby = pair
    url = multi_host_url(primary.fresh_url(), pair, "read-write")
    make_db(url)  # type: ignore[arg-type]  # Store.open takes a URL as well as a path
    phones = _phones("13", 30)
    with ExitStack() as stack:
        sim = stack.enter_context(SimModem("generic", noise=False, link=str(tmp_path / "s")))
        listener = stack.enter_context(notify_socket(tmp_path))
        extra = host_config(tmp_path / "smsd.toml", url, "solo", str(sim.link))
        daemon = DaemonProcess(tmp_path, url, [], extra=extra)  # type: ignore[arg-type]
        daemon.start(listener)
        sim.fault("slow_send", seconds=0.2)  # replies still queued when the primary stops
        for phone in phones[:10]:
            sim.deliver(phone, "PIZZA")
        sent = "SELECT count(*) FROM outgoing WHERE state = 'sent'"
        wait_until(lambda: pg_count(url, "SELECT count(*) FROM requests") == 10, timeout=60)
        wait_until(lambda: sim.stats["storage_used"] == 0, timeout=30, what="SIM emptied")
        wait_until(lambda: pg_count(url, sent) >= 4, timeout=60, what="first answers")
        before = pg_count(url, sent)
        primary.pause()  # under traffic: most replies to the first ten are still queued
        for phone in phones[10:]:
            sim.deliver(phone, "PIZZA")
        sweeps, refused = sim.command_counts.get("AT+CMGL", 0), _refusals(daemon.log_text())
        wait_until(lambda: sim.command_counts.get("AT+CMGL", 0) > sweeps, timeout=30)
        wait_until(lambda: _refusals(daemon.log_text()) > refused, timeout=30)
        wait_until(lambda: '"store_unavailable"' in daemon.log_text(), timeout=30)
        assert sim.stats["storage_used"] == 20  # read, not committed: none deleted
        sim.fault("slow_send", seconds=0)
        standby.promote()
        wait_until(lambda: pg_count(url, sent) == 2 * len(phones), timeout=120, what="all sent")
        assert daemon.alive() and daemon.terminate() == 0
        got = Counter((m["to"], m["text"]) for m in sim.sent())
        assert sim.stats["storage_used"] == 0
    assert before < 2 * 10  # the primary stopped while replies were still queued
    events = _events(daemon.log_text())
    assert events.index("store_alarm_cleared") > events.index("store_unavailable")
    assert set(got.values()) == {1} and Counter(to for to, _ in got) == dict.fromkeys(phones, 2)
    assert sum("personal code" in text for _, text in got) == len(phones)
    assert pg_count(url, "SELECT count(*) FROM incoming") == len(phones)
    assert pg_count(url, "SELECT count(DISTINCT user_code) FROM people") == len(phones)
    assert pg_count(url, "SELECT count(*) FROM requests") == len(phones)
    assert pg_count(url, "SELECT inet_server_port()") == standby.port  # the URL followed
