"""Google Trends: backend, base URL, anchors, politeness and cool-down."""

from __future__ import annotations

import os
from typing import Annotated, Any, ClassVar

from pydantic import ValidationInfo, field_validator
from pydantic import model_validator as _model_validator

from elex_assets.core.trends.client import DEFAULT_BASE_URL as TRENDS_DEFAULT_BASE_URL
from elex_assets.core.trends.client import TRENDS_RETRY
from elex_assets.settings.base import (
    Range,
    _Numbers,
    var,
)

TRENDS_BACKENDS = ("web", "official")


class TrendsSettings(_Numbers):
    """Google Trends: where to send requests and how politely (docs/sources/google-trends.md).

    Field names are ``TrendsResource``'s: ``resource_fields()`` hands them over.
    """

    _range_message: ClassVar[str] = "trends"

    base_url: str = var("TRENDS_BASE_URL", TRENDS_DEFAULT_BASE_URL,
        description="Google Trends host (the sandbox's URL offline).")
    min_interval_seconds: Annotated[float, Range(0)] = var("TRENDS_MIN_INTERVAL_SECONDS", 5.0,
        description="Minimum time between two Trends requests, across processes.")
    anchor: str = var("TRENDS_ANCHOR", "Emmanuel Macron",
        description="Anchor term asked in every batch, the unit of `value_comparable`.")
    max_attempts: Annotated[int, Range(1, 100, True)] = var("TRENDS_MAX_ATTEMPTS", TRENDS_RETRY.max_attempts,
        description="Attempts per request on 5xx / network errors before the step fails (a 429 or captcha is never retried: it starts the cool-down).")
    backoff_max_seconds: Annotated[float, Range(0)] = var("TRENDS_BACKOFF_MAX_SECONDS", TRENDS_RETRY.backoff_max,
        description="Cap of the exponential backoff (with jitter) between attempts.")
    timeout_seconds: Annotated[float, Range(0.1)] = var("TRENDS_TIMEOUT_SECONDS", 30.0,
        description="HTTP timeout of one Trends request.")
    cooldown_minutes: Annotated[float, Range(1)] = var("TRENDS_COOLDOWN_MINUTES", 15.0,
        description="Cool-down after Google's first refusal (429 / captcha), doubling (with jitter) on each refusal in a row; kept in the lake (`state/trends_cooldown.json`).")
    cooldown_max_minutes: Annotated[float, Range(1)] = var("TRENDS_COOLDOWN_MAX_MINUTES", 360.0,
        description="Longest cool-down the doubling reaches.")
    backend: str = var("TRENDS_BACKEND", "web",
        description="`web` (trends.google.com through pytrends) or `official` (Google Trends API alpha, for `trends_interest_over_time` and `trends_interest_by_region`; related lists stay on `web`).")
    official_base_url: str = var("TRENDS_OFFICIAL_BASE_URL",
                                 "https://searchtrends.googleapis.com",
        description="Host of the official Trends API (the sandbox's URL offline).")
    credentials_file: str | None = var("TRENDS_CREDENTIALS_FILE", None,
        description="OAuth 2.0 credentials for `TRENDS_BACKEND=official`: a service-account JSON or an authorised-user token file (scope `https://www.googleapis.com/auth/searchtrends`); not needed against a loopback sandbox.",
        shown="unset")
    second_anchor: str | None = var("TRENDS_SECOND_ANCHOR", None,
        description="Smaller anchor(s), comma-separated, most popular first (e.g. at 1/10 and 1/100 of `TRENDS_ANCHOR`): candidates reading below 10 beside the anchor are re-read beside them (gtab-style chain; 4 more requests per link and area-day).",
        shown="unset")
    official_max_requests_per_day: Annotated[int, Range(1, 100_000, True)] = var(
        "TRENDS_OFFICIAL_MAX_REQUESTS_PER_DAY", 100,
        description=(
            "Official backend: fetch requests (fetchTimeSeries, fetchGeoBreakdown) elex may "
            "send per UTC day, counted in the lake across runs (default 100, what early users "
            "are granted). The daily schedule is planned within it; a request past it is not "
            "sent (TrendsBudgetExceeded)."
        ),
    )

    @field_validator("base_url", "anchor", "backend", "official_base_url", "credentials_file",
                     "second_anchor", mode="before")
    @classmethod
    def _text(cls, value: Any, info: ValidationInfo) -> Any:
        _, text = cls._raw(value, info)
        return text if text is not None else cls.default(info.field_name or "")

    @_model_validator(mode="after")
    def _refuse_what_cannot_work(self) -> TrendsSettings:
        """Refuse, naming the variable, what cannot work (at load, not mid-run)."""
        for name, url in (
            ("TRENDS_BASE_URL", self.base_url),
            ("TRENDS_OFFICIAL_BASE_URL", self.official_base_url),
        ):
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{name}={url!r}: expected an http(s) URL")
        if not self.anchor:
            raise ValueError("TRENDS_ANCHOR must not be empty (it is the unit of value_comparable)")
        self.__dict__["backend"] = self.backend.lower()
        if self.backend not in TRENDS_BACKENDS:
            raise ValueError(f"TRENDS_BACKEND={self.backend!r}: expected one of {TRENDS_BACKENDS}")
        if self.cooldown_max_minutes < self.cooldown_minutes:
            raise ValueError(
                f"TRENDS_COOLDOWN_MAX_MINUTES={self.cooldown_max_minutes:g} is below "
                f"TRENDS_COOLDOWN_MINUTES={self.cooldown_minutes:g}"
            )
        if self.credentials_file is not None and not os.path.isfile(self.credentials_file):
            raise ValueError(f"TRENDS_CREDENTIALS_FILE={self.credentials_file!r}: no such file")
        return self

    def resource_fields(self) -> dict[str, Any]:
        return self.model_dump()
