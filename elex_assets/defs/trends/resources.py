"""Google Trends as a Dagster resource: backend, base URL, politeness and cool-down."""

from __future__ import annotations

from collections.abc import Callable

import dagster as dg

from elex_assets.core.lake import Lake
from elex_assets.core.trends.client import TRENDS_RETRY, Politeness, TrendsClient
from elex_assets.core.trends.official import OfficialClient, load_token
from elex_assets.core.trends.official_budget import RequestBudget
from elex_assets.core.trends.state import CooldownPolicy, TrendsGate
from elex_assets.settings import TrendsSettings

_default = TrendsSettings.default


class TrendsResource(dg.ConfigurableResource):
    """Where Trends requests go (``TRENDS_BASE_URL``) and how gently they are sent."""

    # Defaults are TrendsSettings' (stated there once); from_settings() hands a model over.
    base_url: str = _default("base_url")
    anchor: str = _default("anchor")
    min_interval_seconds: float = _default("min_interval_seconds")
    max_attempts: int = _default("max_attempts")
    backoff_base_seconds: float = TRENDS_RETRY.backoff_base
    backoff_max_seconds: float = _default("backoff_max_seconds")
    timeout_seconds: float = _default("timeout_seconds")
    cooldown_minutes: float = _default("cooldown_minutes")
    cooldown_max_minutes: float = _default("cooldown_max_minutes")
    backend: str = _default("backend")
    official_base_url: str = _default("official_base_url")
    credentials_file: str | None = _default("credentials_file")
    second_anchor: str | None = _default("second_anchor")
    official_poll_seconds: float = OfficialClient.poll_interval
    official_max_requests_per_day: int = _default("official_max_requests_per_day")

    @classmethod
    def from_settings(cls, settings: TrendsSettings, **fields: object) -> TrendsResource:
        return cls(**{**settings.resource_fields(), **fields})

    def smaller_anchors(self) -> list[str]:
        """``TRENDS_SECOND_ANCHOR``: smaller anchors for small candidates, most popular first."""
        return [a.strip() for a in (self.second_anchor or "").split(",") if a.strip()]

    def politeness(self) -> Politeness:
        return Politeness(
            min_interval=self.min_interval_seconds,
            max_attempts=self.max_attempts,
            backoff_base=self.backoff_base_seconds,
            backoff_max=self.backoff_max_seconds,
            timeout=self.timeout_seconds,
        )

    def gate(
        self, lake: Lake, official: bool = False, log: Callable[[str], None] | None = None
    ) -> TrendsGate:
        """The lake-wide cool-down and request interval every process shares (one per API);
        ``log`` hears about a damaged or absurd cool-down file (named) being repaired."""
        policy = CooldownPolicy.minutes(self.cooldown_minutes, self.cooldown_max_minutes)
        return TrendsGate(lake, policy, source="trends_official" if official else "trends",
                          log=log or (lambda _message: None))

    def client(
        self, area: str, log: Callable[[str], None] | None = None, gate: TrendsGate | None = None
    ) -> TrendsClient:
        client = TrendsClient.connect(area, self.base_url, self.politeness(), log=log)
        client.transport.gate = gate
        return client


    def official_budget(self, lake: Lake) -> RequestBudget:
        """The daily request budget (``TRENDS_OFFICIAL_MAX_REQUESTS_PER_DAY``), kept in the lake."""
        return RequestBudget(lake, self.official_max_requests_per_day)

    def official_client(
        self, area: str, gate: TrendsGate | None = None, budget: RequestBudget | None = None
    ) -> OfficialClient:
        """The official Trends API (alpha) client; credentials only needed off loopback."""
        return OfficialClient(
            area,
            base_url=self.official_base_url,
            token=load_token(self.credentials_file, self.official_base_url),
            gate=gate,
            budget=budget,
            min_interval=self.min_interval_seconds,
            timeout=self.timeout_seconds,
            poll_interval=self.official_poll_seconds,
        )
