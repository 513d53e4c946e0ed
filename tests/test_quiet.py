"""Quiet hours in the recipient's zone, from the number; the gateway's zone when unclear."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from smsd.quiet import QuietHours, recipient_zone

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)  # 12:00 in London, 21:00 in Tokyo
TOKYO_MOBILE = "+819012345678"
AU_MOBILE = "+61412345678"  # a mobile: Australia-wide, several clocks
QUIET = QuietHours((time(20, 0), time(8, 0)), LONDON)


def test_zone_from_the_number() -> None:
    """A Japanese mobile is in Asia/Tokyo; an unknown number falls back to the gateway zone."""
    assert str(recipient_zone(TOKYO_MOBILE, LONDON, NOW)) == "Asia/Tokyo"
    assert recipient_zone("+447700900001", LONDON, NOW) is LONDON  # reserved range: no zone data


def test_country_with_several_clocks_uses_gateway_zone() -> None:
    """An Australian mobile could be in Perth or Sydney: the gateway's zone; +1 212 is New York."""
    assert recipient_zone(AU_MOBILE, LONDON, NOW) is LONDON
    assert str(recipient_zone("+12125551234", LONDON, NOW)) == "America/New_York"


def test_quiet_for_tokyo_not_for_london() -> None:
    """At 12:00 UTC it is 21:00 in Tokyo (quiet until 08:00 JST = 23:00 UTC), midday in London."""
    assert QUIET.release("+447700900001", NOW) is None
    assert QUIET.release(TOKYO_MOBILE, NOW) == datetime(2026, 1, 5, 23, 0, tzinfo=UTC)


def test_no_quiet_hours_means_now() -> None:
    """Without configured quiet hours nothing waits."""
    assert QuietHours(None, LONDON).release(TOKYO_MOBILE, NOW) is None
