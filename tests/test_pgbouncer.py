"""The PostgreSQL store through a real pgbouncer in transaction mode (DEPLOYING.md, 5a).

The bouncer pools every client onto TWO server connections (`smsd.testing.pgbouncer`), so the
clients of one test really take turns on the same server sessions: anything a store left on
a session (a SET, a prepared statement, a session lock, a temp table) would reach the next
client. Checks read the database straight from the cluster, past the bouncer.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest
from click.testing import CliRunner

from cli.main import cli
from smsd.pipeline import Pipeline
from smsd.releases import DeletedCopies
from smsd.settings import Rules
from store import IncomingDraft, Store, StoreUnavailable
from store.migrations import MIGRATIONS
from store.postgres import PgDatabase

if TYPE_CHECKING:
    from smsd.testing.pgbouncer import PgBouncer
    from smsd.testing.pgcluster import PgCluster

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
PHONE = "+447700900123"


@pytest.fixture(scope="module")
def bouncer(pg_cluster: PgCluster) -> Iterator[PgBouncer]:
    """pgbouncer (transaction pooling, 2 server connections) over the session's cluster."""
    from smsd.testing import pgbouncer

    if not pgbouncer.available():
        pytest.fail(f"no pgbouncer at {pgbouncer.PGBOUNCER}: apt-get install pgbouncer")
    server = pgbouncer.PgBouncer(pg_cluster, pool_size=2)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def _direct(bouncer: PgBouncer, url: str, sql: str) -> list[tuple[object, ...]]:
    """Rows of `sql` read straight from the cluster (past the bouncer)."""
    with psycopg.connect(bouncer.direct_url(url)) as conn:
        return list(conn.execute(sql).fetchall())


def _count(bouncer: PgBouncer, url: str, sql: str) -> int:
    from smsd.testing import pg_count

    return pg_count(bouncer.direct_url(url), sql)


def _server_pid(store: Store) -> int:
    """The PostgreSQL backend serving this store's statement right now (bouncer's choice)."""
    row = store.db.execute("SELECT pg_backend_pid()").fetchone()
    assert row is not None
    return int(row[0])


def _no_advisory_locks(bouncer: PgBouncer, url: str) -> bool:
    return _count(bouncer, url, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'") == 0


def test_migrations_apply_through_the_bouncer(bouncer: PgBouncer) -> None:
    """`Store.open` migrates a fresh database, and `smsd db migrate` finds it up to date."""
    url = bouncer.fresh_url()
    Store.open(url).close()
    applied = [str(r[0]) for r in _direct(bouncer, url, "SELECT name FROM migrations")]
    assert sorted(applied) == sorted(name for name, _ in MIGRATIONS)
    other = bouncer.fresh_url()  # and the CLI on a database of its own, from nothing
    result = CliRunner().invoke(cli, ["--db", other, "db", "migrate", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["migrations"] == [name for name, _ in MIGRATIONS]


def _seed(url: str, returning: list[str]) -> list[str]:
    """Three businesses with a code each, and `returning` people known already."""
    with Store.open(url) as store:
        for b in range(3):
            store.directory.add_business(f"Business {b}", now=T0)
            store.directory.add_code(f"Business {b}", f"CODE{b}", f"Thanks from {b}, {{user_code}}")
        with store.transaction():
            for phone in returning:
                store.directory.create_person(phone, T0)
    return [f"CODE{b}" for b in range(3)]


def _bursts(returning: list[str], keywords: list[str]) -> list[list[tuple[str, str]]]:
    """Five bursts of eight: first contacts (some twice in one burst, some again later),
    returning people, a HELP and an unknown word each."""
    out = []
    for n in range(5):
        fresh = [f"+4477008{n:02d}{i:03d}" for i in range(3)]
        burst = [(fresh[0], keywords[n % 3]), (fresh[1], keywords[(n + 1) % 3].lower()),
                 (fresh[2], keywords[0]), (fresh[2], keywords[1]),  # twice in one burst
                 (returning[n], keywords[2]), (returning[n + 1], "HELP"),
                 (returning[n + 2], "what is this")]  # fmt: skip
        if n:  # last burst's first contact, now returning
            burst.append((f"+4477008{n - 1:02d}000", keywords[1]))
        out.append(burst)
    return out


def _route(store: Store, bursts: list[list[tuple[str, str]]]) -> int:
    """The daemon's store work per burst, as `benchmarks/routing.py::_run`; messages routed."""
    pipeline = Pipeline(store, Rules())
    held: tuple[DeletedCopies, ...] = ()
    routed = 0
    for traffic in bursts:
        now = datetime.now(UTC)
        drafts = [
            IncomingDraft(sender, "international", text, now, scts=now, modem="modem0",
                          storage="SM", storage_index=slot)
            for slot, (sender, text) in enumerate(traffic)
        ]  # fmt: skip
        with pipeline.burst(held) as burst:
            stored = store.inbox.record_and_read(drafts)
            burst.route([m.id for m in stored if m], {m.id: m for m in stored if m})
        routed += len(burst.routed.processed)
        held = (DeletedCopies("modem0", "SM", tuple(d.storage_index for d in drafts)),)
    with pipeline.burst(held):
        pass  # the idle daemon releases the last keys on their own
    return routed


def test_the_daemons_routing_through_the_bouncer(bouncer: PgBouncer) -> None:
    """Bursts of first contacts and returning people: every message routed, one user code
    per first contact, a reply per code message, no writer lock left behind."""
    url = bouncer.fresh_url()
    returning = [f"+4477009{i:05d}" for i in range(8)]
    bursts = _bursts(returning, _seed(url, returning))
    with Store.open(url) as store, Store.open(url, read_only=True) as reader:
        routed = _route(store, bursts)
        assert reader.inbox.list(limit=100)  # another client on the same two connections
    sent = [m for burst in bursts for m in burst]
    assert routed == len(sent) == _count(bouncer, url, "SELECT count(*) FROM incoming")
    firsts = {phone for phone, _ in sent} - set(returning)
    user_codes = "SELECT recipient FROM outgoing WHERE kind = 'user_code'"
    codes = Counter(str(r[0]) for r in _direct(bouncer, url, user_codes))
    assert codes == dict.fromkeys(firsts, 1)
    code_texts = sum(1 for _, text in sent if text.upper().startswith("CODE"))
    assert _count(bouncer, url, "SELECT count(*) FROM requests") == code_texts
    replies = "SELECT count(*) FROM outgoing WHERE kind = 'reply' AND state = 'queued'"
    assert _count(bouncer, url, replies) == code_texts
    assert _count(bouncer, url, "SELECT count(DISTINCT user_code) FROM people") == len(
        firsts | set(returning)
    )
    assert _no_advisory_locks(bouncer, url)


def test_read_only_reads_between_writes_leave_the_writer_writing(bouncer: PgBouncer) -> None:
    """A read-only store and the daemon's store take turns on one server session: each
    read sees the last write, refuses its own, and the writer's next write still lands."""
    url = bouncer.fresh_url()
    with Store.open(url) as writer, Store.open(url, read_only=True) as reader:
        pids = {_server_pid(writer)}
        for n in range(6):
            writer.directory.add_business(f"Business {n}", now=T0)
            assert len(reader.directory.list_businesses()) == n + 1
            pids.add(_server_pid(reader))
            with pytest.raises(StoreUnavailable):
                reader.directory.add_business(f"Refused {n}", now=T0)
            with writer.transaction(write=True):  # a write transaction right after the read
                writer.outbox.queue_outgoing(PHONE, f"after read {n}", "reply", now=T0)
            pids.add(_server_pid(writer))
    assert len(pids) == 1, "both stores ran on one server session, one after the other"
    assert _count(bouncer, url, "SELECT count(*) FROM businesses") == 6
    assert _count(bouncer, url, "SELECT count(*) FROM outgoing") == 6


def test_two_writers_alternate_and_leave_no_lock(bouncer: PgBouncer) -> None:
    """Two writer stores alternate transactions on shared sessions: each lock ends with its
    transaction (no deadlock, nothing held after), and every write lands."""
    url = bouncer.fresh_url()
    Store.open(url).close()
    with Store.open(url, host="a") as a, Store.open(url, host="b") as b:
        for n in range(10):
            for store in (a, b):
                with store.transaction(write=True):
                    store.outbox.queue_outgoing(PHONE, f"{store.host} {n}", "reply", now=T0)
                assert _no_advisory_locks(bouncer, url)
    assert _count(bouncer, url, "SELECT count(*) FROM outgoing") == 20


def _writes(url: str, host: str, count: int, pids: set[int], errors: list[BaseException]) -> None:
    try:
        with Store.open(url, host=host) as store:
            for n in range(count):
                store.outbox.queue_outgoing(PHONE, f"{host} {n}", "reply", now=T0)
                pids.add(_server_pid(store))
    except BaseException as exc:  # reported by the test, not lost in the thread
        errors.append(exc)


def test_three_writers_at_once_share_two_server_connections(bouncer: PgBouncer) -> None:
    """Three writer threads at once over a pool of two: the lock serialises them, nobody
    waits forever, every write lands, and at most two server sessions served them."""
    url = bouncer.fresh_url()
    Store.open(url).close()
    pids: set[int] = set()
    errors: list[BaseException] = []
    threads = [
        threading.Thread(target=_writes, args=(url, host, 25, pids, errors)) for host in "abc"
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors and not any(t.is_alive() for t in threads)
    assert len(pids) <= 2
    assert _count(bouncer, url, "SELECT count(*) FROM outgoing") == 75
    assert _no_advisory_locks(bouncer, url)


def test_outbox_claims_renewals_and_reclaims_through_the_bouncer(bouncer: PgBouncer) -> None:
    """A claims, renews; B cannot renew A's claim, reclaims it only after the timeout from
    the renewal, then claims and sends it; A's renewal then says the claim is gone."""
    minute = timedelta(minutes=1)
    url = bouncer.fresh_url()
    with Store.open(url, host="a") as a, Store.open(url, host="b") as b:
        out = a.outbox.queue_outgoing(PHONE, "hi", "reply", now=T0)
        claimed = a.outbox.claim_next_outgoing("a-m0", T0)
        assert claimed is not None and claimed.id == out and claimed.claimed_by == "a"
        assert b.outbox.claim_next_outgoing("b-m0", T0) is None
        assert a.outbox.renew_claim(out, T0 + timedelta(seconds=50))
        assert not b.outbox.renew_claim(out, T0 + timedelta(seconds=55))
        assert b.outbox.reclaim_expired(T0 + timedelta(seconds=100), minute) == 0
        assert b.outbox.reclaim_expired(T0 + timedelta(seconds=111), minute) == 1
        assert not a.outbox.renew_claim(out, T0 + timedelta(seconds=112))
        again = b.outbox.claim_next_outgoing("b-m0", T0 + timedelta(seconds=112))
        assert again is not None and again.id == out and again.claimed_by == "b"
        assert again.attempts == 2
        b.outbox.mark_sent(out, 7, "b-m0", T0 + timedelta(seconds=113))
    state = _direct(bouncer, url, f"SELECT state, claimed_by FROM outgoing WHERE id = {out}")
    assert state == [("sent", "b")]


def test_stream_reads_past_its_batches_while_others_write(bouncer: PgBouncer) -> None:
    """`db.stream` (a named cursor, fetched 5000 rows at a time) keeps its transaction and
    its cursor on one server session while another store writes on the other."""
    url = bouncer.fresh_url()
    with Store.open(url) as reader, Store.open(url, host="w") as writer:
        assert isinstance(reader.db, PgDatabase)
        total = 0
        for n, row in enumerate(reader.db.stream("SELECT x FROM generate_series(1, 12000) x")):
            total += int(row[0])
            if n % 4000 == 0:  # between fetches: the other connection is the writer's
                writer.outbox.queue_outgoing(PHONE, f"mid-stream {n}", "reply", now=T0)
        assert total == 12000 * 12001 // 2
        assert len(list(reader.db.stream("SELECT id FROM outgoing"))) == 3


def test_db_copy_into_a_database_behind_the_bouncer(tmp_path: Path, bouncer: PgBouncer) -> None:
    """`smsd db copy` (COPY in one transaction, then streamed checksums) moves a routed
    SQLite gateway behind the bouncer; the copy answers as the original did."""
    source = tmp_path / "old.db"
    returning = [f"+4477009{i:05d}" for i in range(8)]
    bursts = _bursts(returning, _seed(str(source), returning))
    with Store.open(source) as store:
        _route(store, bursts)
    url = bouncer.fresh_url()
    result = CliRunner().invoke(cli, ["db", "copy", str(source), url, "--json"])
    assert result.exit_code == 0, result.output
    tables = {t["table"]: t["rows"] for t in json.loads(result.stdout)}
    assert tables["incoming"] == sum(len(b) for b in bursts)
    assert tables["outgoing"] == _count(bouncer, url, "SELECT count(*) FROM outgoing") > 0
    with Store.open(url) as moved:
        code = moved.directory.find_code("code1")
        assert code is not None and code.reply.startswith("Thanks from 1")
        assert moved.directory.create_person("+447700955555", T0).user_code  # ids go on
    assert _no_advisory_locks(bouncer, url)


def test_smsd_run_through_the_bouncer_answers_first_contacts(
    tmp_path: Path, bouncer: PgBouncer
) -> None:
    """`smsd run` with its [database] url on the bouncer: each first contact gets a user
    code and a reply, once, and the daemon stops cleanly."""
    from modem.sim import SimModem
    from smsd.testing import DaemonProcess, make_db, notify_socket, wait_until

    url = bouncer.fresh_url()
    make_db(url)  # type: ignore[arg-type]  # Store.open takes a URL as well as a path
    config = tmp_path / "smsd.toml"
    phones = [f"+4477007{n:05d}" for n in range(6)]
    sent = "SELECT count(*) FROM outgoing WHERE state = 'sent'"
    with (
        SimModem("generic", noise=False, link=str(tmp_path / "sim")) as sim,
        notify_socket(tmp_path) as listener,
    ):
        config.write_text(
            "\n".join([
                "[database]", f"url = {json.dumps(url)}", "",
                "[[modems]]", f"url = {json.dumps(sim.link)}", 'name = "m0"', "",
                "[outgoing]", "backoff_base_s = 0.5", "status_reports = false", "",
            ])
        )  # fmt: skip
        daemon = DaemonProcess(tmp_path, url, [], extra=["--config", str(config)])  # type: ignore[arg-type]
        daemon.start(listener)
        for phone in phones:
            sim.deliver(phone, "PIZZA")
        wait_until(lambda: _count(bouncer, url, sent) == 2 * len(phones), timeout=60,
                   what="a code and a reply per first contact")  # fmt: skip
        assert daemon.terminate() == 0
        got = Counter(m["to"] for m in sim.sent())
    assert got == dict.fromkeys(phones, 2)
    assert _count(bouncer, url, "SELECT count(*) FROM outgoing WHERE kind = 'user_code'") == 6
    assert _no_advisory_locks(bouncer, url)
