"""UTC day windows and timestamps shared by the collectors (X search and counts, Bluesky).

A collector asks an API about one UTC day, but never about the last moments: posts
are searchable (and counted) only some time after they are made, so each source
stops a safety lag before now, in whole seconds.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

ONE_DAY = timedelta(days=1)


def day_start(day: date) -> datetime:
    """Midnight UTC opening ``day``."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def latest_askable(now: datetime, lag: timedelta) -> datetime:
    """``lag`` before ``now``, cut to the second: the newest instant a run asks about."""
    return (now - lag).replace(microsecond=0)


def day_window(day: date, now: datetime, lag: timedelta) -> tuple[datetime, datetime]:
    """[start, end) of ``day`` that can be asked ``now``: midnight to the day's end or
    :func:`latest_askable`, whichever comes first. Empty (``end <= start``) until the
    day has been under way for ``lag``."""
    start = day_start(day)
    return start, min(start + ONE_DAY, latest_askable(now, lag))


def parse_utc(value: str | None) -> datetime | None:
    """An ISO-8601 time (``Z`` or an offset; naive counts as UTC) in UTC; ``None`` when
    absent or unreadable (third-party records carry all sorts)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
