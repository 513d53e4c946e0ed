"""Modem names unique across hosts on one store: claims, refusals, restarts, dead hosts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from structlog.testing import capture_logs

from store.store import Store

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
ALIVE = timedelta(minutes=10)  # the claim timeout


@pytest.fixture
def hosts(db_target: str) -> Iterator[tuple[Store, Store]]:
    """Two hosts, a and b, on one store (each backend)."""
    with Store.open(db_target, host="a") as a, Store.open(db_target, host="b") as b:
        yield a, b


def _holders(store: Store) -> dict[str, str]:
    rows = store.db.execute("SELECT name, host FROM modem_claims").fetchall()
    return {str(name): str(host) for name, host in rows}


def test_a_name_held_by_a_live_host_is_refused(hosts: tuple[Store, Store]) -> None:
    """b may not run a's modem0 (one clear line says why) but gets its own b-own."""
    a, b = hosts
    assert a.modems.claim_names(["modem0"], NOW, ALIVE) == []
    (refused,) = b.modems.claim_names(["modem0", "b-own"], NOW + timedelta(seconds=5), ALIVE)
    assert (refused.name, refused.host, refused.holder) == ("modem0", "b", "a")
    assert "live host 'a'" in refused.line() and "rename" in refused.line()
    assert _holders(a) == {"modem0": "a", "b-own": "b"}
    assert a.modems.refusals(NOW + timedelta(seconds=6), ALIVE) == [refused]
    assert a.modems.name_holders(["modem0", "b-own"], "b", NOW, ALIVE) == {"modem0": ("a", NOW)}


def test_the_same_host_restarting_keeps_its_names(hosts: tuple[Store, Store]) -> None:
    """a claims again (a restart) while b is alive and refused: a keeps modem0."""
    a, b = hosts
    a.modems.claim_names(["modem0"], NOW, ALIVE)
    b.modems.claim_names(["modem0"], NOW + timedelta(seconds=1), ALIVE)
    assert a.modems.claim_names(["modem0"], NOW + timedelta(seconds=30), ALIVE) == []
    assert [r.host for r in b.modems.claim_names(["modem0"], NOW + timedelta(seconds=31), ALIVE)]
    assert _holders(a) == {"modem0": "a"}


def test_a_dead_hosts_name_is_taken_over(hosts: tuple[Store, Store]) -> None:
    """Once a's heartbeat is older than the claim timeout, b takes modem0 (logged), and
    then a, back, is refused in turn; b's old refusal is gone."""
    a, b = hosts
    a.modems.claim_names(["modem0"], NOW, ALIVE)
    a.modems.heartbeat(NOW + timedelta(minutes=1))
    assert b.modems.claim_names(["modem0"], NOW + ALIVE, ALIVE)  # a seen 9 min ago: alive
    later = NOW + ALIVE + timedelta(minutes=1, seconds=1)
    with capture_logs() as logs:
        assert b.modems.claim_names(["modem0"], later, ALIVE) == []
    assert {"event": "modem_name_taken_over", "modem": "modem0", "previous_host": "a",
            "log_level": "warning"} in logs  # fmt: skip
    assert _holders(a) == {"modem0": "b"}
    assert b.modems.refusals(later, ALIVE) == []
    (refused,) = a.modems.claim_names(["modem0"], later, ALIVE)
    assert refused.holder == "b"


def test_names_no_longer_run_are_released(hosts: tuple[Store, Store]) -> None:
    """a drops modem0 from its config: its next claim frees the name for b at once."""
    a, b = hosts
    a.modems.claim_names(["modem0", "modem1"], NOW, ALIVE)
    a.modems.claim_names(["modem1"], NOW + timedelta(seconds=1), ALIVE)
    assert b.modems.claim_names(["modem0"], NOW + timedelta(seconds=2), ALIVE) == []
    assert _holders(a) == {"modem0": "b", "modem1": "a"}


def test_a_stopped_hosts_refusals_are_not_shown(hosts: tuple[Store, Store]) -> None:
    """A refusal is shown while the refused host is alive, not after it stopped."""
    a, b = hosts
    a.modems.claim_names(["modem0"], NOW, ALIVE)
    b.modems.claim_names(["modem0"], NOW, ALIVE)
    assert len(a.modems.refusals(NOW + ALIVE, ALIVE)) == 1
    assert a.modems.refusals(NOW + ALIVE + timedelta(seconds=1), ALIVE) == []
