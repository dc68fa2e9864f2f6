"""Dagster resources: the lake and the registry, shared by every domain."""

from elex_assets.resources.lake import LakeResource
from elex_assets.resources.registry import RegistryResource

__all__ = ["LakeResource", "RegistryResource"]
