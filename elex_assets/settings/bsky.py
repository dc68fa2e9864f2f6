"""Bluesky: base URL, languages, windows, whether an account is set."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ValidationInfo, field_validator
from pydantic_settings import NoDecode

from elex_assets.core.bsky.api import DEFAULT_BASE_URL as BSKY_DEFAULT_BASE_URL
from elex_assets.settings.base import (
    IS_SET,
    Range,
    _languages,
    _Numbers,
    _url,
    var,
)


class BskySettings(_Numbers):
    """Bluesky collection (docs/sources/bluesky.md); the handle and app password are
    read by ``dg.EnvVar`` (``BSKY_HANDLE``, ``BSKY_APP_PASSWORD``), never here."""

    base_url: str = var("BSKY_BASE_URL", BSKY_DEFAULT_BASE_URL,
        description="Bluesky service (PDS) URL; a loopback URL is *sandbox mode* (no account needed).")
    languages: Annotated[tuple[str, ...], NoDecode] = var("BSKY_LANGUAGES", (),
        description="Comma-separated languages; each search term is asked once per language (searchPosts takes one).",
        shown="empty: every language, one query per term")
    window_minutes: Annotated[int, Range(1, 1440, True)] = var("BSKY_WINDOW_MINUTES", 360,
        description="Size of the time windows a day is cut into (1-1440); a window the search cursor cannot finish is split further.")
    max_logins_per_day: Annotated[int, Range(1, 10, True)] = var(
        "BSKY_MAX_LOGINS_PER_DAY", 8, description=
        "Logins (createSession) elex may make in any 24 hours for the account; Bluesky "
        "allows 10 a day per account, so keep some for logging in by hand. Sessions are "
        "kept in the lake and refreshed, so a run rarely logs in.")
    handle_set: Annotated[bool, IS_SET] = var("BSKY_HANDLE", False,
        description="The Bluesky account elex logs in with (e.g. `me.bsky.social`); read through `dg.EnvVar`; required unless `BSKY_BASE_URL` is a sandbox on this machine.",
        shown="none")
    app_password_set: Annotated[bool, IS_SET] = var("BSKY_APP_PASSWORD", False,
        description="**Secret**: an app password of that account (Settings > Privacy and security > App passwords), never the main password.",
        shown="none")

    @field_validator("base_url", mode="before")
    @classmethod
    def _base_url(cls, value: Any, info: ValidationInfo) -> str:
        name, text = cls._raw(value, info)
        return _url(name, text) if text else cls.default("base_url")

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
                "window_minutes": self.window_minutes,
                "max_logins_per_day": self.max_logins_per_day}
