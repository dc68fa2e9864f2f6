"""Settings read from the environment: the one place that knows variable names.

Only non-secret settings are read here. Secrets (X token, AWS keys, Kaggle key)
reach resources through ``dg.EnvVar`` so they never enter run config or logs.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from elex_assets import PROJECT_DIR
from elex_assets.core.elections import DEFAULT_ELECTION, ELECTIONS_SUPPORTED
from elex_assets.core.x_client import is_sandbox_url

DEFAULT_LAKE_DIR = PROJECT_DIR / "data" / "lake"


@dataclass(frozen=True)
class Settings:
    election: str
    candidates_file: str | None
    lake_url: str

    @classmethod
    def from_env(cls) -> Settings:
        election = os.environ.get("ELEX_ELECTION", DEFAULT_ELECTION).strip()
        if election not in ELECTIONS_SUPPORTED:
            raise ValueError(
                f"ELEX_ELECTION={election!r} is not supported; "
                f"choose one of {', '.join(ELECTIONS_SUPPORTED)}"
            )
        return cls(
            election=election,
            candidates_file=os.environ.get("ELEX_CANDIDATES_FILE") or None,
            lake_url=os.environ.get("ELEX_LAKE_URL") or str(DEFAULT_LAKE_DIR),
        )


def env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class XSettings:
    """X collection settings (README, "Posts on X"); the token is read by ``dg.EnvVar``."""

    base_url: str
    endpoint: str
    max_query_length: int
    languages: tuple[str, ...]
    include_retweets: bool
    min_status: int
    max_posts_per_month: int
    token_set: bool
    price_post_read_usd: float = 0.005
    price_counts_recent_usd: float = 0.005
    price_counts_all_usd: float = 0.01
    max_usd_per_day: float = 5.0
    max_usd_per_month: float = 100.0
    posts_plan: str = "sample"
    sample_posts_per_day: int = 400

    @classmethod
    def from_env(cls) -> XSettings:
        endpoint = (os.environ.get("X_SEARCH_ENDPOINT") or "recent").strip()
        if endpoint not in ("recent", "all"):
            raise ValueError(f"X_SEARCH_ENDPOINT={endpoint!r}: expected 'recent' or 'all'")
        langs = os.environ.get("X_LANGUAGES")
        base_url = (os.environ.get("X_API_BASE_URL") or "https://api.x.com").strip()
        sandbox = is_sandbox_url(base_url)
        return cls(
            base_url=base_url,
            endpoint=endpoint,
            max_query_length=_env_int("X_MAX_QUERY_LENGTH", 0),
            languages=tuple(
                x.strip() for x in (langs if langs is not None else "fr,en").split(",")
                if x.strip()
            ),
            include_retweets=env_flag("X_INCLUDE_RETWEETS", True),
            min_status=_env_int("X_MIN_STATUS", 0),
            max_posts_per_month=_env_int("X_MAX_POSTS_PER_MONTH", 0),
            token_set=bool(os.environ.get("X_BEARER_TOKEN")),
            price_post_read_usd=_env_usd("X_PRICE_POST_READ_USD", 0.005),
            price_counts_recent_usd=_env_usd("X_PRICE_COUNTS_RECENT_USD", 0.005),
            price_counts_all_usd=_env_usd("X_PRICE_COUNTS_ALL_USD", 0.01),
            # Live defaults keep a new user's first day under $5; on the sandbox (loopback)
            # nothing is billed, so it reads every post with no ceiling unless told otherwise.
            max_usd_per_day=_env_usd("X_MAX_USD_PER_DAY", 0.0 if sandbox else 5.0),
            max_usd_per_month=_env_usd("X_MAX_USD_PER_MONTH", 0.0 if sandbox else 100.0),
            posts_plan=_env_choice("X_POSTS_PLAN", "full" if sandbox else "sample",
                                   ("full", "sample", "off")),
            sample_posts_per_day=_env_int("X_SAMPLE_POSTS_PER_DAY", 400),
        )


def _env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = (os.environ.get(name) or "").strip().lower() or default
    if value not in choices:
        raise ValueError(f"{name}={value!r}: expected one of {', '.join(choices)}")
    return value


def _env_usd(name: str, default: float) -> float:
    """A dollar amount (price or ceiling): a number >= 0 (``0`` turns a ceiling off)."""
    value = (os.environ.get(name) or "").strip().lstrip("$")
    if not value:
        return default
    try:
        amount = float(value)
    except ValueError:
        raise ValueError(f"{name}={value!r}: expected an amount in US dollars, e.g. 5 or 0.005") \
            from None
    if amount < 0 or amount != amount or amount == float("inf"):
        raise ValueError(f"{name}={value!r}: expected a finite amount >= 0")
    return amount


def _env_int(name: str, default: int) -> int:
    value = (os.environ.get(name) or "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name}={value!r}: expected an integer") from None


TRENDS_BACKENDS = ("web", "official")


def _trends_number(name: str, default: float, minimum: float, integer: bool = False) -> float:
    """A numeric TRENDS_* variable, refused at load with its name when it cannot work."""
    value = (os.environ.get(name) or "").strip()
    if not value:
        return default
    try:
        number = int(value) if integer else float(value)
    except ValueError:
        kind = "an integer" if integer else "a number"
        raise ValueError(f"{name}={value!r}: expected {kind}") from None
    if number < minimum:
        raise ValueError(f"{name}={value!r}: must be at least {minimum:g}")
    return number


@dataclass(frozen=True)
class TrendsSettings:
    """Google Trends: where to send requests and how politely (README, "Trends")."""

    base_url: str = "https://trends.google.com"
    min_interval_seconds: float = 5.0
    anchor: str = "Emmanuel Macron"
    max_attempts: int = 6
    backoff_max_seconds: float = 300.0
    timeout_seconds: float = 30.0
    cooldown_minutes: float = 15.0
    cooldown_max_minutes: float = 360.0
    backend: str = "web"
    official_base_url: str = "https://searchtrends.googleapis.com"
    credentials_file: str | None = None
    second_anchor: str | None = None

    @classmethod
    def from_env(cls) -> TrendsSettings:
        env = os.environ
        default = cls()
        settings = cls(
            base_url=(env.get("TRENDS_BASE_URL") or default.base_url).strip(),
            min_interval_seconds=_trends_number(
                "TRENDS_MIN_INTERVAL_SECONDS", default.min_interval_seconds, 0
            ),
            anchor=(env.get("TRENDS_ANCHOR") or default.anchor).strip(),
            max_attempts=int(_trends_number("TRENDS_MAX_ATTEMPTS", default.max_attempts, 1, True)),
            backoff_max_seconds=_trends_number(
                "TRENDS_BACKOFF_MAX_SECONDS", default.backoff_max_seconds, 0
            ),
            timeout_seconds=_trends_number("TRENDS_TIMEOUT_SECONDS", default.timeout_seconds, 0.1),
            cooldown_minutes=_trends_number("TRENDS_COOLDOWN_MINUTES", default.cooldown_minutes, 1),
            cooldown_max_minutes=_trends_number(
                "TRENDS_COOLDOWN_MAX_MINUTES", default.cooldown_max_minutes, 1
            ),
            backend=(env.get("TRENDS_BACKEND") or default.backend).strip().lower(),
            official_base_url=(
                env.get("TRENDS_OFFICIAL_BASE_URL") or default.official_base_url
            ).strip(),
            credentials_file=(env.get("TRENDS_CREDENTIALS_FILE") or "").strip() or None,
            second_anchor=(env.get("TRENDS_SECOND_ANCHOR") or "").strip() or None,
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        """Refuse, naming the variable, what cannot work (at load, not mid-run)."""
        for name, url in (
            ("TRENDS_BASE_URL", self.base_url),
            ("TRENDS_OFFICIAL_BASE_URL", self.official_base_url),
        ):
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{name}={url!r}: expected an http(s) URL")
        if not self.anchor:
            raise ValueError("TRENDS_ANCHOR must not be empty (it is the unit of value_comparable)")
        if self.backend not in TRENDS_BACKENDS:
            raise ValueError(f"TRENDS_BACKEND={self.backend!r}: expected one of {TRENDS_BACKENDS}")
        if self.cooldown_max_minutes < self.cooldown_minutes:
            raise ValueError(
                f"TRENDS_COOLDOWN_MAX_MINUTES={self.cooldown_max_minutes:g} is below "
                f"TRENDS_COOLDOWN_MINUTES={self.cooldown_minutes:g}"
            )
        if self.credentials_file is not None and not os.path.isfile(self.credentials_file):
            raise ValueError(f"TRENDS_CREDENTIALS_FILE={self.credentials_file!r}: no such file")


@dataclass(frozen=True)
class ArchiveSettings:
    """Archive import (README, "Importing an old collection"): where the old files are
    and which registry matches them (the author's own ``candidates.json`` may)."""

    source_url: str | None
    candidates_file: str | None

    @classmethod
    def from_env(cls) -> ArchiveSettings:
        candidates_file = (os.environ.get("ELEX_CANDIDATES_FILE") or "").strip() or None
        if candidates_file and not os.path.isfile(candidates_file):
            raise ValueError(f"ELEX_CANDIDATES_FILE={candidates_file!r}: no such file")
        return cls(
            source_url=(os.environ.get("ELEX_ARCHIVE_URL") or "").strip() or None,
            candidates_file=candidates_file,
        )


@dataclass(frozen=True)
class BskySettings:
    """Bluesky collection (README, "Posts on Bluesky"); the handle and app password are
    read by ``dg.EnvVar`` (``BSKY_HANDLE``, ``BSKY_APP_PASSWORD``), never here."""

    base_url: str
    languages: tuple[str, ...]
    window_minutes: int
    credentials_set: bool

    @classmethod
    def from_env(cls) -> BskySettings:
        window = _env_int("BSKY_WINDOW_MINUTES", 360)
        if not 1 <= window <= 1440:
            raise ValueError(f"BSKY_WINDOW_MINUTES={window}: expected 1 to 1440 (minutes)")
        langs = os.environ.get("BSKY_LANGUAGES") or ""
        languages = tuple(x.strip() for x in langs.split(",") if x.strip())
        for lang in languages:
            if not lang.replace("-", "").isalpha() or len(lang) > 8:
                raise ValueError(f"BSKY_LANGUAGES={langs!r}: {lang!r} is not a language code")
        return cls(
            base_url=(os.environ.get("BSKY_BASE_URL") or "https://bsky.social").strip(),
            languages=languages,
            window_minutes=window,
            credentials_set=bool(os.environ.get("BSKY_HANDLE"))
            and bool(os.environ.get("BSKY_APP_PASSWORD")),
        )


@dataclass(frozen=True)
class LeaseSettings:
    """One writer per partition across processes (``core.lease``)."""

    ttl_seconds: float = 120.0
    wait_seconds: float = 30.0

    @classmethod
    def from_env(cls) -> LeaseSettings:
        return cls(
            ttl_seconds=env_float("ELEX_LEASE_TTL_SECONDS", cls.ttl_seconds, minimum=1),
            wait_seconds=env_float("ELEX_LEASE_WAIT_SECONDS", cls.wait_seconds, minimum=0),
        )


def env_float(name: str, default: float, minimum: float | None = None,
              maximum: float | None = None) -> float:
    """A number from the environment, range-checked; the error names the variable."""
    value = (os.environ.get(name) or "").strip()
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{name}={value!r}: expected a number") from None
    check_range(name, number, minimum, maximum)
    return number


def check_range(name: str, value: float, minimum: float | None = None,
                maximum: float | None = None) -> None:
    if value != value or (minimum is not None and value < minimum) or (
        maximum is not None and value > maximum
    ):
        bounds = (f"between {minimum:g} and {maximum:g}" if minimum is not None and
                  maximum is not None else f"at least {minimum:g}" if minimum is not None
                  else f"at most {maximum:g}")
        raise ValueError(f"{name}={value:g}: expected a number {bounds}")


# ---- every setting range-checked when the definitions load -------------------------

_FLAGS = ("1", "true", "yes", "on", "0", "false", "no", "off")
_NUMBERS: tuple[tuple[str, float | None, float | None, bool], ...] = (
    # name, minimum, maximum, integer
    ("X_MAX_POSTS_PER_MONTH", 0, None, True),
    ("X_MIN_STATUS", -1, None, True),
    ("X_SANDBOX_PORT", 0, 65535, True),
    ("X_SANDBOX_POSTS_PER_DAY", 1, None, True),
    ("TRENDS_SANDBOX_PORT", 0, 65535, True),
    ("TRENDS_MIN_INTERVAL_SECONDS", 0, None, False),
    ("TRENDS_MAX_ATTEMPTS", 1, 100, True),
    ("TRENDS_BACKOFF_MAX_SECONDS", 0, None, False),
    ("TRENDS_TIMEOUT_SECONDS", 0.1, None, False),
    ("ELEX_LEASE_TTL_SECONDS", 1, None, False),
    ("ELEX_LEASE_WAIT_SECONDS", 0, None, False),
)


def validate_env(env: dict[str, str] | None = None) -> None:
    """Check every non-secret setting's type and range; one message names each bad variable.

    Called when the definitions load, so a bad value fails at once (in the UI's
    code location, the CLI, the daemon) instead of at the first step that reads it.
    """
    env = dict(os.environ if env is None else env)
    problems: list[str] = []

    def value(name: str) -> str:
        return (env.get(name) or "").strip()

    for name, low, high, integer in _NUMBERS:
        raw = value(name)
        if not raw:
            continue
        try:
            number = int(raw) if integer else float(raw)
        except ValueError:
            problems.append(f"{name}={raw!r}: expected {'an integer' if integer else 'a number'}")
            continue
        try:
            check_range(name, number, low, high)
        except ValueError as exc:
            problems.append(str(exc))
    endpoint = value("X_SEARCH_ENDPOINT") or "recent"
    raw = value("X_MAX_QUERY_LENGTH")
    if raw:
        limit = {"recent": 512, "all": 1024}.get(endpoint, 1024)
        try:
            length = int(raw)
            if length != 0 and not 32 <= length <= limit:
                problems.append(
                    f"X_MAX_QUERY_LENGTH={length}: expected 0 (the endpoint's limit) or "
                    f"between 32 and {limit} (X_SEARCH_ENDPOINT={endpoint})"
                )
        except ValueError:
            problems.append(f"X_MAX_QUERY_LENGTH={raw!r}: expected an integer")
    for name in ("X_INCLUDE_RETWEETS", "ELEX_KAGGLE_PUBLISH", "ELEX_KAGGLE_PARQUET",
                 "ELEX_KAGGLE_PRIVATE"):
        raw = value(name)
        if raw and raw.lower() not in _FLAGS:
            problems.append(f"{name}={raw!r}: expected true or false")
    for name in ("X_API_BASE_URL", "TRENDS_BASE_URL", "KAGGLE_API_ENDPOINT", "ELEX_UI_URL"):
        raw = value(name)
        if raw and not raw.startswith(("http://", "https://")):
            problems.append(f"{name}={raw!r}: expected an http:// or https:// URL")
    dataset = value("KAGGLE_DATASET")
    if dataset:
        from elex_assets.core.kaggle_metadata import check_dataset_id

        try:
            check_dataset_id(dataset)
        except ValueError as exc:
            problems.append(str(exc))
    content = value("ELEX_KAGGLE_CONTENT")
    if content and content not in ("ids", "full"):
        problems.append(f"ELEX_KAGGLE_CONTENT={content!r}: expected ids or full")
    phone = value("ELEX_ALERT_PHONE_NUMBER")
    if phone and not re.fullmatch(r"\+[1-9]\d{6,14}", phone):
        problems.append("ELEX_ALERT_PHONE_NUMBER: expected an E.164 number (+33612345678)")
    topic = value("ELEX_ALERT_SNS_TOPIC_ARN")
    if topic and not topic.startswith("arn:"):
        problems.append(f"ELEX_ALERT_SNS_TOPIC_ARN={topic!r}: expected an SNS topic ARN (arn:...)")
    if problems:
        raise ValueError("invalid setting: " + "; ".join(problems))
