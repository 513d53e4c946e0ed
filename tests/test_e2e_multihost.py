"""Two gateway hosts (two `smsd run` processes, each with its own simulated modems) on one
PostgreSQL database: first contacts spread over both, a host SIGKILLed mid-run, a modem name
configured on both hosts."""

from __future__ import annotations

import json
import re
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
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
from store import Store

if TYPE_CHECKING:
    from smsd.testing.pgcluster import PgCluster

BOTH = 10  # of which this many text both hosts at the same moment


def _start_hosts(
    stack: ExitStack, tmp_path: Path, url: str, *, slow_send: dict[str, float] | None = None
) -> tuple[dict[str, SimModem], dict[str, DaemonProcess]]:
    """Hosts "a" and "b": a simulated modem and a started `smsd run` each, on `url`; every
    send of a host in `slow_send` takes that many seconds."""
    sims: dict[str, SimModem] = {}
    daemons: dict[str, DaemonProcess] = {}
    for host in ("a", "b"):
        folder = tmp_path / host
        folder.mkdir()
        sims[host] = stack.enter_context(SimModem("generic", noise=False, link=str(folder / "sim")))
        if slow_send is not None:
            sims[host].fault("slow_send", seconds=slow_send[host])
        listener = stack.enter_context(notify_socket(folder))
        extra = host_config(folder / "smsd.toml", url, host, sims[host].link)
        daemons[host] = DaemonProcess(folder, url, [], extra=extra)  # type: ignore[arg-type]
        daemons[host].start(listener)
    return sims, daemons


@pytest.mark.parametrize("contacts", [80, pytest.param(500, marks=pytest.mark.slow)])
def test_two_hosts_one_code_each_every_reply_once(
    tmp_path: Path, pg_cluster: PgCluster, contacts: int
) -> None:
    """Each person gets one user code once and every reply goes out exactly once, although
    host A is SIGKILLed mid-run: its claimed rows go out from host B after the timeout."""
    url = pg_cluster.fresh_url()
    make_db(url)  # type: ignore[arg-type]  # Store.open takes a URL as well as a path
    phones = [f"+4477009{n:05d}" for n in range(contacts)]
    with ExitStack() as stack:
        sims, daemons = _start_hosts(stack, tmp_path, url, slow_send={"a": 0.3, "b": 0.02})
        for n, phone in enumerate(phones):
            targets = ("a", "b") if n < BOTH else ("ab"[n % 2],)
            for host in targets:
                sims[host].deliver(phone, "PIZZA")
        wanted = contacts + BOTH
        wait_until(lambda: pg_count(url, "SELECT count(*) FROM requests") == wanted,
                   timeout=120, what="every message routed")  # fmt: skip
        by_a = "SELECT count(*) FROM outgoing WHERE state = 'sent' AND claimed_by = 'a'"
        wait_until(lambda: pg_count(url, by_a) >= 5, timeout=60, what="A sending")
        sims["a"].fault("slow_send", seconds=30)  # A's next send hangs: killed mid-send
        sending_a = "SELECT count(*) FROM outgoing WHERE state = 'sending' AND claimed_by = 'a'"
        wait_until(lambda: pg_count(url, sending_a) == 1, timeout=30, what="A mid-send")
        daemons["a"].kill()
        stuck = pg_count(
            url, "SELECT count(*) FROM outgoing WHERE state = 'sending' AND claimed_by = 'a'"
        )
        replies = contacts + wanted  # one user code per person, one reply per request
        wait_until(lambda: pg_count(url, "SELECT count(*) FROM outgoing WHERE state = 'sent'")
                   == replies, timeout=180, what="every reply sent")  # fmt: skip
        assert daemons["b"].terminate() == 0
        sent = [m for host in "ab" for m in sims[host].sent()]
    assert stuck == 1 and "claims_reclaimed" in daemons["b"].log_text()
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT recipient, text FROM outgoing WHERE state = 'sent'")
        expected = Counter((str(to), str(text)) for to, text in rows.fetchall())
    got = Counter((m["to"], m["text"]) for m in sent)
    assert not expected - got, "every recorded send reached the network"
    assert sum((got - expected).values()) <= stuck  # at most the send in flight at the kill
    assert pg_count(url, "SELECT count(*) FROM outgoing WHERE kind = 'user_code'") == len(phones)
    codes = Counter(m["to"] for m in sent if "personal code" in m["text"])
    assert set(codes) == set(phones) and sum(codes.values()) - len(phones) <= stuck
    assert pg_count(url, "SELECT count(DISTINCT user_code) FROM people") == contacts


def test_postgresql_stopped_under_traffic_loses_nothing(tmp_path: Path) -> None:
    """The server stops while texts arrive: they wait on the SIM, then all are answered once."""
    from smsd.testing.pgcluster import PgCluster

    cluster = PgCluster()  # its own server: the shared one must keep running
    cluster.start()
    try:
        url = cluster.fresh_url()
        make_db(url)  # type: ignore[arg-type]
        phones = [f"+4477008{n:05d}" for n in range(30)]
        with ExitStack() as stack:
            sim = stack.enter_context(SimModem("generic", noise=False, link=str(tmp_path / "s")))
            listener = stack.enter_context(notify_socket(tmp_path))
            extra = host_config(tmp_path / "smsd.toml", url, "solo", sim.link)
            daemon = DaemonProcess(tmp_path, url, [], extra=extra)  # type: ignore[arg-type]
            daemon.start(listener)
            for phone in phones[:10]:
                sim.deliver(phone, "PIZZA")
            wait_until(lambda: pg_count(url, "SELECT count(*) FROM requests") == 10, timeout=60)
            cluster.pause()
            for phone in phones[10:]:
                sim.deliver(phone, "PIZZA")
            alarm = '"store_alarm_raised"'
            wait_until(lambda: alarm in daemon.log_text(), timeout=30, what="the alarm")
            cluster.resume()
            sent = "SELECT count(*) FROM outgoing WHERE state = 'sent'"
            wait_until(lambda: pg_count(url, sent) == 2 * len(phones), timeout=120, what="all sent")
            assert daemon.alive() and '"store_alarm_cleared"' in daemon.log_text()
            assert daemon.terminate() == 0
            got = Counter(m["to"] for m in sim.sent())
            assert sim.stats["storage_used"] == 0
        assert got == dict.fromkeys(phones, 2)
        assert pg_count(url, "SELECT count(*) FROM incoming") == len(phones)
    finally:
        cluster.stop()


def test_a_business_preferring_another_hosts_modem_is_sent_there(
    tmp_path: Path, pg_cluster: PgCluster
) -> None:
    """Texts reach host A, but Pizza Place prefers B's modem: B sends every reply."""
    url = pg_cluster.fresh_url()
    make_db(url)  # type: ignore[arg-type]
    with Store.open(url) as store:
        store.modems.set_business_modem("Pizza Place", "b-m0")
    phones = [f"+4477007{n:05d}" for n in range(8)]
    with ExitStack() as stack:
        sims, daemons = _start_hosts(stack, tmp_path, url)
        wait_until(lambda: '"b-m0"' in daemons["a"].log_text(), timeout=30, what="A sees B")
        for phone in phones:
            sims["a"].deliver(phone, "PIZZA")
        replies = "SELECT count(*) FROM outgoing WHERE state = 'sent' AND kind = 'reply'"
        wait_until(lambda: pg_count(url, replies) == len(phones), timeout=60, what="replies")
        by_a = [m["text"] for m in sims["a"].sent()]
        by_b = [m["text"] for m in sims["b"].sent()]
    assert sum(t.startswith("Pizza:") for t in by_b) == len(phones)
    assert not any(t.startswith("Pizza:") for t in by_a)  # A sent only the user codes


def _holder(url: str, name: str) -> tuple[object, ...] | None:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT c.host, s.host, s.healthy FROM modem_claims c"
            " LEFT JOIN modem_status s ON s.name = c.name WHERE c.name = %s",
            (name,),
        ).fetchone()


def test_a_modem_name_held_by_a_live_host_is_refused_until_it_dies(
    tmp_path: Path, pg_cluster: PgCluster
) -> None:
    """Host B also configures A's modem name: B refuses that modem (one error line, in its
    log, its STATUS, `smsd modem status` and `doctor`) and runs its own; A restarting keeps
    the name; once A is SIGKILLed and its heartbeat older than the claim timeout, B takes it."""
    url = pg_cluster.fresh_url()
    make_db(url)  # type: ignore[arg-type]
    with ExitStack() as stack:
        sims = {n: stack.enter_context(SimModem("generic", noise=False, link=str(tmp_path / n)))
                for n in ("a", "b", "b2")}  # fmt: skip
        daemons, listeners = {}, {}
        for host, more in (
            ("a", ""),
            ("b", f'[[modems]]\nurl = "{sims["b2"].link}"\nname = "a-m0"\nsend_timeout = 5\n'),
        ):
            folder = tmp_path / f"host-{host}"
            folder.mkdir()
            listeners[host] = stack.enter_context(notify_socket(folder))
            extra = host_config(folder / "smsd.toml", url, host, sims[host].link, claim_timeout=10,
                            more=more)  # fmt: skip
            daemons[host] = DaemonProcess(folder, url, [], extra=extra)  # type: ignore[arg-type]
            daemons[host].start(listeners[host])
        listeners["b"].wait_for_match("STATUS", "name held elsewhere: a-m0", timeout=30)
        refused = [json.loads(line) for line in daemons["b"].log_text().splitlines()
                   if '"modem_name_refused"' in line]  # fmt: skip
        assert len(refused) == 1 and refused[0]["holder"] == "a"
        assert "live host 'a' runs a modem of that name" in refused[0]["error"]
        assert _holder(url, "a-m0") == ("a", "a", 1) and sims["b2"].stats["commands"] == 0
        shown = CliRunner().invoke(cli, ["--db", url, "modem", "status"])
        assert "error: modem name 'a-m0' refused on host 'b'" in shown.output
        doctor_config = tmp_path / "doctor.toml"
        host_config(doctor_config, url, "b", sims["b2"].link)
        doctor_config.write_text(doctor_config.read_text().replace("b-m0", "a-m0"))
        doctor = CliRunner().invoke(cli, ["--config", str(doctor_config), "doctor"])
        assert re.search(r"FAIL +a-m0 name +held by live host 'a'", doctor.output), doctor.output
        assert daemons["a"].terminate() == 0
        daemons["a"].start(listeners["a"])  # the same host again: it keeps its name
        assert _holder(url, "a-m0")[0] == "a"  # type: ignore[index]
        daemons["a"].kill()
        wait_until(lambda: _holder(url, "a-m0") == ("b", "b", 1), timeout=60, what="B took it")
        assert daemons["b"].log_text().count('"modem_name_claimed"') == 1
        assert daemons["b"].terminate() == 0
