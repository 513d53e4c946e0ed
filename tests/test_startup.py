"""Start-up stays cheap: `smsd send` and the daemon load only what they use.

The figures live in `benchmarks/startup.py` and `benchmarks/idle.py`; these tests guard the
causes: structlog (asyncio, ssl), argon2, phonenumbers and the store parts a command never
touches stay out of the process, and logging is still configured once structlog arrives.
"""

from __future__ import annotations

import ast
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


#: What `smsd send` must never load: the services' stacks (asyncio, logging, the web and API
#: frameworks, PostgreSQL, password hashing, pyserial) and what its path was cut away from:
#: the whole configuration and the router's settings, the consent and events dataclasses, the
#: model leaves it builds nothing from, the operator's views, the PDU codec (the part counter
#: is enough), phonenumbers beyond its parser (`smsd.phonelib`), sockets, JSON, CSV, decimals;
#: and Click itself, as the plain line runs on the quick path (`cli.quicksend`).
NOT_FOR_SEND = {
    "asyncio", "structlog", "starlette", "uvicorn", "jinja2", "psycopg", "argon2", "h11",
    "prometheus_client", "serial", "ssl", "socket", "json", "csv", "decimal", "zoneinfo",
    "smsd.web", "smsd.integrations", "smsd.daemon", "smsd.pipeline", "smsd.router",
    "smsd.config", "smsd.config_rules", "smsd.config_services", "smsd.settings",
    "smsd.operator_views", "store.consent", "store.rules_models", "store.rules_schema",
    "store.events", "store.models", "store.models_inbox", "store.models_plans",
    "store.business_view", "store.audit", "store.models_outbox", "cli.output", "cli.render",
    "modem.pdu.codec", "modem.pdu.types", "phonenumbers.phonenumbermatcher",
    "phonenumbers.asyoutypeformatter", "phonenumbers.shortnumberinfo", "click", "cli.main",
    "cli.context", "cli.send",
}  # fmt: skip

#: `smsd send` in a fresh interpreter; prints its loaded modules without importing json itself.
_SEND_PROBE = """
import sys
from cli.entry import main
sys.argv = ["smsd", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
print(repr(sorted(sys.modules)), file=sys.stderr)
"""


def _top(modules: list[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_send_imports_nothing_it_must_not(tmp_path: Path) -> None:
    """The send path (a known database, plain text) loads none of `NOT_FOR_SEND`."""
    db = tmp_path / "smsd.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMSD_")}
    env["SMSD_CONFIG"] = os.devnull
    argv = [sys.executable, "-c", _SEND_PROBE, "--db", str(db), "send", "+447700900123"]
    subprocess.run([*argv, "warm-up"], env=env, capture_output=True, timeout=60, check=True)
    done = subprocess.run(
        [*argv, "hello"], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout == "queued message 2 to +447700900123 (1 part)\n"
    modules: list[str] = ast.literal_eval(done.stderr.strip().splitlines()[-1])
    assert {"cli.quicksend", "phonenumbers", "store.broadcast", "store.optouts"} <= set(modules)
    assert sorted(NOT_FOR_SEND & (set(modules) | _top(modules))) == []


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
