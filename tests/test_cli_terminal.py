"""Hostile stored text never drives the operator's terminal: inbox, user show, sim sent."""

from __future__ import annotations

import io
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import structlog
from click.testing import CliRunner

from cli.main import cli
from cli.render import cell, safe, stamp, width
from modem.modem import Modem
from modem.pdu import encode_submit
from modem.settings import ModemSettings
from modem.sim import SimModem
from store import OptinDraft, Plan, RequestDraft, Store

T0 = datetime(2026, 10, 5, 9, 30, tzinfo=UTC)
PHONE = "+447700900123"
# Retitle the window, clear the screen, go red, then fake a table row on a new line.
HOSTILE = (
    "hi\x1b]0;pwned\x07\x1b[2J\x1b[31m\r\n99  2026-01-01  +440000  done  FAKE\u202egnp.exe\x9b1m"
)
FORBIDDEN = ("\x1b", "\x07", "\r", "\x9b", "\u202e")


def _clean(output: str, lines: int | None = None) -> None:
    for ch in FORBIDDEN:
        assert ch not in output, repr(ch)
    assert "FAKE" in output  # the text is shown, made harmless, not dropped
    assert not any(line.startswith("99 ") for line in output.splitlines())  # no faked row


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A database where PHONE texted HOSTILE and became a person; the business is hostile too."""
    path = tmp_path / "smsd.db"
    with Store.open(path) as store:
        biz = store.directory.add_business("Pizza\x1b[2J Place", now=T0)
        code = store.directory.add_code(biz.id, "PIZZA", "2-for-1", now=T0)
        incoming = store.inbox.record_incoming(
            sender=PHONE, sender_type="international", text=HOSTILE, received_at=T0,
            scts=T0, raw_pdu="07914477", concat=None,
        )  # fmt: skip
        assert incoming is not None
        plan = Plan(
            create_person=True,
            requests=(RequestDraft(code.id, biz.id),),
            optins=(OptinDraft("in", biz.id, "PIZZA"),),
        )
        store.routing.apply(incoming, plan, T0)
    return path


def test_inbox_table_shows_hostile_text_escaped(db: Path) -> None:
    """`smsd inbox` prints the SMS with ESC/BEL/CR/LF/C1/bidi made visible, one row per message."""
    result = CliRunner().invoke(cli, ["--db", str(db), "inbox"])
    assert result.exit_code == 0, result.output
    _clean(result.output)
    assert len(result.output.splitlines()) == 3  # header, rule, one message
    assert "\\x1b]0;pwned\\x07" in result.output


def test_inbox_json_escapes_c1_and_keeps_the_text(db: Path) -> None:
    """`smsd inbox --json` round-trips the exact text but puts no raw control on the terminal."""
    result = CliRunner().invoke(cli, ["--db", str(db), "inbox", "--json"])
    assert result.exit_code == 0, result.output
    for ch in FORBIDDEN:
        assert ch not in result.output
    assert json.loads(result.output)[0]["text"] == HOSTILE


def test_user_show_all_escapes_texts_and_names(db: Path) -> None:
    """`smsd user show --all` shows the person's texts and business names harmlessly."""
    result = CliRunner().invoke(cli, ["--db", str(db), "user", "show", PHONE, "--all"])
    assert result.exit_code == 0, result.output
    _clean(result.output)
    assert "Pizza\\x1b[2J Place" in result.output


def test_sim_sent_escapes_what_was_sent(tmp_path: Path) -> None:
    """`smsd sim sent` shows a hostile outgoing text without its controls."""
    sim = SimModem("generic", noise=False, link=str(tmp_path / "sim0"))
    sim.start()
    try:
        modem = Modem(ModemSettings(url=str(tmp_path / "sim0"), command_timeout=5.0))
        modem.open()
        try:
            modem.initialise()
            for pdu in encode_submit(PHONE, HOSTILE):
                modem.send_pdu(pdu)
        finally:
            modem.close()
        result = CliRunner().invoke(cli, ["sim", "sent", "--link", str(tmp_path / "sim0")])
    finally:
        sim.stop()
    assert result.exit_code == 0, result.output
    _clean(result.output)
    assert len(result.output.splitlines()) == 3


def test_safe_makes_every_control_visible() -> None:
    """Every C0, DEL, C1 and bidi override comes out as a printable escape."""
    hostile = "".join(chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)]) + "\u202e\u2066\u200f"
    shown = safe(hostile)
    assert shown.isprintable()
    assert shown.count("\\") == len(hostile)
    assert safe("Café 🍕 ok") == "Café 🍕 ok"


def test_width_counts_wide_characters_and_tables_align() -> None:
    """Wide characters and emoji take two columns, so the next column starts at the same place."""
    assert width("ab") == 2
    assert width("寿司") == 4
    assert width("🍕") == 2
    assert width("e\u0301") == 1
    from cli.output import echo_table

    rows = [{"name": "寿司", "n": 1}, {"name": "pizza", "n": 2}, {"name": "🍕🍕", "n": 3}]
    runner = CliRunner()
    result = runner.invoke(_table_command(echo_table, rows), [])
    lines = result.output.splitlines()
    columns = {
        width(line[: line.rindex(str(n))]) for line, n in zip(lines[2:], (1, 2, 3), strict=True)
    }
    assert len(columns) == 1


def _table_command(echo_table, rows):  # type: ignore[no-untyped-def]
    import click

    @click.command()
    def show() -> None:
        echo_table(rows, ["name", "n"])

    return show


def test_tables_show_one_timestamp_format_in_the_local_zone() -> None:
    """Datetimes and stored ISO strings both show as ISO 8601 with the local offset."""
    local = T0.astimezone().isoformat(timespec="seconds")
    assert stamp(T0) == local
    assert cell(T0) == local
    assert cell("2026-10-05T09:30:00.000000+00:00") == local
    assert cell("PIZZA") == "PIZZA"


class _Tty(io.StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("no_color", ["1", ""])
def test_no_color_turns_colour_off_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, no_color: str
) -> None:
    """On a terminal the console log is coloured, and plain when NO_COLOR is set."""
    from smsd.logs import configure_logging

    fake = _Tty()
    monkeypatch.setattr(sys, "stderr", fake)
    monkeypatch.setenv("NO_COLOR", no_color)
    monkeypatch.delenv("SMSD_LOG_FORMAT", raising=False)
    configure_logging("info")
    try:
        structlog.get_logger().warning("modem_lost", name="modem0")
    finally:
        configure_logging("warning", "json")
    assert "modem_lost" in fake.getvalue()
    assert ("\x1b[" in fake.getvalue()) is (no_color == "")
