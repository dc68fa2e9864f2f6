"""Alerts (SNS) and the thresholds of the content and freshness checks."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import ValidationInfo, field_validator
from pydantic import model_validator as _model_validator

if TYPE_CHECKING:
    from elex_assets.core.alerts import AlertSettings

from elex_assets.settings.base import (
    EnvModel,
    _url,
    var,
)
from elex_assets.settings.core import AwsSettings


class AlertsSettings(EnvModel):
    """Where alerts go (docs/monitoring.md): an SNS topic or a phone number, else the log."""

    topic_arn: str | None = var("ELEX_ALERT_SNS_TOPIC_ARN", None,
        description="SNS topic that receives alerts (subscribe e-mail, SMS, SQS… to it).",
        shown="unset: alerts go to the log and the UI only")
    phone_number: str | None = var("ELEX_ALERT_PHONE_NUMBER", None,
        description="Phone number (E.164, `+33…`) texted directly through SNS, like the original Lambda; used when no topic is set.",
        shown="unset")
    ui_url: str | None = var("ELEX_UI_URL", None,
        description="Base URL of the Dagster UI, for the link in each alert.",
        shown="unset: no link")

    @field_validator("*", mode="before")
    @classmethod
    def _text(cls, value: Any, info: ValidationInfo) -> str | None:
        name, text = cls._raw(value, info)
        if text is None:
            return None
        if name == "ELEX_ALERT_PHONE_NUMBER" and not re.fullmatch(r"\+[1-9]\d{6,14}", text):
            # The message leaves the number out: it is personal.
            raise ValueError("ELEX_ALERT_PHONE_NUMBER: expected an E.164 number (+33612345678)")
        if name == "ELEX_ALERT_SNS_TOPIC_ARN" and not text.startswith("arn:"):
            raise ValueError(f"{name}={text!r}: expected an SNS topic ARN (arn:...)")
        if name == "ELEX_UI_URL":
            _url(name, text)
        return text

    def alert_settings(self, region: str | None) -> AlertSettings:
        from elex_assets.core.alerts import AlertSettings

        return AlertSettings(topic_arn=self.topic_arn, phone_number=self.phone_number,
                             ui_url=self.ui_url, region=region)


def alert_settings() -> AlertSettings:
    """The alert channel as the environment sets it (read at every sensor tick)."""
    return AlertsSettings.load().alert_settings(AwsSettings.load().region)


class ThresholdSettings(EnvModel):
    """Monitoring thresholds in minutes (docs/monitoring.md), and the Kaggle deadline.

    Defaults follow each source's cadence: X is refreshed every 5 minutes, Trends
    hourly, the Kaggle exports weekly.
    """

    tweets_warn_minutes: float = var("ELEX_FRESHNESS_TWEETS_WARN_MINUTES", 15.0,
        description="Freshness of `raw_tweets` and `tweets` (and Bluesky's): warn after this many minutes without a materialisation.")
    tweets_fail_minutes: float = var("ELEX_FRESHNESS_TWEETS_FAIL_MINUTES", 30.0,
        description="Freshness of `raw_tweets` and `tweets` (and Bluesky's): fail after this many minutes.")
    trends_warn_minutes: float = var("ELEX_FRESHNESS_TRENDS_WARN_MINUTES", 120.0,
        description="Freshness of the `trends_*` assets: warn after this many minutes.")
    trends_fail_minutes: float = var("ELEX_FRESHNESS_TRENDS_FAIL_MINUTES", 240.0,
        description="Freshness of the `trends_*` assets: fail after this many minutes.")
    # Wikipedia pageviews: a day is loaded by Wikimedia hours to a day after it ends (UTC);
    # the warn window is also when a day's partition is expected (partition_fresh).
    wiki_warn_minutes: float = var(
        "ELEX_FRESHNESS_WIKI_WARN_MINUTES", 2160.0,
        description="Freshness of `wiki_pageviews`: warn after this many minutes without a "
        "materialisation; a day's partition is due this long after the day ends (UTC).",
        shown="2160 (36 h)")
    wiki_fail_minutes: float = var(
        "ELEX_FRESHNESS_WIKI_FAIL_MINUTES", 3600.0,
        description="Freshness of `wiki_pageviews`: fail after this many minutes.",
        shown="3600 (60 h)")
    # Weekly exports: due every Monday by noon UTC.
    kaggle_deadline_cron: str = var("ELEX_FRESHNESS_KAGGLE_CRON", "0 12 * * 1",
        description="Deadline of the weekly `kaggle_*` exports (cron, UTC; due within the 12 h before it).",
        shown="`0 12 * * 1` (Monday noon)")
    # Until this long after midnight UTC, yesterday's partition is the one judged.
    day_deadline_minutes: float = var("ELEX_DAY_DEADLINE_MINUTES", 60.0,
        description="Until this long after midnight UTC, yesterday's partition is the one that must be fresh.")
    # A campaign day may have no post for this long after midnight UTC.
    quiet_minutes: float = var("ELEX_QUIET_MINUTES", 360.0,
        description="A campaign day may have no post for this long after midnight UTC.")

    # Both count from midnight UTC: beyond a day, yesterday would be judged all day long.
    WITHIN_A_DAY: ClassVar[tuple[str, ...]] = ("day_deadline_minutes", "quiet_minutes")

    @field_validator("*", mode="before")
    @classmethod
    def _minutes(cls, value: Any, info: ValidationInfo) -> Any:
        name, text = cls._raw(value, info)
        field = info.field_name or ""
        if text is None:
            return cls.default(field)
        if field == "kaggle_deadline_cron":
            return _cron(name, text)
        try:
            minutes = float(text)
        except ValueError:
            raise ValueError(f"{name}={text!r} is not a number of minutes") from None
        if minutes <= 0 or minutes != minutes or minutes == float("inf"):
            raise ValueError(f"{name}={text!r} must be a positive number of minutes")
        if field in cls.WITHIN_A_DAY and minutes > 1440:
            raise ValueError(f"{name}={text!r}: expected at most 1440 minutes (one day after "
                             "midnight UTC)")
        return minutes

    @_model_validator(mode="after")
    def _warn_before_fail(self) -> ThresholdSettings:
        for source in ("tweets", "trends"):
            warn = getattr(self, f"{source}_warn_minutes")
            fail = getattr(self, f"{source}_fail_minutes")
            if warn >= fail:
                up = source.upper()
                raise ValueError(
                    f"ELEX_FRESHNESS_{up}_WARN_MINUTES={warn:g} must be below "
                    f"ELEX_FRESHNESS_{up}_FAIL_MINUTES={fail:g} (the warn threshold comes "
                    "before the failure)")
        return self


def _cron(name: str, text: str) -> str:
    """A cron string Dagster's schedules and freshness policies accept (parsed at load)."""
    from elex_assets.dagster_private import is_valid_cron_string

    if not is_valid_cron_string(text):
        raise ValueError(
            f"{name}={text!r}: expected a cron string of 5 fields, e.g. '0 12 * * 1' "
            "(Mondays at noon UTC)")
    return text
