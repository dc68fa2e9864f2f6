"""X: endpoint, queries, prices, dollar ceilings and the posts plan."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import ValidationInfo, field_validator
from pydantic import model_validator as _model_validator
from pydantic_settings import NoDecode

from elex_assets.core.registry import STATUSES
from elex_assets.core.x.client import DEFAULT_BASE_URL as X_DEFAULT_BASE_URL
from elex_assets.core.x.client import is_sandbox_url
from elex_assets.settings.base import (
    FLAG,
    IS_SET,
    Range,
    _languages,
    _Numbers,
    _url,
    var,
)


class XSettings(_Numbers):
    """X collection settings (docs/sources/x.md); the token is read by ``dg.EnvVar``.

    Field names are ``XResource``'s: ``resource_fields()`` hands them over as they are.
    """

    base_url: str = var("X_API_BASE_URL", X_DEFAULT_BASE_URL,
        description="X API base URL; a loopback URL (`127.0.0.1`, `localhost`, `::1`) is *sandbox mode* (no token needed).")
    endpoint: str = var("X_SEARCH_ENDPOINT", "recent",
        description="`recent` (last 7 days) or `all` (full archive: X Pro / Enterprise).")
    max_query_length: Annotated[int, Range(integer=True)] = var("X_MAX_QUERY_LENGTH", 0,
        description="Longest query sent; the candidates' terms are split across as many queries as needed (`0`: the endpoint's limit).",
        shown="`0`: 512 (recent), 1024 (all)")
    languages: Annotated[tuple[str, ...], NoDecode] = var("X_LANGUAGES", ("fr", "en"),
        description="Comma-separated `lang:` filters (set but empty: every language).")
    include_retweets: Annotated[bool, FLAG] = var("X_INCLUDE_RETWEETS", True,
        description="Collect retweets too (`false` adds `-is:retweet`).")
    min_status: Annotated[int, Range(min(STATUSES), max(STATUSES), True)] = var("X_MIN_STATUS", 0,
        description="Lowest registry status collected: `-1` (withdrawn), `0` (potential) or `1` (declared).")
    max_posts_per_month: Annotated[int, Range(0, None, True)] = var("X_MAX_POSTS_PER_MONTH", 0,
        description="Monthly budget of posts read (search and stream, every process sharing the lake together: each page is reserved before it is requested); collection stops before exceeding it (`0`: off).")
    token_set: Annotated[bool, IS_SET] = var("X_BEARER_TOKEN", False,
        description="**Secret**: the X app bearer token (OAuth 2.0 app-only), read through `dg.EnvVar`; required unless `X_API_BASE_URL` is a sandbox on this machine.",
        shown="none")
    price_post_read_usd: float = var("X_PRICE_POST_READ_USD", 0.005,
        description="X's price per post read, in US dollars.")
    price_counts_recent_usd: float = var("X_PRICE_COUNTS_RECENT_USD", 0.005,
        description="X's price per recent-counts request.")
    price_counts_all_usd: float = var("X_PRICE_COUNTS_ALL_USD", 0.01,
        description="X's price per full-archive-counts request.")
    # None: by base URL. Live defaults keep a new user's first day under $5; on the
    # sandbox (loopback) nothing is billed, so it reads every post with no ceiling.
    max_usd_per_day: float = var("X_MAX_USD_PER_DAY", None,
        description="Dollar ceiling of a UTC day: a run stops before a request that would cross it (`0`: off).",
        shown="`5` (`0`, off, on a loopback sandbox)")
    max_usd_per_month: float = var("X_MAX_USD_PER_MONTH", None,
        description="Dollar ceiling of a calendar month (`0`: off).",
        shown="`100` (`0`, off, on a loopback sandbox)")
    posts_plan: str = var("X_POSTS_PLAN", None,
        description="`full` (every post), `sample` (`X_SAMPLE_POSTS_PER_DAY` spread over the day's hours) or `off` (counts only).",
        shown="`sample` (`full` on a loopback sandbox)")
    sample_posts_per_day: Annotated[int, Range(0, None, True)] = var("X_SAMPLE_POSTS_PER_DAY", 400,
        description="Daily post budget of the `sample` plan (pages of 10+ posts, at least one an hour); must be positive with that plan.")

    LIVE_DEFAULTS: ClassVar[dict[str, Any]] = {
        "max_usd_per_day": 5.0, "max_usd_per_month": 100.0, "posts_plan": "sample"}
    SANDBOX_DEFAULTS: ClassVar[dict[str, Any]] = {
        "max_usd_per_day": 0.0, "max_usd_per_month": 0.0, "posts_plan": "full"}

    @field_validator("base_url", mode="before")
    @classmethod
    def _base_url(cls, value: Any, info: ValidationInfo) -> str:
        name, text = cls._raw(value, info)
        return _url(name, text) if text else cls.default("base_url")

    @field_validator("endpoint", mode="before")
    @classmethod
    def _endpoint(cls, value: Any, info: ValidationInfo) -> str:
        _, text = cls._raw(value, info)
        text = text or cls.default("endpoint")
        if text not in ("recent", "all"):
            raise ValueError(f"X_SEARCH_ENDPOINT={text!r}: expected 'recent' or 'all'")
        return text

    @field_validator("languages", mode="before")
    @classmethod
    def _languages(cls, value: Any) -> tuple[str, ...]:
        # Unset: the default; set but empty: no language filter.
        return tuple(value) if isinstance(value, list | tuple) else _languages(value, "X_LANGUAGES")

    @field_validator("price_post_read_usd", "price_counts_recent_usd", "price_counts_all_usd",
                     "max_usd_per_day", "max_usd_per_month", mode="before")
    @classmethod
    def _usd(cls, value: Any, info: ValidationInfo) -> float | None:
        """A dollar amount (price or ceiling): a number >= 0 (``0`` turns a ceiling off)."""
        if value is None or isinstance(value, int | float):
            return value
        name, text = cls._raw(value, info)
        text = (text or "").lstrip("$")
        if not text:
            return cls.default(info.field_name or "")
        try:
            amount = float(text)
        except ValueError:
            raise ValueError(
                f"{name}={text!r}: expected an amount in US dollars, e.g. 5 or 0.005") from None
        if amount < 0 or amount != amount or amount == float("inf"):
            raise ValueError(f"{name}={text!r}: expected a finite amount >= 0")
        return amount

    @field_validator("posts_plan", mode="before")
    @classmethod
    def _plan(cls, value: Any, info: ValidationInfo) -> str | None:
        name, text = cls._raw(value, info)
        if text is None:
            return None
        text = text.lower()
        if text not in ("full", "sample", "off"):
            raise ValueError(f"{name}={text!r}: expected one of full, sample, off")
        return text

    @classmethod
    def url_defaults(cls, base_url: str) -> dict[str, Any]:
        """The defaults that depend on where requests go (live or the sandbox)."""
        return dict(cls.SANDBOX_DEFAULTS if is_sandbox_url(base_url) else cls.LIVE_DEFAULTS)

    @_model_validator(mode="after")
    def _by_base_url(self) -> XSettings:
        for field, value in self.url_defaults(self.base_url).items():
            if getattr(self, field) is None:
                self.__dict__[field] = value
        if self.min_status not in STATUSES:
            raise ValueError(
                f"X_MIN_STATUS={self.min_status}: expected one of the registry's statuses "
                + ", ".join(f"{k} ({v})" for k, v in STATUSES.items()))
        if self.posts_plan == "sample" and self.sample_posts_per_day <= 0:
            raise ValueError(
                f"X_SAMPLE_POSTS_PER_DAY={self.sample_posts_per_day}: X_POSTS_PLAN=sample needs "
                "a positive number of posts per day (or set X_POSTS_PLAN=off to read none)")
        limit = {"recent": 512, "all": 1024}[self.endpoint]
        length = self.max_query_length
        if length != 0 and not 32 <= length <= limit:
            raise ValueError(
                f"X_MAX_QUERY_LENGTH={length}: expected 0 (the endpoint's limit) or "
                f"between 32 and {limit} (X_SEARCH_ENDPOINT={self.endpoint})"
            )
        return self

    @property
    def sandbox(self) -> bool:
        return is_sandbox_url(self.base_url)

    def resource_fields(self) -> dict[str, Any]:
        """``XResource``'s fields (the token excepted: it goes through ``dg.EnvVar``)."""
        fields = self.model_dump(exclude={"token_set"})
        fields["languages"] = list(self.languages)
        return fields
