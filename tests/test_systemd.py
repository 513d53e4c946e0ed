"""Tests for the deployment files under systemd/: unit, installer, example configuration."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from unitkit import EXEC_START, exposure, needs_analyze, open_items, unit_settings, verifiable_copy

from smsd.config import load_config

ROOT = Path(__file__).resolve().parent.parent
SYSTEMD = ROOT / "systemd"
UNIT = SYSTEMD / "smsd.service"
MAX_EXPOSURE = 1.0


@pytest.mark.systemd
@needs_analyze
def test_unit_verifies(tmp_path: Path) -> None:
    """systemd-analyze verify accepts the unit with no warning about it."""
    copy = verifiable_copy(UNIT, tmp_path)
    result = subprocess.run(
        ["systemd-analyze", "verify", str(copy)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    ours = [line for line in result.stderr.splitlines() if "smsd" in line]
    assert result.returncode == 0, result.stderr
    assert ours == []


@pytest.mark.systemd
@needs_analyze
def test_backoff_dropin_is_valid_where_supported(tmp_path: Path) -> None:
    """The back-off drop-in parses; systemd < 254 reports exactly its two keys as unknown."""
    copy = verifiable_copy(UNIT, tmp_path)
    dropin = tmp_path / "smsd.service.d"
    dropin.mkdir()
    shutil.copy(SYSTEMD / "smsd-backoff.conf", dropin / "10-backoff.conf")
    result = subprocess.run(
        ["systemd-analyze", "verify", str(copy)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    version = subprocess.run(
        ["systemd-analyze", "--version"], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r"systemd (\d+)", version)
    assert match is not None
    unknown = sorted(re.findall(r"Unknown key '(\w+)'", result.stderr))
    if int(match.group(1)) >= 254:
        assert unknown == []
    else:
        assert unknown == ["RestartMaxDelaySec", "RestartSteps"]


@pytest.mark.systemd
@needs_analyze
def test_security_exposure_is_low() -> None:
    """systemd-analyze security --offline scores the unit at most 1.0."""
    assert exposure(UNIT) <= MAX_EXPOSURE


@pytest.mark.systemd
@needs_analyze
def test_security_json_leaves_only_the_documented_items_open() -> None:
    """In the JSON report, only the items docs/DEPLOYING.md explains are left open."""
    unset = open_items(UNIT)
    assert unset == [
        "DeviceAllow=",
        "PrivateDevices=",
        "PrivateUsers=",
        "RestrictAddressFamilies=~AF_UNIX",
        "RootDirectory=/RootImage=",
        "SupplementaryGroups=",
    ]


def test_unit_keeps_the_modem_reachable() -> None:
    """The unit never hides the serial devices and grants only the two serial classes."""
    settings = unit_settings(UNIT)
    assert "PrivateDevices" not in settings
    assert "PrivateUsers" not in settings
    assert settings["DevicePolicy"] == ["closed"]
    assert settings["DeviceAllow"] == ["char-ttyUSB rw", "char-ttyACM rw"]
    assert settings["SupplementaryGroups"] == ["dialout"]
    assert settings["User"] == ["smsd"]
    assert settings["Type"] == ["notify"]
    assert settings["ExecStart"] == [f"{EXEC_START} run --config /etc/smsd/smsd.toml"]


def test_every_unit_setting_has_a_reason() -> None:
    """Each hardening or service line is preceded by a comment that explains it."""
    lines = UNIT.read_text().splitlines()
    start = lines.index("[Service]")
    uncommented = []
    for index in range(start + 1, len(lines)):
        line = lines[index]
        if not line or line.startswith(("#", "[")) or "=" not in line:
            continue
        above = index - 1
        while above > start and "=" in lines[above] and not lines[above].startswith("#"):
            above -= 1  # a group of related settings shares one comment
        if not lines[above].startswith("#"):
            uncommented.append(line)
    assert uncommented == []


def _colon_file(path: Path) -> dict[str, list[str]]:
    """An /etc/passwd-style file as {name: fields}."""
    rows = [line.split(":") for line in path.read_text().splitlines() if line]
    return {row[0]: row for row in rows}


@pytest.mark.systemd
@pytest.mark.skipif(
    shutil.which("systemd-sysusers") is None or shutil.which("systemd-tmpfiles") is None,
    reason="systemd-sysusers/systemd-tmpfiles are not installed",
)
@pytest.mark.skipif(os.geteuid() != 0, reason="tmpfiles needs root to chown inside --root")
def test_sysusers_and_tmpfiles_apply(tmp_path: Path) -> None:
    """sysusers creates smsd in dialout; tmpfiles then creates both directories as specified."""
    (tmp_path / "etc").mkdir()
    for tool, source in (
        ("systemd-sysusers", "smsd.sysusers"),
        ("systemd-tmpfiles", "smsd.tmpfiles"),
    ):
        args = [tool, f"--root={tmp_path}"]
        if tool == "systemd-tmpfiles":
            args.append("--create")
        done = subprocess.run(
            [*args, str(SYSTEMD / source)], capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, done.stderr
    users = _colon_file(tmp_path / "etc/passwd")
    groups = _colon_file(tmp_path / "etc/group")
    uid, gid = int(users["smsd"][2]), int(users["smsd"][3])
    assert users["smsd"][6] == "/usr/sbin/nologin"
    assert "smsd" in groups["dialout"][3].split(",")
    state = (tmp_path / "var/lib/smsd").stat()
    assert (stat.S_IMODE(state.st_mode), state.st_uid, state.st_gid) == (0o700, uid, gid)
    conf = (tmp_path / "etc/smsd").stat()
    assert (stat.S_IMODE(conf.st_mode), conf.st_uid, conf.st_gid) == (0o750, 0, gid)


def _run_install(destdir: Path, *, systemd_version: str) -> subprocess.CompletedProcess[str]:
    """Run install.sh into ``destdir`` without the venv step."""
    env = {
        **os.environ,
        "DESTDIR": str(destdir),
        "SMSD_INSTALL_SKIP_VENV": "1",
        "SMSD_SYSTEMD_VERSION": systemd_version,
    }
    return subprocess.run(
        ["sh", str(SYSTEMD / "install.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_install_lays_out_files(tmp_path: Path) -> None:
    """install.sh with DESTDIR places unit, sysusers, tmpfiles, config and examples."""
    result = _run_install(tmp_path, systemd_version="252")
    assert result.returncode == 0, result.stderr
    expected = {
        "etc/systemd/system/smsd.service": UNIT,
        "etc/sysusers.d/smsd.conf": SYSTEMD / "smsd.sysusers",
        "etc/tmpfiles.d/smsd.conf": SYSTEMD / "smsd.tmpfiles",
        "etc/modules-load.d/smsd.conf": SYSTEMD / "smsd-modules.conf",
        "etc/smsd/smsd.toml": SYSTEMD / "smsd.toml.example",
        "opt/smsd/share/99-smsd-modem.rules": SYSTEMD / "99-smsd-modem.rules",
        "opt/smsd/docs/DEPLOYING.md": ROOT / "docs" / "DEPLOYING.md",
    }
    for relative, source in expected.items():
        assert (tmp_path / relative).read_bytes() == source.read_bytes(), relative
    assert stat.S_IMODE((tmp_path / "etc/smsd/smsd.toml").stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "etc/smsd").stat().st_mode) == 0o750
    assert stat.S_IMODE((tmp_path / "var/lib/smsd").stat().st_mode) == 0o700
    assert not (tmp_path / "etc/systemd/system/smsd.service.d").exists()
    assert not (tmp_path / "opt/smsd/venv").exists()
    assert "systemctl enable --now smsd" in result.stdout


def test_install_is_idempotent_and_keeps_config(tmp_path: Path) -> None:
    """A second run succeeds and leaves an edited smsd.toml alone."""
    assert _run_install(tmp_path, systemd_version="252").returncode == 0
    config = tmp_path / "etc/smsd/smsd.toml"
    config.write_text('[database]\npath = "/var/lib/smsd/mine.db"\n')
    again = _run_install(tmp_path, systemd_version="252")
    assert again.returncode == 0, again.stderr
    assert "mine.db" in config.read_text()
    assert "keeping the existing" in again.stdout


def test_install_adds_backoff_only_on_new_systemd(tmp_path: Path) -> None:
    """The RestartSteps drop-in is installed for systemd >= 254 and removed on downgrade."""
    dropin = tmp_path / "etc/systemd/system/smsd.service.d/10-backoff.conf"
    assert _run_install(tmp_path, systemd_version="255").returncode == 0
    assert dropin.read_bytes() == (SYSTEMD / "smsd-backoff.conf").read_bytes()
    assert _run_install(tmp_path, systemd_version="252").returncode == 0
    assert not dropin.exists()


def test_install_is_posix_sh() -> None:
    """install.sh parses under a strict POSIX shell when one is available."""
    shell = shutil.which("dash") or shutil.which("sh")
    assert shell is not None
    result = subprocess.run(
        [shell, "-n", str(SYSTEMD / "install.sh")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_example_config_loads() -> None:
    """The example TOML loads through the real loader (texts and zones pass their checks)."""
    load_config(SYSTEMD / "smsd.toml.example", env={})


def test_example_config_comments_every_setting() -> None:
    """Each setting in the example has a comment line directly above it (or inline)."""
    lines = (SYSTEMD / "smsd.toml.example").read_text().splitlines()
    bare = [
        line
        for index, line in enumerate(lines)
        if "=" in line
        and not line.startswith("#")
        and not lines[index - 1].startswith("#")
        and "#" not in line
    ]
    assert bare == []


def test_udev_rule_example_is_well_formed() -> None:
    """Every rule line matches by vendor/product, names smsd-modem0 and keeps dialout 0660."""
    rules = [
        line.lstrip("#")
        for line in (SYSTEMD / "99-smsd-modem.rules").read_text().splitlines()
        if line.lstrip("#").startswith('SUBSYSTEM=="tty"')
    ]
    assert len(rules) == 4
    for rule in rules:
        assert re.search(r'ATTRS\{idVendor\}=="[0-9a-f]{4}"', rule)
        assert re.search(r'ATTRS\{idProduct\}=="[0-9a-f]{4}"', rule)
        assert 'SYMLINK+="smsd-modem0"' in rule
        assert rule.endswith('GROUP="dialout", MODE="0660"')
