"""Shared pytest set-up: Hypothesis profiles and the `tests/` helpers on sys.path."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, settings

from modem.modem import Modem
from modem.settings import ModemSettings

sys.path.insert(0, str(Path(__file__).parent))

from modemkit import Urcs
from ptypeer import PtyPeer

# "ci" (the default) keeps property and fuzz runs bounded; `make soak` selects "long".
settings.register_profile(
    "ci", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "long", max_examples=20_000, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

if TYPE_CHECKING:
    from modem.sim import SimModem
    from smsd.testing.pgcluster import PgCluster
    from store import Store


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimModem]:
    """A quiet generic simulated modem, reached through a link in this test's own folder.

    Daemons under test open ``sim.link``, never ``/dev/pts/N``: pty numbers are reused across
    the machine, and a daemon reconnecting by number could grab another test's modem. Once
    the simulator stops, its link is gone and a stray daemon finds nothing.
    """
    from modem.sim import SimModem

    modem = SimModem("generic", noise=False, link=str(tmp_path / "sim0"))
    modem.start()
    yield modem
    modem.stop()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """The test database (one business, code PIZZA), open in this process; a test file with
    a `store` of its own (other businesses, other rows) overrides it."""
    from smsd.testing import make_db
    from store import Store

    s = Store.open(make_db(tmp_path / "smsd.db"))
    yield s
    s.close()


@pytest.fixture
def fast_hashes() -> Iterator[None]:
    """Light argon2 parameters so tests that hash passwords stay fast (use via usefixtures)."""
    from store import passwords
    from store.passwords import HashParameters, use_parameters

    old = passwords.PARAMETERS
    use_parameters(HashParameters(time_cost=1, memory_cost_kib=8, parallelism=1))
    yield
    use_parameters(old)


@pytest.fixture(autouse=True)
def _no_leftover_daemons() -> Iterator[None]:
    """Whatever a test does, no daemon subprocess it started survives it."""
    yield
    from smsd.testing import kill_leftovers

    kill_leftovers()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """One throwaway PostgreSQL server for the whole run (`make test` installs postgresql)."""
    from smsd.testing import pgcluster

    if not pgcluster.available():
        pytest.fail(f"no PostgreSQL server in {pgcluster.PG_BIN}: apt-get install postgresql")
    cluster = pgcluster.PgCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database on each backend: a SQLite file path, or a PostgreSQL URL."""
    if request.param == "sqlite":
        return str(tmp_path / "smsd.db")
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    return cluster.fresh_url()


# The Modem tests (test_modem*.py): a scripted pty peer, a URC collector, a Modem factory.
@pytest.fixture
def peer() -> Iterator[PtyPeer]:
    """A started scripted peer."""
    with PtyPeer() as p:
        yield p


@pytest.fixture
def urcs() -> Urcs:
    """A URC collector."""
    return Urcs()


@pytest.fixture
def make_modem(peer: PtyPeer, urcs: Urcs) -> Iterator[Callable[..., Modem]]:
    """Build and open a Modem on the peer's pty with short timeouts; closed afterwards."""
    opened: list[Modem] = []

    def make(**overrides: object) -> Modem:
        options: dict[str, object] = {"command_timeout": 2.0, "prompt_timeout": 1.0}
        options.update(overrides)
        settings = ModemSettings(url=peer.path, **options)  # type: ignore[arg-type]
        modem = Modem(settings, on_urc=urcs)
        modem.SIM_RETRY_INTERVAL = 0.05
        modem.RESYNC_QUIET = 0.05
        modem.open()
        opened.append(modem)
        return modem

    yield make
    for modem in opened:
        modem.close()
