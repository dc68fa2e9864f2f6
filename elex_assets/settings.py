"""Settings read from the environment: the one place that knows variable names.

Only non-secret settings are read here. Secrets (X token, AWS keys, Kaggle key)
reach resources through ``dg.EnvVar`` so they never enter run config or logs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from elex_assets import PROJECT_DIR
from elex_assets.core.elections import DEFAULT_ELECTION, ELECTIONS_SUPPORTED

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

    @classmethod
    def from_env(cls) -> XSettings:
        endpoint = (os.environ.get("X_SEARCH_ENDPOINT") or "recent").strip()
        if endpoint not in ("recent", "all"):
            raise ValueError(f"X_SEARCH_ENDPOINT={endpoint!r}: expected 'recent' or 'all'")
        langs = os.environ.get("X_LANGUAGES")
        return cls(
            base_url=(os.environ.get("X_API_BASE_URL") or "https://api.twitter.com").strip(),
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
        )


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
