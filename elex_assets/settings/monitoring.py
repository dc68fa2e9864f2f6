"""Alerts (SNS) and the thresholds of the content and freshness checks."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pydantic import ValidationInfo, field_validator

if TYPE_CHECKING:
    from elex_assets.core.alerts import AlertSettings

from elex_assets.settings.base import (
    EnvModel,
    _url,
    var,
)
from elex_assets.settings.core import AwsSettings


class AlertsSettings(EnvModel):
    """Where alerts go (README, "Monitoring"): an SNS topic or a phone number, else the log."""

    topic_arn: str | None = var("ELEX_ALERT_SNS_TOPIC_ARN", None)
    phone_number: str | None = var("ELEX_ALERT_PHONE_NUMBER", None)
    ui_url: str | None = var("ELEX_UI_URL", None)

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
    """Monitoring thresholds in minutes (README, "Monitoring"), and the Kaggle deadline.

    Defaults follow each source's cadence: X is refreshed every 5 minutes, Trends
    hourly, the Kaggle exports weekly.
    """

    tweets_warn_minutes: float = var("ELEX_FRESHNESS_TWEETS_WARN_MINUTES", 15.0)
    tweets_fail_minutes: float = var("ELEX_FRESHNESS_TWEETS_FAIL_MINUTES", 30.0)
    trends_warn_minutes: float = var("ELEX_FRESHNESS_TRENDS_WARN_MINUTES", 120.0)
    trends_fail_minutes: float = var("ELEX_FRESHNESS_TRENDS_FAIL_MINUTES", 240.0)
    # Wikipedia pageviews: a day is loaded by Wikimedia hours to a day after it ends (UTC);
    # the warn window is also when a day's partition is expected (partition_fresh).
    wiki_warn_minutes: float = var(
        "ELEX_FRESHNESS_WIKI_WARN_MINUTES", 2160.0,
        description="Pageviews: warn when nothing landed for this long; a day's partition is "
        "expected this long after the day ends (UTC); default 36 h")
    wiki_fail_minutes: float = var(
        "ELEX_FRESHNESS_WIKI_FAIL_MINUTES", 3600.0,
        description="Pageviews: fail when nothing landed for this long (default 60 h)")
    # Weekly exports: due every Monday by noon UTC.
    kaggle_deadline_cron: str = var("ELEX_FRESHNESS_KAGGLE_CRON", "0 12 * * 1")
    # Until this long after midnight UTC, yesterday's partition is the one judged.
    day_deadline_minutes: float = var("ELEX_DAY_DEADLINE_MINUTES", 60.0)
    # A campaign day may have no post for this long after midnight UTC.
    quiet_minutes: float = var("ELEX_QUIET_MINUTES", 360.0)

    @field_validator("*", mode="before")
    @classmethod
    def _minutes(cls, value: Any, info: ValidationInfo) -> Any:
        name, text = cls._raw(value, info)
        field = info.field_name or ""
        if text is None:
            return cls.default(field)
        if field == "kaggle_deadline_cron":
            return text
        try:
            minutes = float(text)
        except ValueError:
            raise ValueError(f"{name}={text!r} is not a number of minutes") from None
        if minutes <= 0:
            raise ValueError(f"{name}={text!r} must be a positive number of minutes")
        return minutes
