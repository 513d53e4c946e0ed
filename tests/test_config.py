"""Configuration loading: TOML, environment overrides, validation messages."""

from __future__ import annotations

import dataclasses
from datetime import time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from smsd.config import Config, WebhooksConfig, load_config, rules_from
from smsd.config_source import SECTION_NAMES, ConfigSource
from smsd.errors import ConfigError
from smsd.integrations.settings import delivery_settings, with_env

FULL = """
[database]
path = "/srv/smsd.db"
busy_timeout_ms = 2000

[[modems]]
url = "/dev/serial/by-id/usb-huawei-if00"
name = "huawei"
pin = "1234"
rtscts = false

[[modems]]
url = "socket://127.0.0.1:7000"
name = "remote"

[gateway]
name = "Textline"
contact = "help@example.org"
own_number = "+447700900000"
default_region = "gb"

[limits]
replies_per_hour = 5
quiet_hours = "21:00-08:00"

[outgoing]
max_attempts = 3
status_reports = false

[multipart]
timeout_minutes = 30

[billing]
price_per_request = "0.05"
currency = "eur"
"""


def write(tmp_path: Path, text: str) -> Path:
    """Write a config file and return its path."""
    path = tmp_path / "smsd.toml"
    path.write_text(text)
    return path


def test_full_file_loads(tmp_path: Path) -> None:
    """Every section is read and converted to the right types."""
    cfg = load_config(write(tmp_path, FULL), env={})
    assert cfg.database_path == Path("/srv/smsd.db")
    assert [m.name for m in cfg.modems] == ["huawei", "remote"]
    assert cfg.modems[0].pin == "1234"
    assert cfg.gateway.default_region == "GB"
    assert cfg.limits.quiet_hours == (time(21, 0), time(8, 0))
    assert cfg.billing.price_per_request == Decimal("0.05") and cfg.billing.currency == "EUR"
    assert cfg.partial_timeout == timedelta(minutes=30)
    assert cfg.outgoing.status_reports is False


def test_defaults_without_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no file at the default path the defaults apply."""
    monkeypatch.setattr("smsd.config.DEFAULT_CONFIG_PATH", tmp_path / "absent.toml")
    cfg = load_config(env={})
    assert cfg == Config()
    assert cfg.database.path == Path("/var/lib/smsd/smsd.db")
    assert cfg.limits.replies_per_hour == 10 and cfg.multipart.timeout_minutes == 60


def test_env_overrides(tmp_path: Path) -> None:
    """SMSD_DB, SMSD_DEFAULT_REGION and SMSD_<SECTION>_<KEY> override the file."""
    env = {
        "SMSD_DB": "/tmp/other.db",
        "SMSD_DEFAULT_REGION": "fr",
        "SMSD_LIMITS_REPLIES_PER_HOUR": "7",
        "SMSD_OUTGOING_STATUS_REPORTS": "yes",
        "SMSD_LOG_LEVEL": "debug",
    }
    cfg = load_config(write(tmp_path, FULL), env=env)
    assert cfg.database.path == Path("/tmp/other.db")
    assert cfg.gateway.default_region == "FR"
    assert cfg.limits.replies_per_hour == 7
    assert cfg.outgoing.status_reports is True
    assert cfg.log_level == "debug"


def test_smsd_config_env_names_the_file(tmp_path: Path) -> None:
    """SMSD_CONFIG points at the file when no path is given."""
    path = write(tmp_path, FULL)
    assert load_config(env={"SMSD_CONFIG": str(path)}).gateway.name == "Textline"


@pytest.mark.parametrize(
    ("text", "env", "key"),
    [
        ("[limits]\nreplies_per_hour = -1\n", {}, "limits.replies_per_hour"),
        ("[limits]\nquiet_hours = '9pm'\n", {}, "limits.quiet_hours"),
        ("[gateway]\ndefault_region = 'Britain'\n", {}, "gateway.default_region"),
        ("[gateway]\nnmae = 'x'\n", {}, "gateway.nmae"),
        ("[billing]\nprice_per_request = 'free'\n", {}, "billing.price_per_request"),
        ("[outgoing]\nstatus_reports = 'maybe'\n", {}, "outgoing.status_reports"),
        ("[[modems]]\nname = 'a'\nbaudrate = 0\nurl = 'x'\n", {}, "modems[0].baudrate"),
        ("[database]\n", {"SMSD_LIMITS_LOOP_THRESHOLD": "x"}, "limits.loop_threshold"),
        ("[nonsense]\n", {}, "nonsense"),
    ],
)
def test_invalid_values_name_the_key(
    tmp_path: Path, text: str, env: dict[str, str], key: str
) -> None:
    """A bad value raises ConfigError whose message starts with the key."""
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), env=env)
    assert str(info.value).startswith(key)


def test_missing_explicit_file_and_bad_toml(tmp_path: Path) -> None:
    """A named file that is missing or not TOML is a ConfigError naming the file."""
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "absent.toml", env={})
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(write(tmp_path, "[limits\n"), env={})


def test_duplicate_modem_names_rejected(tmp_path: Path) -> None:
    """Two modems with the same name are refused."""
    text = "[[modems]]\nurl = 'a'\n[[modems]]\nurl = 'b'\n"
    with pytest.raises(ConfigError, match="distinct name"):
        load_config(write(tmp_path, text), env={})


def test_rules_from_config(tmp_path: Path) -> None:
    """The router's rules carry the gateway and limit settings."""
    rules = rules_from(load_config(write(tmp_path, FULL), env={}))
    assert rules.gateway_name == "Textline" and rules.contact == "help@example.org"
    assert rules.replies_per_hour == 5 and rules.own_number == "+447700900000"
    assert rules.loop_window == timedelta(minutes=10)
    assert "Msg & data rates may apply" in rules.help_text


def test_modem_timeouts_reach_modem_settings(tmp_path: Path) -> None:
    """[[modems]] command/send/prompt timeouts flow into ModemSettings."""
    path = tmp_path / "smsd.toml"
    path.write_text(
        '[[modems]]\nurl = "/dev/ttyUSB0"\ncommand_timeout = 2.5\nsend_timeout = 30\n'
        "prompt_timeout = 4\n"
    )
    (settings,) = load_config(path, env={}).modem_settings()
    assert (settings.command_timeout, settings.send_timeout, settings.prompt_timeout) == (
        2.5,
        30.0,
        4.0,
    )


def test_negative_timeout_is_refused(tmp_path: Path) -> None:
    """A negative timeout is a ConfigError naming the key."""
    path = tmp_path / "smsd.toml"
    path.write_text('[[modems]]\nurl = "/dev/ttyUSB0"\ncommand_timeout = -1\n')
    with pytest.raises(ConfigError, match="command_timeout"):
        load_config(path, env={})


def test_one_section_reads_as_the_whole_config_does(tmp_path: Path) -> None:
    """`ConfigSource` builds a section exactly as `load_config` does, overrides included."""
    env = {"SMSD_DEFAULT_REGION": "fr", "SMSD_OUTGOING_MAX_PARTS": "3", "SMSD_DB": "/tmp/o.db"}
    whole = load_config(write(tmp_path, FULL), env=env)
    path = write(tmp_path, FULL + '\n[web]\nworkers = "x"\n')  # broken elsewhere: not read
    source = ConfigSource.read(path, env)
    assert source.gateway() == whole.gateway and source.gateway().default_region == "FR"
    assert source.outgoing() == whole.outgoing and source.outgoing().max_parts == 3
    assert source.database() == whole.database and source.database().target == "/tmp/o.db"
    with pytest.raises(ConfigError, match=r"web\.workers"):
        load_config(path, env=env)  # the whole configuration checks every section


def test_every_section_is_known_to_the_source(tmp_path: Path) -> None:
    """The section names a one-section reader accepts are exactly the `Config` fields."""
    assert set(SECTION_NAMES) == {f.name for f in dataclasses.fields(Config)} - {"modems"}
    with pytest.raises(ConfigError, match="nonsense: unknown section"):
        ConfigSource.read(write(tmp_path, "[nonsense]\n"), {})


def test_webhooks_section_with_env_overrides(tmp_path: Path) -> None:
    """[webhooks] sets webhook delivery; SMSD_WEBHOOKS_* still overrides it; zero is refused."""
    path = write(tmp_path, "[webhooks]\nretry_base_s = 2\nconcurrency = 8\npoll_s = 0.5\n")
    config = load_config(path, env={"SMSD_WEBHOOKS_POLL_S": "0.1"})
    assert config.webhooks == WebhooksConfig(retry_base_s=2.0, concurrency=8, poll_s=0.1)
    settings = delivery_settings(config)
    assert (settings.retry_base_s, settings.concurrency, settings.poll_s) == (2.0, 8, 0.1)
    assert settings.max_age_h == 24.0 and settings.lease_s == 15.0
    later = with_env(settings, {"SMSD_WEBHOOKS_CONCURRENCY": "3"})  # as `smsd web` applies it
    assert later.concurrency == 3 and later.retry_base_s == 2.0
    with pytest.raises(ConfigError, match=r"webhooks.lease_s: expected a number > 0"):
        load_config(write(tmp_path, "[webhooks]\nlease_s = 0\n"), env={})
    with pytest.raises(ConfigError, match=r"webhooks.retries: unknown key"):
        load_config(write(tmp_path, "[webhooks]\nretries = 3\n"), env={})


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("", True),  # 600 s against the default 90 s
        ("[outgoing]\nclaim_timeout_s = 90\n", False),
        ("[outgoing]\nclaim_timeout_s = 3\n[[modems]]\nurl = 'x'\nsend_timeout = 2\n", True),
        (
            "[outgoing]\nclaim_timeout_s = 60\n[[modems]]\nurl = 'x'\nsend_timeout = 30\n"
            "[[modems]]\nurl = 'y'\nname = 'b'\nsend_timeout = 61\n",
            False,
        ),
    ],
)
def test_claim_timeout_must_outlast_every_modems_send_timeout(
    tmp_path: Path, text: str, ok: bool
) -> None:
    """A claim shorter than one part's longest wait is refused, naming both settings."""
    path = tmp_path / "smsd.toml"
    path.write_text(text)
    if ok:
        assert load_config(path, env={}).outgoing.claim_timeout_s > 0
    else:
        with pytest.raises(ConfigError, match=r"claim_timeout_s: .* send_timeout"):
            load_config(path, env={})
