"""The Kaggle dataset: owner, slug, content policy, publishing."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ValidationInfo, field_validator

from elex_assets.core.kaggle.export import DEFAULT_CONTENT_POLICY
from elex_assets.settings.base import (
    FLAG,
    IS_SET,
    EnvModel,
    _url,
    var,
)


class KaggleSettings(EnvModel):
    """Kaggle export and publishing (docs/dataset.md); the key goes through ``dg.EnvVar``."""

    dataset: str | None = var("KAGGLE_DATASET", None,
        description="Kaggle dataset id, `owner/slug` (slug 6-50 characters).",
        shown="unset: the folder is built, not published")
    username_set: Annotated[bool, IS_SET] = var("KAGGLE_USERNAME", False,
        description="Kaggle API user name (read through `dg.EnvVar`).",
        shown="unset: not published")
    key_set: Annotated[bool, IS_SET] = var("KAGGLE_KEY", False,
        description="**Secret**: the Kaggle API key (read through `dg.EnvVar`).",
        shown="unset: not published")
    publish: Annotated[bool, FLAG] = var("ELEX_KAGGLE_PUBLISH", False,
        description="`true` to publish the dataset with the Kaggle API.")
    content_policy: str = var("ELEX_KAGGLE_CONTENT", DEFAULT_CONTENT_POLICY,
        description="Posts export content: `ids` (ids, times, candidates, metrics) or `full` (text and every column); see [the dataset](dataset.md).")
    parquet_twin: Annotated[bool, FLAG] = var("ELEX_KAGGLE_PARQUET", False,
        description="`true` to write a parquet twin beside each weekly csv.gz.")
    private: Annotated[bool, FLAG] = var("ELEX_KAGGLE_PRIVATE", False,
        description="`true` to create the dataset private.",
        shown="`false` (public)")
    api_endpoint: str | None = var("KAGGLE_API_ENDPOINT", None,
        description="Another Kaggle API host (a fake one in tests).",
        shown="the real API")

    @field_validator("dataset", mode="before")
    @classmethod
    def _dataset(cls, value: Any, info: ValidationInfo) -> str | None:
        text = cls._raw(value, info)[1]
        if text:
            from elex_assets.core.kaggle.metadata import check_dataset_id

            check_dataset_id(text)
        return text

    @field_validator("content_policy", mode="before")
    @classmethod
    def _policy(cls, value: Any, info: ValidationInfo) -> str:
        text = cls._raw(value, info)[1] or cls.default("content_policy")
        if text not in ("ids", "full"):
            raise ValueError(f"ELEX_KAGGLE_CONTENT={text!r}: expected ids or full")
        return text

    @field_validator("api_endpoint", mode="before")
    @classmethod
    def _endpoint(cls, value: Any, info: ValidationInfo) -> str | None:
        name, text = cls._raw(value, info)
        return _url(name, text) if text else None

    def resource_fields(self, posts_plan: str) -> dict[str, Any]:
        """``KaggleResource``'s fields but the credentials (``dg.EnvVar``)."""
        return {"dataset": self.dataset, "publish": self.publish,
                "content_policy": self.content_policy, "parquet_twin": self.parquet_twin,
                "public": not self.private, "api_endpoint": self.api_endpoint,
                "posts_plan": posts_plan}
