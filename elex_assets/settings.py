"""Settings read from the environment: the one place that knows variable names.

One pydantic-settings model per domain (core and lake, X, Trends, Bluesky, Kaggle,
alerts, monitoring thresholds, archive, lease, sandboxes); each field names its
variable (``validation_alias``) and states its default once. Values are validated
when a model loads, and every error names the variable. ``load_settings()`` loads
them all; ``validate_env()`` collects every problem in one message.

Secrets (X token, AWS keys, Kaggle key, Bluesky app password) are never read into
a model: a model records at most whether one is set, and the value reaches its
resource through ``dg.EnvVar`` so it never enters run config or logs.

This is also the only module that reads or writes ``os.environ``: the few places
that must point a child process (or Dagster itself) somewhere call
``apply_env``, ``child_env`` or ``scoped_env`` here.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, TypeVar

from pydantic import AliasChoices, Field, ValidationError, ValidationInfo, field_validator
from pydantic import model_validator as _model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.sources.utils import parse_env_vars

from elex_assets import PROJECT_DIR
from elex_assets.core.bsky.api import DEFAULT_BASE_URL as BSKY_DEFAULT_BASE_URL
from elex_assets.core.elections import DEFAULT_ELECTION, ELECTIONS_SUPPORTED
from elex_assets.core.kaggle.export import DEFAULT_CONTENT_POLICY
from elex_assets.core.lease import DEFAULT_TTL_SECONDS, DEFAULT_WAIT_SECONDS
from elex_assets.core.trends.client import DEFAULT_BASE_URL as TRENDS_DEFAULT_BASE_URL
from elex_assets.core.trends.client import TRENDS_RETRY
from elex_assets.core.x.client import DEFAULT_BASE_URL as X_DEFAULT_BASE_URL
from elex_assets.core.x.client import is_sandbox_url

if TYPE_CHECKING:
    from elex_assets.core.alerts import AlertSettings
    from elex_assets.core.lake import Lake

DEFAULT_LAKE_DIR = PROJECT_DIR / "data" / "lake"
TRENDS_BACKENDS = ("web", "official")
_FLAGS_TRUE = ("1", "true", "yes", "on")
_FLAGS = (*_FLAGS_TRUE, "0", "false", "no", "off")

M = TypeVar("M", bound="EnvModel")
# The mapping a model loads from instead of os.environ (validate_env(env), tests).
_ENV: contextvars.ContextVar[Mapping[str, str] | None] = contextvars.ContextVar(
    "elex_settings_env", default=None)


class _EnvSource(EnvSettingsSource):
    """pydantic-settings' environment source, reading ``_ENV`` when one is given."""

    def _load_env_vars(self) -> Mapping[str, str | None]:
        env = _ENV.get()
        if env is None:
            return super()._load_env_vars()
        return parse_env_vars(env, self.case_sensitive, self.env_ignore_empty,
                              self.env_parse_none_str)


@dataclass(frozen=True)
class Range:
    """Field metadata: the numeric range ``validate_env`` checks (and the model enforces)."""

    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False


class _Marker:
    """Field metadata: how ``EnvModel`` reads the variable's text."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


FLAG = _Marker("FLAG")  # true/false (1/0, yes/no, on/off); anything else is refused
IS_SET = _Marker("IS_SET")  # a secret: only whether it is set is kept, never its value


def var(name: str, default: Any = None, **kwargs: Any) -> Any:
    """A field read from the environment variable ``name`` (the one place it is named)."""
    return Field(default, validation_alias=name, **kwargs)


class EnvModel(BaseSettings):
    """Common behaviour: blank means default, errors name the variable."""

    model_config = SettingsConfigDict(
        frozen=True, extra="ignore", case_sensitive=True, validate_by_name=True,
        validate_by_alias=True, env_ignore_empty=False, validate_default=False,
    )

    # ---- loading ----------------------------------------------------------------------
    @classmethod
    def load(cls: type[M], env: Mapping[str, str] | None = None) -> M:
        """The model from the environment (or ``env``); a ``ValueError`` names each variable."""
        model, problems = cls.check(env)
        if model is None:
            raise ValueError("; ".join(message for _, message in problems))
        return model

    @classmethod
    def check(cls: type[M], env: Mapping[str, str] | None = None
              ) -> tuple[M | None, list[tuple[str, str]]]:
        """The model, or None and each problem as (variable, message)."""
        token = _ENV.set(env)
        try:
            return cls(), []
        except ValidationError as exc:
            return None, [cls._problem(e) for e in exc.errors()]
        finally:
            _ENV.reset(token)

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, _EnvSource(settings_cls)

    @classmethod
    def from_env(cls: type[M]) -> M:
        return cls.load()

    @classmethod
    def env_name(cls, field: str) -> str:
        alias = cls.model_fields[field].validation_alias
        if isinstance(alias, str):
            return alias
        if isinstance(alias, AliasChoices):
            return str(alias.choices[0])
        return field.upper()

    @classmethod
    def default(cls, field: str) -> Any:
        """A field's default: what resources and core take when nothing is set."""
        return cls.model_fields[field].default

    @classmethod
    def _problem(cls, error: Any) -> tuple[str, str]:
        loc = error.get("loc") or ()
        field = str(loc[0]) if loc else ""
        name = cls.env_name(field) if field in cls.model_fields else field or cls.__name__
        inner = (error.get("ctx") or {}).get("error")
        if isinstance(inner, ValueError):
            return name, str(inner)
        return name, f"{name}={error.get('input')!r}: {error.get('msg')}"

    # ---- parsing helpers for validators ------------------------------------------------
    @classmethod
    def _raw(cls, value: Any, info: ValidationInfo) -> tuple[str, str | None]:
        """(variable name, stripped text or None when blank) of a raw value."""
        name = cls.env_name(info.field_name or "")
        if value is None:
            return name, None
        text = str(value).strip()
        return name, text or None

    @field_validator("*", mode="before")
    @classmethod
    def _marked(cls, value: Any, info: ValidationInfo) -> Any:
        """``FLAG`` and ``IS_SET`` fields, whichever domain declares them."""
        metadata = cls.model_fields[info.field_name or ""].metadata
        if isinstance(value, bool) or not any(m is FLAG or m is IS_SET for m in metadata):
            return value
        if IS_SET in metadata:
            return bool(str(value or "").strip())
        name, text = cls._raw(value, info)
        return _flag(name, text) if text else cls.default(info.field_name or "")

    @classmethod
    def _range(cls, field: str) -> Range | None:
        for meta in cls.model_fields[field].metadata:
            if isinstance(meta, Range):
                return meta
        return None


def check_range(name: str, value: float, minimum: float | None = None,
                maximum: float | None = None) -> None:
    if value != value or (minimum is not None and value < minimum) or (
        maximum is not None and value > maximum
    ):
        bounds = (f"between {minimum:g} and {maximum:g}" if minimum is not None and
                  maximum is not None else f"at least {minimum:g}" if minimum is not None
                  else f"at most {maximum:g}")
        raise ValueError(f"{name}={value:g}: expected a number {bounds}")


def _parse_number(name: str, text: str, integer: bool) -> float:
    try:
        return int(text) if integer else float(text)
    except ValueError:
        raise ValueError(f"{name}={text!r}: expected {'an integer' if integer else 'a number'}") \
            from None


def _flag(name: str, text: str) -> bool:
    if text.lower() not in _FLAGS:
        raise ValueError(f"{name}={text!r}: expected true or false")
    return text.lower() in _FLAGS_TRUE


def _url(name: str, text: str) -> str:
    if not text.startswith(("http://", "https://")):
        raise ValueError(f"{name}={text!r}: expected an http:// or https:// URL")
    return text


def _languages(text: str | None) -> tuple[str, ...]:
    return tuple(x.strip() for x in (text or "").split(",") if x.strip())


# ---- the domains ------------------------------------------------------------------------

CandidatesFile = Annotated[str | None, var("ELEX_CANDIDATES_FILE", None)]


class Settings(EnvModel):
    """The election, its registry and the lake (README, "Configuration")."""

    election: str = var("ELEX_ELECTION", DEFAULT_ELECTION)
    candidates_file: CandidatesFile = None
    lake_url: str = var("ELEX_LAKE_URL", str(DEFAULT_LAKE_DIR))

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_default(cls, value: Any, info: ValidationInfo) -> Any:
        _, text = cls._raw(value, info)
        return text if text is not None else cls.default(info.field_name or "")

    @field_validator("election")
    @classmethod
    def _supported(cls, value: str) -> str:
        if value not in ELECTIONS_SUPPORTED:
            raise ValueError(
                f"ELEX_ELECTION={value!r} is not supported; "
                f"choose one of {', '.join(ELECTIONS_SUPPORTED)}"
            )
        return value

    def lake(self, url: str | None = None) -> Lake:
        """The lake at ``url`` (default ``ELEX_LAKE_URL``), on the environment's S3."""
        return AwsSettings.load().lake(url or self.lake_url)


class AwsSettings(EnvModel):
    """Not secrets: where S3 is (moto in tests) and its region; boto3 reads the keys itself."""

    endpoint_url: str | None = var("AWS_ENDPOINT_URL", None)
    region: str | None = Field(None, validation_alias=AliasChoices("AWS_REGION",
                                                                   "AWS_DEFAULT_REGION"))

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any, info: ValidationInfo) -> str | None:
        return cls._raw(value, info)[1]

    def lake(self, url: str) -> Lake:
        from elex_assets.core.lake import Lake

        return Lake.from_url(url, endpoint_url=self.endpoint_url, region=self.region)


def open_lake(url: str | None = None) -> Lake:
    """``Settings.load().lake(url)``: a lake addressed as the environment says."""
    return Settings.load().lake(url)


class _Numbers(EnvModel):
    """Numeric fields carry a ``Range``; a bad one fails at load naming its variable."""

    _range_message: ClassVar[str] = "check_range"

    @field_validator("*", mode="before")
    @classmethod
    def _number(cls, value: Any, info: ValidationInfo) -> Any:
        field = info.field_name or ""
        rng = cls._range(field)
        if rng is None or isinstance(value, int | float):
            return value
        name, text = cls._raw(value, info)
        if text is None:
            return cls.default(field)
        number = _parse_number(name, text, rng.integer)
        if cls._range_message == "check_range":
            check_range(name, number, rng.minimum, rng.maximum)
        elif rng.minimum is not None and number < rng.minimum:
            raise ValueError(f"{name}={text!r}: must be at least {rng.minimum:g}")
        elif rng.maximum is not None and number > rng.maximum:
            raise ValueError(f"{name}={text!r}: must be at most {rng.maximum:g}")
        return number


class XSettings(_Numbers):
    """X collection settings (README, "Posts on X"); the token is read by ``dg.EnvVar``.

    Field names are ``XResource``'s: ``resource_fields()`` hands them over as they are.
    """

    base_url: str = var("X_API_BASE_URL", X_DEFAULT_BASE_URL)
    endpoint: str = var("X_SEARCH_ENDPOINT", "recent")
    max_query_length: Annotated[int, Range(integer=True)] = var("X_MAX_QUERY_LENGTH", 0)
    languages: Annotated[tuple[str, ...], NoDecode] = var("X_LANGUAGES", ("fr", "en"))
    include_retweets: Annotated[bool, FLAG] = var("X_INCLUDE_RETWEETS", True)
    min_status: Annotated[int, Range(-1, None, True)] = var("X_MIN_STATUS", 0)
    max_posts_per_month: Annotated[int, Range(0, None, True)] = var("X_MAX_POSTS_PER_MONTH", 0)
    token_set: Annotated[bool, IS_SET] = var("X_BEARER_TOKEN", False)
    price_post_read_usd: float = var("X_PRICE_POST_READ_USD", 0.005)
    price_counts_recent_usd: float = var("X_PRICE_COUNTS_RECENT_USD", 0.005)
    price_counts_all_usd: float = var("X_PRICE_COUNTS_ALL_USD", 0.01)
    # None: by base URL. Live defaults keep a new user's first day under $5; on the
    # sandbox (loopback) nothing is billed, so it reads every post with no ceiling.
    max_usd_per_day: float = var("X_MAX_USD_PER_DAY", None)
    max_usd_per_month: float = var("X_MAX_USD_PER_MONTH", None)
    posts_plan: str = var("X_POSTS_PLAN", None)
    sample_posts_per_day: Annotated[int, Range(integer=True)] = var("X_SAMPLE_POSTS_PER_DAY", 400)

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
        return tuple(value) if isinstance(value, list | tuple) else _languages(value)

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


class TrendsSettings(_Numbers):
    """Google Trends: where to send requests and how politely (README, "Trends").

    Field names are ``TrendsResource``'s: ``resource_fields()`` hands them over.
    """

    _range_message: ClassVar[str] = "trends"

    base_url: str = var("TRENDS_BASE_URL", TRENDS_DEFAULT_BASE_URL)
    min_interval_seconds: Annotated[float, Range(0)] = var("TRENDS_MIN_INTERVAL_SECONDS", 5.0)
    anchor: str = var("TRENDS_ANCHOR", "Emmanuel Macron")
    max_attempts: Annotated[int, Range(1, 100, True)] = var("TRENDS_MAX_ATTEMPTS", TRENDS_RETRY.max_attempts)
    backoff_max_seconds: Annotated[float, Range(0)] = var("TRENDS_BACKOFF_MAX_SECONDS", TRENDS_RETRY.backoff_max)
    timeout_seconds: Annotated[float, Range(0.1)] = var("TRENDS_TIMEOUT_SECONDS", 30.0)
    cooldown_minutes: Annotated[float, Range(1)] = var("TRENDS_COOLDOWN_MINUTES", 15.0)
    cooldown_max_minutes: Annotated[float, Range(1)] = var("TRENDS_COOLDOWN_MAX_MINUTES", 360.0)
    backend: str = var("TRENDS_BACKEND", "web")
    official_base_url: str = var("TRENDS_OFFICIAL_BASE_URL",
                                 "https://searchtrends.googleapis.com")
    credentials_file: str | None = var("TRENDS_CREDENTIALS_FILE", None)
    second_anchor: str | None = var("TRENDS_SECOND_ANCHOR", None)

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


class ArchiveSettings(EnvModel):
    """Archive import (README, "Importing an old collection"): where the old files are
    and which registry matches them (the author's own ``candidates.json`` may)."""

    source_url: str | None = var("ELEX_ARCHIVE_URL", None)
    candidates_file: CandidatesFile = None

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any, info: ValidationInfo) -> str | None:
        return cls._raw(value, info)[1]

    @field_validator("candidates_file")
    @classmethod
    def _exists(cls, value: str | None) -> str | None:
        if value and not os.path.isfile(value):
            raise ValueError(f"ELEX_CANDIDATES_FILE={value!r}: no such file")
        return value


class BskySettings(_Numbers):
    """Bluesky collection (README, "Posts on Bluesky"); the handle and app password are
    read by ``dg.EnvVar`` (``BSKY_HANDLE``, ``BSKY_APP_PASSWORD``), never here."""

    base_url: str = var("BSKY_BASE_URL", BSKY_DEFAULT_BASE_URL)
    languages: Annotated[tuple[str, ...], NoDecode] = var("BSKY_LANGUAGES", ())
    window_minutes: Annotated[int, Range(1, 1440, True)] = var("BSKY_WINDOW_MINUTES", 360)
    handle_set: Annotated[bool, IS_SET] = var("BSKY_HANDLE", False)
    app_password_set: Annotated[bool, IS_SET] = var("BSKY_APP_PASSWORD", False)

    @field_validator("base_url", mode="before")
    @classmethod
    def _base_url(cls, value: Any, info: ValidationInfo) -> str:
        return cls._raw(value, info)[1] or cls.default("base_url")

    @field_validator("languages", mode="before")
    @classmethod
    def _languages(cls, value: Any) -> tuple[str, ...]:
        if isinstance(value, list | tuple):
            return tuple(value)
        languages = _languages(value)
        for lang in languages:
            if not lang.replace("-", "").isalpha() or len(lang) > 8:
                raise ValueError(f"BSKY_LANGUAGES={value!r}: {lang!r} is not a language code")
        return languages

    @property
    def credentials_set(self) -> bool:
        return self.handle_set and self.app_password_set

    def resource_fields(self) -> dict[str, Any]:
        """``BskyResource``'s fields (the credentials go through ``dg.EnvVar``)."""
        return {"base_url": self.base_url, "languages": list(self.languages),
                "window_minutes": self.window_minutes}


class LeaseSettings(_Numbers):
    """One writer per partition across processes (``core.lease``)."""

    ttl_seconds: Annotated[float, Range(1)] = var("ELEX_LEASE_TTL_SECONDS", DEFAULT_TTL_SECONDS)
    wait_seconds: Annotated[float, Range(0)] = var("ELEX_LEASE_WAIT_SECONDS",
                                                   DEFAULT_WAIT_SECONDS)


class KaggleSettings(EnvModel):
    """Kaggle export and publishing (README, "Kaggle"); the key goes through ``dg.EnvVar``."""

    dataset: str | None = var("KAGGLE_DATASET", None)
    username_set: Annotated[bool, IS_SET] = var("KAGGLE_USERNAME", False)
    key_set: Annotated[bool, IS_SET] = var("KAGGLE_KEY", False)
    publish: Annotated[bool, FLAG] = var("ELEX_KAGGLE_PUBLISH", False)
    content_policy: str = var("ELEX_KAGGLE_CONTENT", DEFAULT_CONTENT_POLICY)
    parquet_twin: Annotated[bool, FLAG] = var("ELEX_KAGGLE_PARQUET", False)
    private: Annotated[bool, FLAG] = var("ELEX_KAGGLE_PRIVATE", False)
    api_endpoint: str | None = var("KAGGLE_API_ENDPOINT", None)

    @field_validator("dataset", mode="before")
    @classmethod
    def _dataset(cls, value: Any, info: ValidationInfo) -> str | None:
        text = cls._raw(value, info)[1]
        if text:
            from elex_assets.core.kaggle.metadata import check_dataset_id

            check_dataset_id(text)
        return text

    @field_validator("content_policy", mode="before")
    @classmethod
    def _policy(cls, value: Any, info: ValidationInfo) -> str:
        text = cls._raw(value, info)[1] or cls.default("content_policy")
        if text not in ("ids", "full"):
            raise ValueError(f"ELEX_KAGGLE_CONTENT={text!r}: expected ids or full")
        return text

    @field_validator("api_endpoint", mode="before")
    @classmethod
    def _endpoint(cls, value: Any, info: ValidationInfo) -> str | None:
        name, text = cls._raw(value, info)
        return _url(name, text) if text else None

    def resource_fields(self, posts_plan: str) -> dict[str, Any]:
        """``KaggleResource``'s fields but the credentials (``dg.EnvVar``)."""
        return {"dataset": self.dataset, "publish": self.publish,
                "content_policy": self.content_policy, "parquet_twin": self.parquet_twin,
                "public": not self.private, "api_endpoint": self.api_endpoint,
                "posts_plan": posts_plan}


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


class SandboxSettings(_Numbers):
    """The sandbox APIs of ``elex sandbox`` and the demo, and the demo's Dagster instance."""

    x_port: Annotated[int, Range(0, 65535, True)] = var("X_SANDBOX_PORT", 0)
    x_posts_per_day: Annotated[int, Range(1, None, True)] = var("X_SANDBOX_POSTS_PER_DAY", 2000)
    trends_port: Annotated[int, Range(0, 65535, True)] = var("TRENDS_SANDBOX_PORT", 0)
    bsky_port: Annotated[int, Range(0, 65535, True)] = var("BSKY_SANDBOX_PORT", 0)
    bsky_posts_per_day: Annotated[int, Range(1, None, True)] = var(
        "BSKY_SANDBOX_POSTS_PER_DAY", 400)
    dagster_home: Path = var("DAGSTER_HOME", PROJECT_DIR / ".dagster_home")

    @field_validator("dagster_home", mode="before")
    @classmethod
    def _home(cls, value: Any, info: ValidationInfo) -> Path:
        text = cls._raw(value, info)[1]
        return Path(text) if text else cls.default("dagster_home")


DOMAINS: tuple[type[EnvModel], ...] = (
    Settings, AwsSettings, XSettings, TrendsSettings, BskySettings, LeaseSettings, KaggleSettings,
    AlertsSettings, ThresholdSettings, ArchiveSettings, SandboxSettings,
)


@dataclass(frozen=True)
class ElexSettings:
    """Every domain's settings, loaded (and validated) together."""

    core: Settings
    aws: AwsSettings
    x: XSettings
    trends: TrendsSettings
    bsky: BskySettings
    lease: LeaseSettings
    kaggle: KaggleSettings
    alerts: AlertsSettings
    thresholds: ThresholdSettings
    sandbox: SandboxSettings


def load_settings(env: Mapping[str, str] | None = None) -> ElexSettings:
    """Every domain from the environment (or ``env``); one error lists every bad variable."""
    validate_env(env)
    return ElexSettings(
        core=Settings.load(env), aws=AwsSettings.load(env), x=XSettings.load(env), trends=TrendsSettings.load(env),
        bsky=BskySettings.load(env), lease=LeaseSettings.load(env),
        kaggle=KaggleSettings.load(env), alerts=AlertsSettings.load(env),
        thresholds=ThresholdSettings.load(env), sandbox=SandboxSettings.load(env),
    )


# ---- every setting range-checked when the definitions load -------------------------


def validate_env(env: Mapping[str, str] | None = None) -> None:
    """Check every non-secret setting's type and range; one message names each bad variable.

    Called when the definitions are built (``load_settings``), so a bad value fails at
    once (in the UI's code location, the CLI, the daemon) instead of at the first step
    that reads it. ``env`` (default: this process's environment) is read, never changed.
    """
    env = dict(os.environ if env is None else env)
    problems: list[tuple[str, str]] = []
    # Numbers first, as ranges (the Range of each numeric field), then each domain's rules.
    for model in DOMAINS:
        for field in model.model_fields:
            rng, name = model._range(field), model.env_name(field)
            raw = (env.get(name) or "").strip()
            if rng is None or not raw or rng.minimum is None and rng.maximum is None:
                continue
            try:
                check_range(name, _parse_number(name, raw, rng.integer), rng.minimum,
                            rng.maximum)
            except ValueError as exc:
                problems.append((name, str(exc)))
    named = {name for name, _ in problems}
    for model in DOMAINS:
        if model is ArchiveSettings:  # only the archive import needs its file to exist
            continue
        problems += [(n, m) for n, m in model.check(env)[1] if n not in named]
    if problems:
        raise ValueError("invalid setting: " + "; ".join(m for _, m in problems))


# ---- the environment of this process and its children -------------------------------


def sandbox_env(x_url: str, trends_url: str, bsky_url: str, demo: bool = False
                ) -> dict[str, str]:
    """The variables that point runs (this process's and its children's) at the sandboxes.

    ``demo`` also selects full-archive search (the demo's week is over 7 days old);
    the sandboxes need no politeness interval.
    """
    env = {"X_API_BASE_URL": x_url, "TRENDS_BASE_URL": trends_url, "BSKY_BASE_URL": bsky_url}
    if demo:
        env.update({"X_SEARCH_ENDPOINT": "all", "TRENDS_MIN_INTERVAL_SECONDS": "0"})
    return env


def apply_env(values: Mapping[str, str]) -> None:
    """Set variables in this process (and the children it starts): the one writer."""
    os.environ.update(values)


def child_env(values: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment with ``values`` on top, for a child process."""
    return {**os.environ, **(values or {})}


@contextlib.contextmanager
def scoped_env(values: Mapping[str, str] | None = None,
               unset: Iterable[str] = ()) -> Iterator[None]:
    """Set (or remove) variables for the duration of a call into a library that reads
    them itself (the Kaggle client's credentials, a notebook kernel); restored after."""
    names = {*(values or {}), *unset}
    saved = {name: os.environ.get(name) for name in names}
    for name in unset:
        os.environ.pop(name, None)
    os.environ.update(values or {})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
