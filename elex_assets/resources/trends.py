"""Google Trends as a Dagster resource: base URL and politeness, from configuration."""

from __future__ import annotations

from collections.abc import Callable

import dagster as dg

from elex_assets.core.trends_client import DEFAULT_BASE_URL, Politeness, TrendsClient


class TrendsResource(dg.ConfigurableResource):
    """Where Trends requests go (``TRENDS_BASE_URL``) and how gently they are sent."""

    base_url: str = DEFAULT_BASE_URL
    anchor: str = "Emmanuel Macron"
    min_interval_seconds: float = 5.0
    max_attempts: int = 6
    backoff_base_seconds: float = 2.0
    backoff_max_seconds: float = 300.0
    timeout_seconds: float = 30.0

    def politeness(self) -> Politeness:
        return Politeness(
            min_interval=self.min_interval_seconds,
            max_attempts=self.max_attempts,
            backoff_base=self.backoff_base_seconds,
            backoff_max=self.backoff_max_seconds,
            timeout=self.timeout_seconds,
        )

    def client(self, area: str, log: Callable[[str], None] | None = None) -> TrendsClient:
        return TrendsClient.connect(area, self.base_url, self.politeness(), log=log)
