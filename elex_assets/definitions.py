"""The one place that assembles elex: assets, resources, jobs, schedules, sensors.

Resources are picked from the environment (see README, "Configuration"): the
same code runs the demo on a local folder and production on S3.
"""

from __future__ import annotations

import dagster as dg

from elex_assets.assets.archive import archive_assets
from elex_assets.assets.kaggle import (
    kaggle_automation_sensor,
    kaggle_dataset_asset,
    kaggle_export_assets,
)
from elex_assets.assets.registry import candidates
from elex_assets.assets.trends import trends_assets, trends_hourly_schedule, trends_job
from elex_assets.assets.x import x_assets_for
from elex_assets.assets.x_compliance import x_compliance_asset, x_compliance_schedule
from elex_assets.core.registry import load_registry
from elex_assets.monitoring import with_monitoring
from elex_assets.resources import LakeResource, RegistryResource, TrendsResource
from elex_assets.resources.kaggle import kaggle_resource_from_env
from elex_assets.resources.x import XResource
from elex_assets.sensors.x import build_x_automation
from elex_assets.settings import Settings, TrendsSettings, XSettings

settings = Settings.from_env()
x_settings = XSettings.from_env()
trends_settings = TrendsSettings.from_env()
election = load_registry(settings.election, settings.candidates_file).election

raw_tweets, tweets = x_assets_for(election)
x_jobs, x_schedules, x_sensors = build_x_automation(raw_tweets, tweets)
kaggle_exports = kaggle_export_assets(election)
x_compliance = x_compliance_asset(election)
x_compliance_job, x_compliance_weekly = x_compliance_schedule(x_compliance)
kaggle_assets = [*kaggle_exports, kaggle_dataset_asset(kaggle_exports, [x_compliance])]

resources = {
    "lake": LakeResource(url=settings.lake_url),
    "registry": RegistryResource(
        election=settings.election, candidates_file=settings.candidates_file
    ),
    "x": XResource(
        # Only wired when set, so the sandbox runs without it; XResource fails at once
        # naming X_BEARER_TOKEN when it is missing and the base URL is not a sandbox.
        bearer_token=dg.EnvVar("X_BEARER_TOKEN") if x_settings.token_set else None,
        base_url=x_settings.base_url,
        endpoint=x_settings.endpoint,
        max_query_length=x_settings.max_query_length,
        languages=list(x_settings.languages),
        include_retweets=x_settings.include_retweets,
        min_status=x_settings.min_status,
        max_posts_per_month=x_settings.max_posts_per_month,
    ),
    "kaggle": kaggle_resource_from_env(),
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
    assets=[candidates, raw_tweets, tweets, *trends, *archive_assets, *kaggle_assets, x_compliance],
    jobs=[registry_job, *x_jobs, trends_refresh, x_compliance_job],
    schedules=[*x_schedules, trends_hourly_schedule(trends_refresh, election), x_compliance_weekly],
    sensors=[*x_sensors, kaggle_automation_sensor()],
    resources=resources,
    # One process per run, steps in order: each step of the default multiprocess
    # executor re-imports Dagster and these definitions (~4 s on 2 cores), which
    # dominated the 5-minute refresh. The work is I/O-bound and the API pools
    # serialise steps anyway, so in-process loses no useful parallelism.
    executor=dg.in_process_executor,
)

# Freshness policies, checks and the alert sensor, on whichever collecting assets `defs` holds.
defs = with_monitoring(defs, election)
