"""The idle daemon leaves out what it never uses (issue 12: idle RSS, `benchmarks/idle.py`).

The figure belongs to the benchmark; these tests guard the causes: no asyncio, ssl, OpenSSL or
greenlet in the real ``smsd run`` after traffic (seen in the shared objects mapped into it),
the stand-in for asyncio still hands over the real module to whoever uses it, and the inbox's
SHA-256 is hashlib's digest without hashlib.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from modem.sim import SimModem
from smsd.daemon_memory import BLOCKED, DEFERRED
from smsd.testing import make_db, running_daemon, texts_to, wait_until
from store.digest import sha256_hex

KNOWN, FIRST = "+447700900123", "+447700900124"

#: Shared objects behind modules the daemon must not load: asyncio's and ssl's C parts,
#: OpenSSL (ssl, hashlib, hmac and secrets map it), greenlet's extension.
NOT_MAPPED = ("_asyncio.", "_ssl.", "libssl", "libcrypto", "_hashlib.", "greenlet")


def _mapped_files(pid: int) -> set[str]:
    """Every file mapped into process ``pid`` (its shared libraries and C extensions)."""
    lines = Path(f"/proc/{pid}/maps").read_text().splitlines()
    return {line.split()[5] for line in lines if len(line.split()) > 5}


def test_daemon_after_traffic_maps_no_asyncio_ssl_openssl_or_greenlet(
    tmp_path: Path, sim: SimModem
) -> None:
    """After a known person's and a first contact's texts are answered, the real `smsd run`
    has mapped none of asyncio, ssl, OpenSSL, hashlib's backend or greenlet."""
    db = make_db(tmp_path / "smsd.db", known_people=[KNOWN])
    with running_daemon(tmp_path, db, [sim.link]) as daemon:
        sim.deliver(KNOWN, "pizza")
        sim.deliver(FIRST, "pizza")  # a new user code: what `secrets` would have loaded
        wait_until(lambda: len(texts_to(sim, KNOWN)) >= 1 and len(texts_to(sim, FIRST)) >= 2)
        mapped = _mapped_files(daemon.pid)
    assert any("_sqlite3." in path for path in mapped)  # the maps were read: the store is there
    assert [p for p in mapped if any(name in p for name in NOT_MAPPED)] == []


_PROBE = """
import json, sys
from smsd.daemon_memory import StandIn, defer_unused_imports
changed = defer_unused_imports()
import structlog
from structlog.testing import capture_logs
with capture_logs() as logs:
    structlog.get_logger().info("probe_logged")
out = {"changed": changed, "stand_in": isinstance(sys.modules["asyncio"], StandIn),
       "loaded_before_use": "asyncio.events" in sys.modules, "logs": logs}
try:
    import greenlet
    out["greenlet"] = "imported"
except ImportError:
    out["greenlet"] = "refused"
import asyncio
async def answer():
    return 42
out["run"] = asyncio.run(answer())
out["real_after_use"] = not isinstance(sys.modules["asyncio"], StandIn)
out["same_function"] = asyncio.get_running_loop is sys.modules["asyncio"].get_running_loop
print(json.dumps(out))
"""


def _probe(prelude: str = "") -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", prelude + _PROBE],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_stand_in_keeps_asyncio_out_until_used_then_is_asyncio() -> None:
    """structlog imports and logs with asyncio deferred and greenlet refused; the first real
    use of asyncio imports it, and code holding the stand-in gets the real functions."""
    out = _probe()
    assert out["changed"] == [*DEFERRED, *BLOCKED]
    assert out["stand_in"] is True and out["loaded_before_use"] is False
    assert out["logs"] == [{"event": "probe_logged", "log_level": "info"}]
    assert out["greenlet"] == "refused"
    assert out["run"] == 42
    assert out["real_after_use"] is True and out["same_function"] is True


def test_modules_already_loaded_are_left_alone() -> None:
    """When asyncio is already imported, the real module stays in place (no stand-in)."""
    out = _probe("import asyncio\n")
    assert "asyncio" not in out["changed"]  # type: ignore[operator]
    assert out["stand_in"] is False and out["run"] == 42


@given(st.binary(max_size=300))
def test_sha256_hex_is_hashlibs_digest(data: bytes) -> None:
    """The inbox's SHA-256 gives hashlib's hex digest, so dedupe keys do not change."""
    assert sha256_hex(data) == hashlib.sha256(data).hexdigest()


def test_inbox_and_user_codes_load_no_openssl() -> None:
    """Hashing a message for its dedupe key and drawing a user code load no hashlib backend."""
    probe = (
        "import sys; from store.inbox import dedupe_key; from store.directory import new_user_code;"
        " dedupe_key('+447700900123', None, None, 'hi'); new_user_code();"
        " print(sorted(m for m in ('_hashlib', 'hashlib', 'secrets', 'ssl') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"
