"""The one place that assembles elex: assets, resources, jobs, schedules, sensors.

Resources are picked from the environment (see README, "Configuration"): the
same code runs the demo on a local folder and production on S3.
"""

from __future__ import annotations

import dagster as dg

from elex_assets.assets.registry import candidates
from elex_assets.core.registry import load_registry
from elex_assets.monitoring import build_monitoring
from elex_assets.resources import LakeResource, RegistryResource
from elex_assets.settings import Settings

settings = Settings.from_env()

resources = {
    "lake": LakeResource(url=settings.lake_url),
    "registry": RegistryResource(
        election=settings.election, candidates_file=settings.candidates_file
    ),
}

registry_job = dg.define_asset_job("registry_job", selection=[candidates])

# Freshness policies, checks and alerts attach to whichever collecting assets are listed.
monitoring = build_monitoring(
    load_registry(settings.election, settings.candidates_file).election, [candidates]
)

defs = dg.Definitions(
    assets=monitoring.assets,
    asset_checks=monitoring.checks,
    jobs=[registry_job, *monitoring.jobs],
    schedules=monitoring.schedules,
    sensors=monitoring.sensors,
    resources=resources,
)
