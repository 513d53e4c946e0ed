"""Start-up stays cheap: `smsd send` and the daemon load only what they use.

The figures live in `benchmarks/startup.py` and `benchmarks/idle.py`; these tests guard the
causes: structlog (asyncio, ssl), argon2, phonenumbers and the store parts a command never
touches stay out of the process, and logging is still configured once structlog arrives.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from test_cli_lazy import loaded_modules

from store.store import Store

#: Store parts `smsd send` never touches: `queue_manual` needs broadcasts, directory, outbox.
UNUSED_BY_SEND = {
    "store.accounts",
    "store.audit",
    "store.inbox",
    "store.invoices",
    "store.modems",
    "store.passwords",
    "store.routing",
    "store.stats",
}

#: Store parts the daemon never touches, and what they would bring in.
UNUSED_BY_DAEMON = {
    "store.accounts",
    "store.invoices",
    "store.passwords",
    "store.stats",
    "argon2",
}


def _top(modules: list[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_send_loads_no_logging_hashing_or_unused_store_parts(tmp_path: Path) -> None:
    """`smsd send` loads neither structlog (nor asyncio, ssl), argon2 nor the store parts it
    does not use."""
    loaded_modules(tmp_path, "send", "+447700900123", "warm-up")  # migrations (they log)
    stdout, modules = loaded_modules(tmp_path, "send", "+447700900123", "hello")
    assert stdout.startswith("queued message 2 to +447700900123")
    assert _top(modules) & {"structlog", "asyncio", "ssl", "argon2", "cffi"} == set()
    assert UNUSED_BY_SEND & set(modules) == set()
    assert {"store.broadcast", "store.outbox", "phonenumbers"} <= set(modules)


def _smsd(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SMSD_")}
    return subprocess.run(
        [sys.executable, "-m", "cli", "--db", str(tmp_path / "smsd.db"), *args],
        env={**clean, "SMSD_LOG_FORMAT": "json", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def test_logging_is_configured_when_structlog_first_loads(tmp_path: Path) -> None:
    """The store's first event (migrations on a new file) goes to stderr as JSON at the CLI's
    level; stdout holds only the command's own line."""
    done = _smsd(tmp_path, "send", "+447700900123", "hi", SMSD_LOG_LEVEL="info")
    assert done.stdout == "queued message 1 to +447700900123 (1 part)\n"
    lines = done.stderr.splitlines()
    assert lines[-1].startswith("Warning: no daemon is running")  # none runs in this test
    events = [json.loads(line) for line in lines[:-1]]
    assert [e["event"] for e in events] == ["migrations_applied"]
    assert events[0]["level"] == "info"


def test_warning_level_still_filters_late_structlog(tmp_path: Path) -> None:
    """At the CLI's default level (warning) the migrations event is dropped, not printed."""
    done = _smsd(tmp_path, "send", "+447700900123", "hi")
    assert done.stdout == "queued message 1 to +447700900123 (1 part)\n"
    assert done.stderr.startswith("Warning: no daemon is running")  # the only line
    assert done.stderr.count("\n") == 1


def test_national_number_still_reads_the_configured_region(tmp_path: Path) -> None:
    """Without a country code, `send` reads the region from the configuration."""
    config = tmp_path / "smsd.toml"
    config.write_text('[gateway]\ndefault_region = "US"\n', encoding="utf-8")
    done = _smsd(tmp_path, "send", "(202) 555-0142", "hi", SMSD_CONFIG=str(config))
    assert done.stdout == "queued message 1 to +12025550142 (1 part)\n"


def test_daemon_modules_leave_out_the_parts_it_never_uses() -> None:
    """Importing `smsd run` and the daemon loads no accounts, invoices, stats, argon2, nor
    phonenumbers before the first number arrives."""
    probe = "import json, sys, cli.run, smsd.daemon; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    modules = set(json.loads(done.stdout))
    assert UNUSED_BY_DAEMON & (modules | _top(sorted(modules))) == set()
    assert "phonenumbers" not in modules
    assert "smsd.daemon" in modules


def test_store_parts_are_made_once_on_first_use(tmp_path: Path) -> None:
    """A part is the same object on every access, and one made later sees the same data."""
    with Store.open(tmp_path / "smsd.db") as store:
        assert store.outbox is store.outbox
        new_id = store.broadcasts.queue_manual("+447700900123", "hi", now=datetime.now(UTC))
        assert store.outbox.get_outgoing(new_id).text == "hi"
