"""Wikimedia as a Dagster resource: where it is, the contact the User-Agent names, languages."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import dagster as dg

from elex_assets.core.registry import Registry
from elex_assets.core.wiki.api import WIKI_RETRY, WikimediaError
from elex_assets.core.wiki.collect import Target, build_targets
from elex_assets.core.x.client import is_sandbox_url
from elex_assets.settings import WikiSettings, XSettings
from elex_assets.settings.wiki import SANDBOX_CONTACT

if TYPE_CHECKING:
    from elex_assets.core.wiki.client import WikiClient


class WikiResource(dg.ConfigurableResource):
    """Who asks Wikimedia and how. No account: the User-Agent names elex and the operator's
    contact (``WIKIMEDIA_CONTACT``), required unless ``base_url`` is the loopback sandbox."""

    base_url: str = WikiSettings.default("base_url")
    contact: str | None = None
    languages: list[str] = list(WikiSettings.default("languages"))
    max_concurrent: int = WikiSettings.default("max_concurrent")
    min_status: int = XSettings.default("min_status")  # X_MIN_STATUS selects for every source
    max_attempts: int = WIKI_RETRY.max_attempts
    max_rate_limit_wait: float = WIKI_RETRY.max_rate_limit_wait

    @classmethod
    def from_settings(cls, settings: WikiSettings, min_status: int) -> WikiResource:
        return cls(**settings.resource_fields(), min_status=min_status)

    @property
    def sandbox(self) -> bool:
        return is_sandbox_url(self.base_url)

    def client(self, on_retry: Callable[[str, int], None] | None = None) -> WikiClient:
        from dataclasses import replace

        from elex_assets.core.wiki.client import WikiClient, user_agent

        contact = self.contact or (SANDBOX_CONTACT if self.sandbox else None)
        if not contact:
            raise WikimediaError(
                "WIKIMEDIA_CONTACT is not set: Wikimedia requires a User-Agent with a way to "
                "reach the operator; export WIKIMEDIA_CONTACT=you@example.org (or a URL)")
        policy = replace(WIKI_RETRY, max_attempts=self.max_attempts,
                         max_rate_limit_wait=self.max_rate_limit_wait)
        return WikiClient(user_agent(contact), self.base_url, policy,
                          max_concurrent=self.max_concurrent, on_retry=on_retry)

    def targets(self, registry: Registry) -> list[Target]:
        return build_targets(registry.selected(self.min_status), self.languages)
