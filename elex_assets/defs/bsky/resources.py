"""Bluesky as a Dagster resource: credentials (dg.EnvVar), base URL and collection settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import dagster as dg
from pydantic import Field

from elex_assets.core.bsky.api import BSKY_RETRY, BskyPolicy
from elex_assets.core.bsky.query import BskyQuery, build_queries
from elex_assets.core.bsky.session import LakeSessionStore, LoginLedger
from elex_assets.core.lake import Lake
from elex_assets.core.registry import Registry
from elex_assets.core.x.client import is_sandbox_url
from elex_assets.settings import BskySettings, XSettings

if TYPE_CHECKING:
    from elex_assets.core.bsky.client import BskyClient


class BskyResource(dg.ConfigurableResource):
    """Who to ask and how. Sandbox mode: a loopback ``base_url`` needs no credentials;
    anywhere else a missing ``BSKY_HANDLE`` / ``BSKY_APP_PASSWORD`` fails at once."""

    handle: str | None = Field(default=None, description="BSKY_HANDLE (dg.EnvVar)")
    app_password: str | None = Field(default=None, description="BSKY_APP_PASSWORD (dg.EnvVar)")
    # Defaults are BskySettings' (stated there once); from_settings() hands a model over.
    base_url: str = BskySettings.default("base_url")
    languages: list[str] = list(BskySettings.default("languages"))
    window_minutes: int = BskySettings.default("window_minutes")
    max_logins_per_day: int = BskySettings.default("max_logins_per_day")
    min_status: int = XSettings.default("min_status")  # X_MIN_STATUS selects for both
    max_attempts: int = BSKY_RETRY.max_attempts
    max_rate_limit_wait: float = BSKY_RETRY.max_rate_limit_wait

    @classmethod
    def from_settings(cls, settings: BskySettings, min_status: int,
                      **fields: object) -> BskyResource:
        """Credentials wired only when set: a loopback ``BSKY_BASE_URL`` (the sandbox) needs
        no account; elsewhere the resource fails at once naming the missing variable."""
        wired = settings.credentials_set
        return cls(**{"handle": dg.EnvVar("BSKY_HANDLE") if wired else None,
                      "app_password": dg.EnvVar("BSKY_APP_PASSWORD") if wired else None,
                      **settings.resource_fields(), "min_status": min_status, **fields})

    @property
    def sandbox(self) -> bool:
        return is_sandbox_url(self.base_url)

    def client(self, lake: Lake | None = None,
               on_retry: Callable[[str, int], None] | None = None) -> BskyClient:
        """A client; with ``lake``, the session is kept there (encrypted) between runs and
        every login is counted there against ``max_logins_per_day``."""
        from elex_assets.core.bsky.client import BskyClient  # atproto: only runs that call it

        policy = BskyPolicy(max_attempts=self.max_attempts,
                            max_rate_limit_wait=self.max_rate_limit_wait)
        sessions = ((lambda h, p: LakeSessionStore(lake, h, p, self.base_url))
                    if lake is not None else None)
        logins = ((lambda h: LoginLedger(lake, h, self.base_url, self.max_logins_per_day))
                  if lake is not None else None)
        return BskyClient(self.handle, self.app_password, self.base_url, policy,
                          on_retry=on_retry, sessions=sessions, logins=logins)

    def queries(self, registry: Registry) -> list[BskyQuery]:
        return build_queries(registry.selected(self.min_status), self.languages)
