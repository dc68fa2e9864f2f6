"""The X API as a Dagster resource: token, base URL, endpoint and collection settings."""

from __future__ import annotations

from collections.abc import Callable

import dagster as dg
from pydantic import Field

from elex_assets.core.lake import Lake
from elex_assets.core.registry import Registry
from elex_assets.core.x_client import (
    DEFAULT_BASE_URL,
    RetryPolicy,
    XAuthError,
    XClient,
    is_sandbox_url,
)
from elex_assets.core.x_query import MAX_QUERY_LENGTH, XQuery, build_queries
from elex_assets.core.x_spend import Ceilings, Prices, SpendGuard

SANDBOX_TOKEN = "sandbox"


class XResource(dg.ConfigurableResource):
    """Who to ask (base URL, token), what to ask (queries) and how hard to try.

    Sandbox mode: when ``base_url`` points at this machine (127.0.0.1, ::1,
    localhost) the token is optional; anywhere else a missing ``X_BEARER_TOKEN``
    fails at once.
    """

    bearer_token: str | None = Field(default=None, description="X_BEARER_TOKEN (dg.EnvVar)")
    base_url: str = DEFAULT_BASE_URL
    endpoint: str = "recent"
    max_query_length: int = Field(default=0, description="0: the endpoint's limit")
    languages: list[str] = ["fr", "en"]
    include_retweets: bool = True
    min_status: int = 0
    max_posts_per_month: int = Field(default=0, description="0: no budget")
    page_size: int = Field(default=0, description="0: the endpoint's maximum")
    max_attempts: int = 6
    backoff_base: float = 2.0
    max_rate_limit_wait: float = 960.0
    price_post_read_usd: float = 0.005
    price_counts_recent_usd: float = 0.005
    price_counts_all_usd: float = 0.01
    posts_plan: str = Field(default="full", description="X_POSTS_PLAN: full, sample or off")
    sample_posts_per_day: int = Field(default=400, description="X_SAMPLE_POSTS_PER_DAY")
    max_usd_per_day: float = Field(default=0.0, description="X_MAX_USD_PER_DAY; 0: none")
    max_usd_per_month: float = Field(default=0.0, description="X_MAX_USD_PER_MONTH; 0: none")

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
        policy = RetryPolicy(
            max_attempts=self.max_attempts,
            backoff_base=self.backoff_base,
            max_rate_limit_wait=self.max_rate_limit_wait,
        )
        return XClient(token, self.base_url, policy, on_retry=on_retry)

    def prices(self) -> Prices:
        return Prices(self.price_post_read_usd, self.price_counts_recent_usd,
                      self.price_counts_all_usd)

    def spend_guard(self, lake: Lake, run_id: str, label: str = "") -> SpendGuard:
        """The dollar guard of one run (its own ledger file in the lake)."""
        return SpendGuard(
            lake, run_id, prices=self.prices(),
            ceilings=Ceilings(self.max_usd_per_day or None, self.max_usd_per_month or None),
            sandbox=self.sandbox, label=label,
        )

    def queries(self, registry: Registry) -> list[XQuery]:
        limit = self.max_query_length or MAX_QUERY_LENGTH.get(self.endpoint, 512)
        return build_queries(
            registry.selected(self.min_status),
            max_length=limit,
            languages=self.languages,
            include_retweets=self.include_retweets,
        )
