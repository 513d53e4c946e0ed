"""Dialect profiles of the simulated modem: how each family of real modems talks.

A :class:`Profile` is pure data. :mod:`modem.sim` reads it to decide what to say at boot,
how to echo, what the ``AT+CMGS`` prompt looks like, how slow sending is, which vendor
commands are harmless and how much unsolicited noise to mix into the conversation.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PROFILES", "Profile", "get_profile"]


@dataclass(frozen=True)
class Profile:
    """How one family of modems behaves on the serial line."""

    name: str
    manufacturer: str
    model: str
    revision: str
    boot_lines: tuple[str, ...]  # emitted after power-up / reboot / replug
    boot_delay: float = 0.0  # seconds between power-up and the boot lines; input is ignored
    prompt: bytes = b"\r\n> "  # what AT+CMGS=<len> answers, with no line end after it
    echo_line_end: bytes = b""  # Telit-style quirk: extra bytes echoed after the command's CR
    unsupported: str | None = None  # final result for unknown commands instead of ERROR
    vendor_prefixes: tuple[str, ...] = ()  # AT<prefix>... answered with plain OK
    storage_size: int = 20
    cmgs_delay: float = 0.0
    index_base: int = 1  # first SM index (Huawei sticks count from 0)
    default_cnmi: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)
    noise_lines: tuple[str, ...] = ()  # unsolicited vendor lines sent at random moments
    noise_interval: float = 0.0  # mean seconds between idle noise lines (0 = none)
    noise_mid_reply: float = 0.0  # chance that a reply carries a noise line before its final
    urc_mid_reply: float = 0.0  # chance that a new URC is held and injected into the next reply
    # What AT+CNMI=? offers: <ds> 1 means +CDS straight to the terminal (acknowledged with
    # AT+CNMA); a modem without it stores reports and says +CDSI.
    cnmi_test: str = "(0-2),(0-3),(0,2),(0-2),(0,1)"
    report_memory: int = 0  # slots of a separate status-report memory "SR" (0: none)
    ussd_style: str = "text"  # "gsm7hex": USSD request and answer as packed GSM-7 in hex
    iccid_command: str = "AT+CCID"  # AT^ICCID? on Huawei, AT+QCCID on Quectel


GENERIC = Profile(
    name="generic",
    manufacturer="smsactive",
    model="SIM-GSM",
    revision="1.0",
    boot_lines=(),  # says nothing at boot: only the idle liveness check notices a reboot
)

HUAWEI = Profile(
    name="huawei",
    manufacturer="huawei",
    model="E3372",
    revision="22.200.15.00.00",
    boot_lines=("^SYSSTART", "^BOOT:12345678,0,0,0,75", "^RSSI:18", "^MODE:5,4"),
    unsupported="COMMAND NOT SUPPORT",
    vendor_prefixes=("^",),
    index_base=0,
    default_cnmi=(0, 0, 0, 0, 0),
    noise_lines=("^RSSI:17", "^RSSI:19", "^MODE:5,4", "^BOOT:12345678,0,0,0,75", "^SRVST:2"),
    noise_interval=2.0,
    noise_mid_reply=0.2,
    urc_mid_reply=0.3,
    cnmi_test="(0-2),(0-3),(0,2),(0,2),(0,1)",  # E173/E3372: reports stored, never +CDS
    report_memory=20,
    ussd_style="gsm7hex",
    iccid_command="AT^ICCID?",
)

SIMCOM = Profile(
    name="simcom",
    manufacturer="SIMCOM_Ltd",
    model="SIMCOM_SIM800",
    revision="1418B04SIM800L24",
    boot_lines=("RDY", "+CFUN: 1", "+CPIN: READY", "Call Ready", "SMS Ready"),
    boot_delay=0.02,
    vendor_prefixes=("+CLTS", "+CSCLK", "+CIURC", "+CFGRI"),
    storage_size=30,
    default_cnmi=(2, 1, 0, 0, 0),
    urc_mid_reply=0.2,
)

QUECTEL = Profile(
    name="quectel",
    manufacturer="Quectel",
    model="EC25",
    revision="EC25EFAR06A06M4G",
    boot_lines=("RDY", "+CFUN: 1", "+CPIN: READY", "+QUSIM: 1", "+QIND: SMS DONE"),
    boot_delay=0.02,
    vendor_prefixes=("+Q",),
    storage_size=50,
    default_cnmi=(2, 1, 0, 0, 0),
    noise_lines=('+QIND: "csq",21,99',),
    iccid_command="AT+QCCID",
    noise_mid_reply=0.1,
    urc_mid_reply=0.2,
)

TELIT = Profile(
    name="telit",
    manufacturer="Telit",
    model="LE910C1-EU",
    revision="25.30.226",
    boot_lines=("#QSS: 1", "+CPIN: READY"),
    cnmi_test="(0-2),(0-3),(0,2),(0,2),(0,1)",  # reports stored in SM with +CDSI: "SM",n
    prompt=b"\r\n>",
    echo_line_end=b"\n",
    vendor_prefixes=("#",),
    cmgs_delay=0.15,
    default_cnmi=(0, 0, 0, 0, 0),
    urc_mid_reply=0.2,
)

PROFILES: dict[str, Profile] = {p.name: p for p in (GENERIC, HUAWEI, SIMCOM, QUECTEL, TELIT)}


def get_profile(name: str) -> Profile:
    """Return the named profile; ``ValueError`` names the known ones if it does not exist."""
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(sorted(PROFILES))
        raise ValueError(f"unknown modem profile {name!r} (known: {known})") from None
