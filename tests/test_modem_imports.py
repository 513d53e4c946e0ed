"""What importing each room of modem/ loads: the driver stays free of the simulator and codec."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def loaded_after(module: str) -> set[str]:
    """The modules a fresh interpreter has loaded after ``import module``."""
    code = f"import sys, json, {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True, text=True)
    return set(json.loads(out.stdout))


def test_driver_loads_neither_simulator_nor_codec() -> None:
    """``modem.modem`` pulls in no ``modem.sim``, no ``modem.pdu`` and no PDU oracle."""
    loaded = loaded_after("modem.modem")
    assert "modem.modem" in loaded and "serial" in loaded
    assert not {m for m in loaded if m.startswith(("modem.sim", "modem.pdu", "gsmmodem"))}


@pytest.mark.parametrize("module", ["modem.settings", "modem.pdu"])
def test_leaf_rooms_load_no_pyserial(module: str) -> None:
    """The settings leaf and the codec import without pyserial or the driver."""
    loaded = loaded_after(module)
    assert module in loaded
    assert not {m for m in loaded if m == "serial" or m.startswith(("serial.", "modem.modem"))}


def test_codec_does_not_load_the_simulator() -> None:
    """``modem.pdu`` is below ``modem.sim``: importing its codec loads nothing of the simulator
    (the package face imports the codec on first use)."""
    loaded = loaded_after("modem.pdu.codec")
    assert "modem.pdu.codec" in loaded
    assert not {m for m in loaded if m.startswith("modem.sim")}
