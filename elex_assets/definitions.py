"""The one place that assembles elex: assets, resources, jobs, schedules, sensors.

Resources are picked from the environment (see README, "Configuration"): the
same code runs the demo on a local folder and production on S3.
"""

from __future__ import annotations

import dagster as dg

from elex_assets.assets.registry import candidates
from elex_assets.assets.trends import trends_assets, trends_hourly_schedule, trends_job
from elex_assets.core.registry import load_registry
from elex_assets.resources import LakeResource, RegistryResource, TrendsResource
from elex_assets.settings import Settings, TrendsSettings

settings = Settings.from_env()
trends_settings = TrendsSettings.from_env()
election = load_registry(settings.election, settings.candidates_file).election

resources = {
    "lake": LakeResource(url=settings.lake_url),
    "registry": RegistryResource(
        election=settings.election, candidates_file=settings.candidates_file
    ),
    "trends": TrendsResource(
        base_url=trends_settings.base_url,
        anchor=trends_settings.anchor,
        min_interval_seconds=trends_settings.min_interval_seconds,
        max_attempts=trends_settings.max_attempts,
        backoff_max_seconds=trends_settings.backoff_max_seconds,
        timeout_seconds=trends_settings.timeout_seconds,
    ),
}

registry_job = dg.define_asset_job("registry_job", selection=[candidates])
trends = trends_assets(election)
trends_refresh = trends_job(election)

defs = dg.Definitions(
    assets=[candidates, *trends],
    jobs=[registry_job, trends_refresh],
    schedules=[trends_hourly_schedule(trends_refresh, election)],
    resources=resources,
)
