"""Quiet hours in the recipient's time zone.

A broadcast queued at 20:00 in London must not wake someone in Tokyo at 05:00. The zone comes
from the number (phonenumbers' time-zone data by prefix). When the number maps to several
zones with different clocks right now (the US, Australia, Russia...) or to none (unknown or
reserved ranges), the gateway's own zone is used: the operator set quiet hours for the place
they know. Zones that differ only in name (Europe/London and Europe/Jersey) count as one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from smsd import phonelib
from smsd.settings import BroadcastPolicy
from store.broadcast import quiet_release

__all__ = ["QuietHours", "gateway_zone", "recipient_zone"]


@lru_cache(maxsize=4096)
def _zone_names(phone: str) -> tuple[str, ...]:
    # Idle memory: phonenumbers and its time-zone tables (about 2 MB resident) load with the
    # first recipient whose zone is asked for, not when the daemon starts; and only the
    # parser and the zone tables of the package (`smsd.phonelib`).
    phonelib.prepare()
    import phonenumbers.timezone as phone_zones
    from phonenumbers import phonenumberutil

    try:
        parsed = phonenumberutil.parse(phone, None)
    except phonenumberutil.NumberParseException:
        return ()
    names = tuple(phone_zones.time_zones_for_number(parsed))
    return tuple(n for n in names if n != phone_zones.UNKNOWN_TIMEZONE)


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def gateway_zone(name: str | None) -> tzinfo:
    """The gateway's zone by IANA name; None: the machine's local zone (its current offset)."""
    if name:
        return ZoneInfo(name)
    return datetime.now().astimezone().tzinfo or UTC


def recipient_zone(phone: str, gateway_zone: tzinfo, at: datetime) -> tzinfo:
    """The recipient's time zone at `at`, or `gateway_zone` when the number does not tell."""
    zones = [z for z in (_zone(n) for n in _zone_names(phone)) if z is not None]
    if not zones:
        return gateway_zone
    offsets = {at.astimezone(z).utcoffset() for z in zones}
    return zones[0] if len(offsets) == 1 else gateway_zone


@dataclass(frozen=True)
class QuietHours:
    """Quiet hours (local start, end; may span midnight) applied per recipient."""

    hours: tuple[time, time] | None
    gateway_zone: tzinfo = UTC

    def release(self, phone: str, now: datetime) -> datetime | None:
        """When a message to `phone` may go (UTC), or None if it may go now."""
        if self.hours is None:
            return None
        return quiet_release(now, self.hours, recipient_zone(phone, self.gateway_zone, now))

    @classmethod
    def of(cls, policy: BroadcastPolicy) -> QuietHours:
        """The quiet hours of a broadcast policy, in its gateway zone."""
        return cls(policy.quiet_hours, gateway_zone(policy.time_zone))
