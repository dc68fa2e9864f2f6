"""Kaggle export and publishing settings, as a Dagster resource.

The key arrives through ``dg.EnvVar`` only: it never enters run config or logs.
"""

from __future__ import annotations

import dagster as dg

from elex_assets.core.kaggle.dataset import PublishSettings
from elex_assets.core.kaggle.export import check_policy
from elex_assets.settings import KaggleSettings, XSettings

PLACEHOLDER_SLUG = "french-election-x-and-trends"


class KaggleResource(dg.ConfigurableResource):
    """Where and how the weekly dataset is exported and published."""

    # Defaults are KaggleSettings' (stated there once); kaggle_resource_from_env() loads them.
    dataset: str | None = KaggleSettings.default("dataset")  # owner/slug
    username: str | None = None
    key: str | None = None
    publish: bool = KaggleSettings.default("publish")
    content_policy: str = KaggleSettings.default("content_policy")  # full | ids
    parquet_twin: bool = KaggleSettings.default("parquet_twin")
    public: bool = not KaggleSettings.default("private")
    api_endpoint: str | None = KaggleSettings.default("api_endpoint")  # a fake Kaggle in tests
    posts_plan: str = "full"  # X_POSTS_PLAN of the collection, stated in the description

    def policy(self) -> str:
        return check_policy(self.content_policy)

    def dataset_id(self) -> str:
        """The configured id, or a placeholder (the folder is then built, not published)."""
        return self.dataset or f"{self.username or 'owner'}/{PLACEHOLDER_SLUG}"

    def settings(self) -> PublishSettings:
        return PublishSettings(
            dataset_id=self.dataset_id(),
            dataset_configured=bool(self.dataset),
            content_policy=self.policy(),
            enabled=self.publish,
            username=self.username,
            key=self.key,
            public=self.public,
            endpoint=self.api_endpoint,
            posts_plan=self.posts_plan,
        )


def kaggle_resource_from_settings(settings: KaggleSettings, x: XSettings) -> KaggleResource:
    """The resource from loaded settings; the username and key arrive through ``dg.EnvVar``
    (only when set, so a build without them makes the folder and publishes nothing)."""
    return KaggleResource(
        username=dg.EnvVar("KAGGLE_USERNAME") if settings.username_set else None,
        key=dg.EnvVar("KAGGLE_KEY") if settings.key_set else None,
        **settings.resource_fields(posts_plan=x.posts_plan),
    )


def kaggle_resource_from_env() -> KaggleResource:
    """Build the resource from KAGGLE_* and ELEX_KAGGLE_* variables (docs/configuration.md)."""
    return kaggle_resource_from_settings(KaggleSettings.load(), XSettings.load())
