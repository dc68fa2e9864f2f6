"""Monitoring thresholds, read from the environment (README, "Monitoring").

Defaults follow each source's cadence: X is refreshed every 5 minutes, Trends
hourly, the Kaggle exports weekly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta


def _minutes(name: str, default: float) -> timedelta:
    raw = (os.environ.get(name) or "").strip()
    if not raw:
        return timedelta(minutes=default)
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a number of minutes") from None
    if value <= 0:
        raise ValueError(f"{name}={raw!r} must be a positive number of minutes")
    return timedelta(minutes=value)


@dataclass(frozen=True)
class Thresholds:
    tweets_warn: timedelta = timedelta(minutes=15)
    tweets_fail: timedelta = timedelta(minutes=30)
    trends_warn: timedelta = timedelta(hours=2)
    trends_fail: timedelta = timedelta(hours=4)
    # Weekly exports: due every Monday by noon UTC, built from Monday 00:00 on.
    kaggle_deadline_cron: str = "0 12 * * 1"
    kaggle_window: timedelta = timedelta(hours=12)
    # Until this long after midnight UTC, yesterday's partition is the one judged.
    day_deadline: timedelta = timedelta(hours=1)
    # A campaign day may have no post for this long after midnight UTC.
    quiet_hours: float = 6.0

    def __post_init__(self) -> None:
        for name in ("tweets", "trends"):
            warn, fail = getattr(self, f"{name}_warn"), getattr(self, f"{name}_fail")
            if warn >= fail:
                raise ValueError(f"{name}: warn threshold {warn} must be below fail {fail}")

    @classmethod
    def from_env(cls) -> Thresholds:
        default = cls()
        cron = (os.environ.get("ELEX_FRESHNESS_KAGGLE_CRON") or "").strip()
        quiet = _minutes("ELEX_QUIET_MINUTES", default.quiet_hours * 60)
        return cls(
            tweets_warn=_minutes("ELEX_FRESHNESS_TWEETS_WARN_MINUTES", 15),
            tweets_fail=_minutes("ELEX_FRESHNESS_TWEETS_FAIL_MINUTES", 30),
            trends_warn=_minutes("ELEX_FRESHNESS_TRENDS_WARN_MINUTES", 120),
            trends_fail=_minutes("ELEX_FRESHNESS_TRENDS_FAIL_MINUTES", 240),
            kaggle_deadline_cron=cron or default.kaggle_deadline_cron,
            day_deadline=_minutes("ELEX_DAY_DEADLINE_MINUTES", 60),
            quiet_hours=quiet.total_seconds() / 3600,
        )
