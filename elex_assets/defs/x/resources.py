"""The X API as a Dagster resource: token, base URL, endpoint and collection settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

import dagster as dg
from pydantic import Field, model_validator

from elex_assets.core.lake import Lake
from elex_assets.core.registry import Registry
from elex_assets.core.x.client import (
    X_RETRY,
    XAuthError,
    XClient,
    is_sandbox_url,
)
from elex_assets.core.x.query import MAX_QUERY_LENGTH, XQuery, build_queries
from elex_assets.core.x.spend import Ceilings, Prices, SpendGuard
from elex_assets.settings import XSettings

SANDBOX_TOKEN = "sandbox"


class XResource(dg.ConfigurableResource):
    """Who to ask (base URL, token), what to ask (queries) and how hard to try.

    Sandbox mode: when ``base_url`` points at this machine (127.0.0.1, ::1,
    localhost) the token is optional; anywhere else a missing ``X_BEARER_TOKEN``
    fails at once.
    """

    bearer_token: str | None = Field(default=None, description="X_BEARER_TOKEN (dg.EnvVar)")
    # Defaults are XSettings' (stated there once); from_settings() hands a loaded model over.
    base_url: str = XSettings.default("base_url")
    endpoint: str = XSettings.default("endpoint")
    max_query_length: int = Field(default=XSettings.default("max_query_length"),
                                  description="0: the endpoint's limit")
    languages: list[str] = list(XSettings.default("languages"))
    include_retweets: bool = XSettings.default("include_retweets")
    min_status: int = XSettings.default("min_status")
    max_posts_per_month: int = Field(default=XSettings.default("max_posts_per_month"),
                                     description="0: no budget")
    page_size: int = Field(default=0, description="0: the endpoint's maximum")
    max_attempts: int = X_RETRY.max_attempts
    backoff_base: float = X_RETRY.backoff_base
    max_rate_limit_wait: float = X_RETRY.max_rate_limit_wait
    price_post_read_usd: float = XSettings.default("price_post_read_usd")
    price_counts_recent_usd: float = XSettings.default("price_counts_recent_usd")
    price_counts_all_usd: float = XSettings.default("price_counts_all_usd")
    # Unset: XSettings' default for base_url (live: a $5 day; the sandbox: no ceiling).
    posts_plan: str | None = Field(default=None, description="X_POSTS_PLAN: full, sample or off")
    sample_posts_per_day: int = Field(default=XSettings.default("sample_posts_per_day"),
                                      description="X_SAMPLE_POSTS_PER_DAY")
    max_usd_per_day: float | None = Field(default=None, description="X_MAX_USD_PER_DAY; 0: none")
    max_usd_per_month: float | None = Field(default=None, description="X_MAX_USD_PER_MONTH; 0: none")

    @model_validator(mode="before")
    @classmethod
    def _defaults_by_base_url(cls, data: object) -> object:
        if not isinstance(data, dict):
            return data
        base_url = data.get("base_url") or XSettings.default("base_url")
        missing = {k: v for k, v in XSettings.url_defaults(str(base_url)).items()
                   if data.get(k) is None}
        return {**data, **missing} if missing else data

    @classmethod
    def from_settings(cls, settings: XSettings, **fields: object) -> XResource:
        """The resource from loaded settings; the token arrives through ``dg.EnvVar``."""
        token = dg.EnvVar("X_BEARER_TOKEN") if settings.token_set else None
        return cls(**{"bearer_token": token, **settings.resource_fields(), **fields})

    @property
    def sandbox(self) -> bool:
        return is_sandbox_url(self.base_url)

    def client(self, on_retry: Callable[[str, int], None] | None = None) -> XClient:
        token = self.bearer_token
        if not token:
            if not self.sandbox:
                raise XAuthError(
                    "X_BEARER_TOKEN is not set: export the app bearer token of your X app "
                    f"(X_API_BASE_URL={self.base_url} is not a sandbox on this machine)"
                )
            token = SANDBOX_TOKEN
        policy = replace(
            X_RETRY,
            max_attempts=self.max_attempts,
            backoff_base=self.backoff_base,
            max_rate_limit_wait=self.max_rate_limit_wait,
        )
        return XClient(token, self.base_url, policy, on_retry=on_retry)

    def prices(self) -> Prices:
        return Prices(self.price_post_read_usd, self.price_counts_recent_usd,
                      self.price_counts_all_usd)

    def spend_guard(self, lake: Lake, run_id: str, label: str = "",
                    clock: Callable[[], datetime] | None = None) -> SpendGuard:
        """The dollar guard of one run (its own ledger file in the lake); ``clock`` fixes
        "now" (``elex doctor`` passes its own)."""
        return SpendGuard(
            lake, run_id, prices=self.prices(),
            ceilings=Ceilings(self.max_usd_per_day or None, self.max_usd_per_month or None),
            sandbox=self.sandbox, label=label, **({"clock": clock} if clock else {}),
        )

    def queries(self, registry: Registry) -> list[XQuery]:
        limit = self.max_query_length or MAX_QUERY_LENGTH.get(self.endpoint, 512)
        return build_queries(
            registry.selected(self.min_status),
            max_length=limit,
            languages=self.languages,
            include_retweets=self.include_retweets,
        )
