"""Wikipedia pageviews: where Wikimedia is, who asks (User-Agent contact), which languages."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ValidationInfo, field_validator
from pydantic_settings import NoDecode

from elex_assets.core.wiki.api import DEFAULT_BASE_URL as WIKI_DEFAULT_BASE_URL
from elex_assets.core.wiki.api import MAX_CONCURRENT
from elex_assets.core.wiki.collect import DEFAULT_LANGUAGES
from elex_assets.core.wiki.titles import LANG_RE
from elex_assets.core.x.client import is_sandbox_url
from elex_assets.settings.base import Range, _languages, _Numbers, _url, var

SANDBOX_CONTACT = "elex-sandbox@example.invalid"


class WikiSettings(_Numbers):
    """Wikipedia pageviews (docs/changes/wikipedia.md): free, no account; Wikimedia requires
    a User-Agent naming the tool and a way to reach its operator."""

    base_url: str = var(
        "WIKIMEDIA_BASE_URL", WIKI_DEFAULT_BASE_URL,
        description="Wikimedia REST API root (the pageviews routes live under it); a loopback "
        "URL is the sandbox")
    contact: str | None = var(
        "WIKIMEDIA_CONTACT", None,
        description="An e-mail address or URL where Wikimedia can reach the operator; sent in "
        "the User-Agent (required for the real API, Wikimedia refuses anonymous clients)")
    languages: Annotated[tuple[str, ...], NoDecode] = var(
        "WIKIMEDIA_LANGUAGES", DEFAULT_LANGUAGES,
        description="Wikipedia languages collected, comma-separated (a candidate's article in "
        "each, from the registry's wikipedia titles)")
    max_concurrent: Annotated[int, Range(1, MAX_CONCURRENT, True)] = var(
        "WIKIMEDIA_MAX_CONCURRENT", MAX_CONCURRENT,
        description="Requests in flight at once (Wikimedia allows at most 3)")

    @field_validator("base_url", mode="before")
    @classmethod
    def _base_url(cls, value: Any, info: ValidationInfo) -> str:
        name, text = cls._raw(value, info)
        return _url(name, text) if text else cls.default("base_url")

    @field_validator("contact", mode="before")
    @classmethod
    def _contact(cls, value: Any, info: ValidationInfo) -> str | None:
        name, text = cls._raw(value, info)
        if text is None:
            return None
        if any(c in text for c in "()\r\n") or len(text) > 200:
            raise ValueError(f"{name}={text!r}: expected an e-mail address or URL "
                             "(no parentheses or line breaks; it goes in the User-Agent)")
        if "@" not in text and not text.startswith(("http://", "https://")):
            raise ValueError(f"{name}={text!r}: expected an e-mail address or an http(s) URL")
        return text

    @field_validator("languages", mode="before")
    @classmethod
    def _languages(cls, value: Any, info: ValidationInfo) -> tuple[str, ...]:
        if isinstance(value, list | tuple):
            return tuple(value)
        name, _ = cls._raw(value, info)
        languages = _languages(value)
        for lang in languages:
            if not LANG_RE.match(lang):
                raise ValueError(f"{name}={value!r}: {lang!r} is not a Wikipedia language code")
        return languages or DEFAULT_LANGUAGES

    @property
    def sandbox(self) -> bool:
        return is_sandbox_url(self.base_url)

    def resource_fields(self) -> dict[str, Any]:
        return {"base_url": self.base_url, "contact": self.contact,
                "languages": list(self.languages), "max_concurrent": self.max_concurrent}
