"""Dagster resources: thin configurable wrappers around the pure core."""

from elex_assets.resources.lake import LakeResource
from elex_assets.resources.registry import RegistryResource
from elex_assets.resources.trends import TrendsResource

__all__ = ["LakeResource", "RegistryResource", "TrendsResource"]
