"""How a setting is read: one variable per field, its default, its range, errors naming it."""

from __future__ import annotations

import contextvars
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import AliasChoices, Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.sources.utils import parse_env_vars

_FLAGS_TRUE = ("1", "true", "yes", "on")
_FLAGS = (*_FLAGS_TRUE, "0", "false", "no", "off")

M = TypeVar("M", bound="EnvModel")
# The mapping a model loads from instead of the process environment (validate_env(env), tests).
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


class SettingsError(ValueError):
    """One or more settings refused at load; the message names each variable."""


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


def var(name: str, default: Any = None, description: str | None = None, *,
        shown: str | None = None, **kwargs: Any) -> Any:
    """A field read from the environment variable ``name`` (the one place it is named).

    ``description`` says what it means to a user; the configuration page of the docs is
    generated from it (``settings/reference.py``), with ``shown`` as the default when
    the value alone would not say it (a default that depends on other settings).
    """
    extra = {"shown_default": shown} if shown is not None else None
    return Field(default, validation_alias=name, description=description,
                 json_schema_extra=extra, **kwargs)


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
    """An http(s) URL with a host: the only scheme the clients speak."""
    from urllib.parse import urlparse

    parsed = urlparse(text)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ValueError(f"{name}={text!r}: expected an http:// or https:// URL with a host")
    return text


def _lake_url(name: str, text: str) -> str:
    """A local folder or ``s3://bucket[/prefix]`` (``core.lake.lake_url_problem``)."""
    from elex_assets.core.lake import lake_url_problem

    problem = lake_url_problem(text)
    if problem is not None:
        raise ValueError(f"{name}={text!r}: {problem}")
    return text


def _languages(text: str | None, name: str = "") -> tuple[str, ...]:
    """Comma-separated language codes (``fr,en``, ``pt-BR``); with ``name``, each checked."""
    languages = tuple(x.strip() for x in (text or "").split(",") if x.strip())
    for lang in languages if name else ():
        if not lang.replace("-", "").isalpha() or len(lang) > 8:
            raise ValueError(f"{name}={text!r}: {lang!r} is not a language code")
    return languages


# ---- the domains ------------------------------------------------------------------------

CandidatesFile = Annotated[str | None, var("ELEX_CANDIDATES_FILE", None,
    description="Registry file to use instead of the built-in one (elex or legacy 2022 format); for the archive import, the registry that matches the old files (the author's own `candidates.json` may).",
    shown="built-in `elex_assets/data/elections/<election>.json`")]



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
