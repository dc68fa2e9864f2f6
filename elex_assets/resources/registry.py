"""The candidate registry of the configured election, as a Dagster resource."""

from __future__ import annotations

import dagster as dg

from elex_assets.core.registry import Registry, load_registry


class RegistryResource(dg.ConfigurableResource):
    """Which election, and optionally which registry file (elex or legacy format)."""

    election: str
    candidates_file: str | None = None

    def load(self) -> Registry:
        return load_registry(self.election, self.candidates_file)
