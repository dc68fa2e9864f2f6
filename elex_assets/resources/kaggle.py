"""Kaggle export and publishing settings, as a Dagster resource.

The key arrives through ``dg.EnvVar`` only: it never enters run config or logs.
"""

from __future__ import annotations

import os

import dagster as dg

from elex_assets.core.export import DEFAULT_CONTENT_POLICY, check_policy
from elex_assets.core.kaggle_dataset import PublishSettings
from elex_assets.settings import env_flag

PLACEHOLDER_SLUG = "french-election-x-and-trends"


class KaggleResource(dg.ConfigurableResource):
    """Where and how the weekly dataset is exported and published."""

    dataset: str | None = None  # owner/slug
    username: str | None = None
    key: str | None = None
    publish: bool = False
    content_policy: str = DEFAULT_CONTENT_POLICY  # full | ids
    parquet_twin: bool = False
    public: bool = True
    api_endpoint: str | None = None  # a fake Kaggle in tests; default the real API
    posts_plan: str = "full"  # X_POSTS_PLAN, stated in the dataset's description

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


def kaggle_resource_from_env() -> KaggleResource:
    """Build the resource from KAGGLE_* and ELEX_KAGGLE_* variables (see README)."""
    policy = os.environ.get("ELEX_KAGGLE_CONTENT", "").strip() or DEFAULT_CONTENT_POLICY
    return KaggleResource(
        dataset=os.environ.get("KAGGLE_DATASET") or None,
        username=dg.EnvVar("KAGGLE_USERNAME") if os.environ.get("KAGGLE_USERNAME") else None,
        key=dg.EnvVar("KAGGLE_KEY") if os.environ.get("KAGGLE_KEY") else None,
        publish=env_flag("ELEX_KAGGLE_PUBLISH"),
        content_policy=check_policy(policy),
        parquet_twin=env_flag("ELEX_KAGGLE_PARQUET"),
        public=not env_flag("ELEX_KAGGLE_PRIVATE"),
        api_endpoint=os.environ.get("KAGGLE_API_ENDPOINT") or None,
        posts_plan=(os.environ.get("X_POSTS_PLAN") or "full").strip(),
    )
