"""Monitoring thresholds (docs/monitoring.md), from ``ThresholdSettings``.

Defaults follow each source's cadence: X is refreshed every 5 minutes, Trends
hourly, Wikipedia pageviews daily (a day lands hours after it ends), the Kaggle exports weekly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from elex_assets.settings import ThresholdSettings


def _default(field: str) -> timedelta:
    return timedelta(minutes=ThresholdSettings.default(field))


@dataclass(frozen=True)
class Thresholds:
    """The thresholds as durations; defaults (and their reasons) are ``ThresholdSettings``'."""

    tweets_warn: timedelta = _default("tweets_warn_minutes")
    tweets_fail: timedelta = _default("tweets_fail_minutes")
    trends_warn: timedelta = _default("trends_warn_minutes")
    trends_fail: timedelta = _default("trends_fail_minutes")
    wiki_warn: timedelta = _default("wiki_warn_minutes")
    wiki_fail: timedelta = _default("wiki_fail_minutes")
    kaggle_deadline_cron: str = ThresholdSettings.default("kaggle_deadline_cron")
    # Weekly exports are built from Monday 00:00 on: 12 hours before the noon deadline.
    kaggle_window: timedelta = timedelta(hours=12)
    day_deadline: timedelta = _default("day_deadline_minutes")
    quiet_hours: float = ThresholdSettings.default("quiet_minutes") / 60

    def __post_init__(self) -> None:
        for name in ("tweets", "trends", "wiki"):
            warn, fail = getattr(self, f"{name}_warn"), getattr(self, f"{name}_fail")
            if warn >= fail:
                raise ValueError(f"{name}: warn threshold {warn} must be below fail {fail}")

    @classmethod
    def from_settings(cls, settings: ThresholdSettings) -> Thresholds:
        return cls(
            tweets_warn=timedelta(minutes=settings.tweets_warn_minutes),
            tweets_fail=timedelta(minutes=settings.tweets_fail_minutes),
            trends_warn=timedelta(minutes=settings.trends_warn_minutes),
            trends_fail=timedelta(minutes=settings.trends_fail_minutes),
            wiki_warn=timedelta(minutes=settings.wiki_warn_minutes),
            wiki_fail=timedelta(minutes=settings.wiki_fail_minutes),
            kaggle_deadline_cron=settings.kaggle_deadline_cron,
            day_deadline=timedelta(minutes=settings.day_deadline_minutes),
            quiet_hours=settings.quiet_minutes / 60,
        )

    @classmethod
    def from_env(cls) -> Thresholds:
        """The thresholds the environment sets (``ThresholdSettings``)."""
        return cls.from_settings(ThresholdSettings.load())
