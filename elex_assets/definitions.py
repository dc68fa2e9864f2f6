"""The one place that assembles elex: assets, resources, jobs, schedules, sensors.

Resources are picked from the environment (see README, "Configuration"): the
same code runs the demo on a local folder and production on S3.
"""

from __future__ import annotations

import dagster as dg

from elex_assets.assets.archive import archive_assets
from elex_assets.assets.bsky import build_bsky_assets, build_bsky_automation
from elex_assets.assets.kaggle import (
    kaggle_automation_sensor,
    kaggle_dataset_asset,
    kaggle_export_assets,
)
from elex_assets.assets.registry import candidates
from elex_assets.assets.trends import trends_assets, trends_hourly_schedule, trends_job
from elex_assets.assets.x import x_assets_for
from elex_assets.assets.x_compliance import x_compliance_asset, x_compliance_schedule
from elex_assets.assets.x_counts import build_counts_automation, tweet_counts_for
from elex_assets.core.registry import load_registry
from elex_assets.executor import stoppable_in_process_executor
from elex_assets.monitoring import with_monitoring
from elex_assets.resources import LakeResource, RegistryResource, TrendsResource
from elex_assets.resources.bsky import BskyResource
from elex_assets.resources.kaggle import kaggle_resource_from_env
from elex_assets.resources.x import XResource
from elex_assets.sensors.x import build_x_automation
from elex_assets.settings import (
    BskySettings,
    LeaseSettings,
    Settings,
    TrendsSettings,
    XSettings,
    validate_env,
)

validate_env()  # every setting range-checked now, each error naming its variable
settings = Settings.from_env()
x_settings = XSettings.from_env()
trends_settings = TrendsSettings.from_env()
lease_settings = LeaseSettings.from_env()
election = load_registry(settings.election, settings.candidates_file).election

raw_tweets, tweets = x_assets_for(election)
x_jobs, x_schedules, x_sensors = build_x_automation(raw_tweets, tweets)
tweet_counts = tweet_counts_for(election)
counts_job, counts_schedule = build_counts_automation(tweet_counts)
kaggle_exports = kaggle_export_assets(election)
bsky_settings = BskySettings.from_env()
bsky_on = bsky_settings.credentials_set or BskyResource(base_url=bsky_settings.base_url).sandbox
raw_bsky_posts, bsky_posts, bsky_compliance, kaggle_bsky_posts = build_bsky_assets(
    election, monitored=bsky_on)
bsky_jobs, bsky_schedules = build_bsky_automation(
    raw_bsky_posts, bsky_posts, bsky_compliance, running=bsky_on)
kaggle_exports.append(kaggle_bsky_posts)
x_compliance = x_compliance_asset(election)
x_compliance_job, x_compliance_weekly = x_compliance_schedule(x_compliance)
kaggle_assets = [*kaggle_exports, kaggle_dataset_asset(kaggle_exports, [x_compliance])]

resources = {
    "lake": LakeResource(
        url=settings.lake_url,
        lease_ttl_seconds=lease_settings.ttl_seconds,
        lease_wait_seconds=lease_settings.wait_seconds,
    ),
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
        price_post_read_usd=x_settings.price_post_read_usd,
        price_counts_recent_usd=x_settings.price_counts_recent_usd,
        price_counts_all_usd=x_settings.price_counts_all_usd,
        max_usd_per_day=x_settings.max_usd_per_day,
        max_usd_per_month=x_settings.max_usd_per_month,
        posts_plan=x_settings.posts_plan,
        sample_posts_per_day=x_settings.sample_posts_per_day,
    ),
    "kaggle": kaggle_resource_from_env(),
    "bsky": BskyResource(
        # Only wired when set: a loopback BSKY_BASE_URL (the sandbox) needs no account;
        # elsewhere BskyResource fails at once naming the missing variable.
        handle=dg.EnvVar("BSKY_HANDLE") if bsky_settings.credentials_set else None,
        app_password=dg.EnvVar("BSKY_APP_PASSWORD") if bsky_settings.credentials_set else None,
        base_url=bsky_settings.base_url,
        languages=list(bsky_settings.languages),
        window_minutes=bsky_settings.window_minutes,
        min_status=x_settings.min_status,
    ),
    "trends": TrendsResource(
        base_url=trends_settings.base_url,
        anchor=trends_settings.anchor,
        min_interval_seconds=trends_settings.min_interval_seconds,
        max_attempts=trends_settings.max_attempts,
        backoff_max_seconds=trends_settings.backoff_max_seconds,
        timeout_seconds=trends_settings.timeout_seconds,
        cooldown_minutes=trends_settings.cooldown_minutes,
        cooldown_max_minutes=trends_settings.cooldown_max_minutes,
        backend=trends_settings.backend,
        official_base_url=trends_settings.official_base_url,
        credentials_file=trends_settings.credentials_file,
        second_anchor=trends_settings.second_anchor,
    ),
}

registry_job = dg.define_asset_job("registry_job", selection=[candidates])
trends = trends_assets(election)
trends_refresh = trends_job(election)

defs = dg.Definitions(
    assets=[candidates, raw_tweets, tweets, tweet_counts, *trends, *archive_assets,
            *kaggle_assets, raw_bsky_posts, bsky_posts, bsky_compliance, x_compliance],
    jobs=[registry_job, *x_jobs, counts_job, trends_refresh, *bsky_jobs, x_compliance_job],
    schedules=[*x_schedules, counts_schedule, trends_hourly_schedule(trends_refresh, election),
               *bsky_schedules, x_compliance_weekly],
    sensors=[*x_sensors, kaggle_automation_sensor()],
    resources=resources,
    # One process per run, steps in order: each step of the default multiprocess
    # executor re-imports Dagster and these definitions (~4 s on 2 cores), which
    # dominated the 5-minute refresh. The work is I/O-bound and the API pools
    # serialise steps anyway, so in-process loses no useful parallelism.
    # (Dagster's in-process executor, made to stop within seconds of SIGTERM even
    # while a step waits for a pool slot: elex_assets/executor.py.)
    executor=stoppable_in_process_executor,
)

# Freshness policies, checks and the alert sensor, on whichever collecting assets `defs` holds.
defs = with_monitoring(defs, election)
