"""The portal's deployment: its hardened unit, the `[web]` config, `smsd web` options."""

from __future__ import annotations

import dataclasses
import socket
import subprocess
import tomllib
import urllib.request
from pathlib import Path

import pytest
from unitkit import EXEC_START, exposure, needs_analyze, open_items, unit_settings, verifiable_copy

from smsd.config import WebConfig, load_config
from smsd.errors import ConfigError
from smsd.testing import smsd_command, wait_until
from smsd.web.server import parse_listen

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "systemd" / "smsd-web.service"
MAX_EXPOSURE = 2.0


@pytest.mark.systemd
@needs_analyze
def test_web_unit_exposure_is_at_most_two() -> None:
    """systemd-analyze security --offline scores smsd-web.service at most 2.0."""
    assert exposure(UNIT) <= MAX_EXPOSURE


@pytest.mark.systemd
@needs_analyze
def test_web_unit_leaves_only_the_network_open() -> None:
    """Only what serving HTTP needs is left open (IP sockets, no private network)."""
    unset = open_items(UNIT)
    assert unset == [
        "DeviceAllow=",
        "IPAddressDeny=",
        "PrivateNetwork=",
        "RestrictAddressFamilies=~AF_(INET|INET6)",
        "RestrictAddressFamilies=~AF_UNIX",
        "RootDirectory=/RootImage=",
    ]


@pytest.mark.systemd
@needs_analyze
def test_web_unit_verifies(tmp_path: Path) -> None:
    """systemd-analyze verify accepts the unit (ExecStart pointed at an existing binary)."""
    copy = verifiable_copy(UNIT, tmp_path)
    result = subprocess.run(
        ["systemd-analyze", "verify", str(copy)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert [line for line in result.stderr.splitlines() if "smsd-web" in line] == []


def test_web_unit_is_the_gateway_user_on_loopback_without_devices() -> None:
    """smsd user, no devices, IP only to localhost, the portal's command line."""
    unit = unit_settings(UNIT)
    assert unit["User"] == ["smsd"] and "SupplementaryGroups" not in unit
    assert unit["PrivateDevices"] == ["yes"] and unit["PrivateUsers"] == ["yes"]
    assert unit["IPAddressDeny"] == ["any"] and unit["IPAddressAllow"] == ["localhost"]
    assert unit["ExecStart"] == [f"{EXEC_START} web --config /etc/smsd/smsd.toml"]


def test_gateway_unit_keeps_private_network() -> None:
    """The gateway's own unit still has no network at all."""
    gateway = (ROOT / "systemd" / "smsd.service").read_text()
    assert "PrivateNetwork=yes" in gateway and "RestrictAddressFamilies=AF_UNIX" in gateway


def test_every_web_unit_setting_has_a_reason() -> None:
    """Each line in [Service] is under a comment explaining it."""
    lines = UNIT.read_text().splitlines()
    start = lines.index("[Service]")
    bare = []
    for index in range(start + 1, len(lines)):
        line = lines[index]
        if not line or line.startswith(("#", "[")) or "=" not in line:
            continue
        above = index - 1
        while above > start and "=" in lines[above] and not lines[above].startswith("#"):
            above -= 1
        if not lines[above].startswith("#"):
            bare.append(line)
    assert bare == []


def test_example_config_has_every_web_key() -> None:
    """systemd/smsd.toml.example documents every [web] key and it loads."""
    example = ROOT / "systemd" / "smsd.toml.example"
    web = tomllib.loads(example.read_text())["web"]
    assert set(web) == {f.name for f in dataclasses.fields(WebConfig)}
    assert load_config(example, env={}).web.proxy_headers is True


def test_web_config_is_validated_and_overridable() -> None:
    """[web] values are checked; SMSD_WEB_* overrides them."""
    config = load_config(None, env={"SMSD_WEB_APPROVE_BUSINESSES": "false",
                                    "SMSD_WEB_LISTEN": "0.0.0.0:9000"})  # fmt: skip
    assert config.web.approve_businesses is False and config.web.listen == "0.0.0.0:9000"
    with pytest.raises(ConfigError, match=r"web\.session_idle_minutes"):
        load_config(None, env={"SMSD_WEB_SESSION_IDLE_MINUTES": "0"})


@pytest.mark.parametrize(
    ("value", "expected"),
    [("127.0.0.1:8080", ("127.0.0.1", 8080)), ("[::1]:8443", ("::1", 8443))],
)
def test_listen_address_parses(value: str, expected: tuple[str, int]) -> None:
    """HOST:PORT and [v6]:PORT are accepted."""
    assert parse_listen(value) == expected


@pytest.mark.parametrize("value", ["8080", "localhost:", ":80", "host:99999", "host:http"])
def test_bad_listen_address_is_a_config_error(value: str) -> None:
    """Anything else names the key."""
    with pytest.raises(ConfigError, match=r"web\.listen"):
        parse_listen(value)


def test_smsd_web_with_two_workers_serves_the_configured_gateway(tmp_path: Path) -> None:
    """`smsd --config C web` with `[web] workers = 2`: each worker reads C and the database."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    config = tmp_path / "smsd.toml"
    config.write_text(
        f'[database]\npath = "{tmp_path / "web.db"}"\n[gateway]\nname = "Testgate"\n'
        f'[web]\nworkers = 2\nlisten = "127.0.0.1:{port}"\n'
    )

    def front_page() -> str:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as reply:
                return str(reply.read().decode())
        except OSError:
            return ""

    with open(tmp_path / "web.log", "wb") as log:
        proc = subprocess.Popen([*smsd_command(), "--config", str(config), "web"],
                                stdout=log, stderr=log, cwd=tmp_path)  # fmt: skip
    try:
        page = wait_until(front_page, 30, "smsd web with two workers")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert "<title>Welcome · Testgate</title>" in page
    assert (tmp_path / "web.db").exists()
