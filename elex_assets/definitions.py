"""The one place that assembles elex: assets, resources, jobs, schedules, sensors.

Resources are built from the settings (``elex_assets.settings``,
docs/configuration.md): the same code runs the demo on a local folder and production on
S3. Nothing is built at import: ``defs`` (``@dg.definitions``) and ``get_defs()``
load the settings when first called.
"""

from __future__ import annotations

import functools

import click  # loaded by dagster already
import dagster as dg

from elex_assets.core.registry import load_registry
from elex_assets.defs.archive import archive_assets
from elex_assets.defs.bsky.assets import build_bsky_assets, build_bsky_automation
from elex_assets.defs.bsky.resources import BskyResource
from elex_assets.defs.kaggle.assets import (
    kaggle_automation_sensor,
    kaggle_dataset_asset,
    kaggle_export_assets,
)
from elex_assets.defs.kaggle.resources import kaggle_resource_from_settings
from elex_assets.defs.registry import candidates
from elex_assets.defs.trends.assets import trends_assets, trends_hourly_schedule, trends_job
from elex_assets.defs.trends.resources import TrendsResource
from elex_assets.defs.wiki.assets import build_wiki_assets, build_wiki_automation
from elex_assets.defs.wiki.resources import WikiResource
from elex_assets.defs.x.assets import x_assets_for
from elex_assets.defs.x.automation import build_x_automation
from elex_assets.defs.x.compliance import x_compliance_asset, x_compliance_schedule
from elex_assets.defs.x.counts import build_counts_automation, tweet_counts_for
from elex_assets.defs.x.resources import XResource
from elex_assets.executor import stoppable_in_process_executor
from elex_assets.monitoring.attach import with_monitoring
from elex_assets.monitoring.run_health import build_run_health_sensor
from elex_assets.monitoring.thresholds import Thresholds
from elex_assets.resources import LakeResource, RegistryResource
from elex_assets.settings import ElexSettings, SettingsError, load_settings


@dg.definitions
def defs() -> dg.Definitions:
    """What Dagster loads (``dagster … -m elex_assets.definitions``, ``workspace.yaml``).

    Built when called, not at import: importing this module reads no environment.
    A refused setting is shown as its one line (``Error: invalid setting: X=...``) by
    the ``dagster`` CLI, not inside a traceback of Dagster's loading code.
    """
    try:
        return get_defs()
    except SettingsError as exc:
        raise SettingsRefused(str(exc)) from None


class SettingsRefused(SettingsError, click.ClickException):
    """A refused setting that is also a click error: under the ``dagster`` CLI, click
    prints its message alone and exits 1; a code server records it as the location's
    load error, as any other."""

    def __init__(self, message: str) -> None:
        click.ClickException.__init__(self, message)
        SettingsError.__init__(self, message)

    def __str__(self) -> str:
        return self.message


@functools.cache
def get_defs() -> dg.Definitions:
    """The definitions from the environment's settings, built once per process."""
    return build_defs(load_settings())


def build_defs(s: ElexSettings) -> dg.Definitions:
    """Every asset, job, schedule, sensor and resource for the settings ``s``."""
    election = load_registry(s.core.election, s.core.candidates_file).election

    raw_tweets, tweets = x_assets_for(election)
    x_jobs, x_schedules, x_sensors = build_x_automation(raw_tweets, tweets)
    tweet_counts = tweet_counts_for(election)
    counts_job, counts_schedule = build_counts_automation(tweet_counts)
    kaggle_exports = kaggle_export_assets(election)
    bsky = BskyResource.from_settings(s.bsky, min_status=s.x.min_status)
    bsky_on = s.bsky.credentials_set or bsky.sandbox
    raw_bsky_posts, bsky_posts, bsky_compliance, kaggle_bsky_posts = build_bsky_assets(
        election, monitored=bsky_on)
    bsky_jobs, bsky_schedules = build_bsky_automation(
        raw_bsky_posts, bsky_posts, bsky_compliance, running=bsky_on)
    kaggle_exports.append(kaggle_bsky_posts)
    wiki = WikiResource.from_settings(s.wiki, min_status=s.x.min_status)
    wiki_on = bool(s.wiki.contact) or wiki.sandbox
    wiki_pageviews, kaggle_wiki_pageviews = build_wiki_assets(election, monitored=wiki_on)
    wiki_jobs, wiki_schedules = build_wiki_automation(wiki_pageviews, running=wiki_on)
    kaggle_exports.append(kaggle_wiki_pageviews)
    x_compliance = x_compliance_asset(election)
    x_compliance_job, x_compliance_weekly = x_compliance_schedule(x_compliance)
    kaggle_assets = [*kaggle_exports, kaggle_dataset_asset(kaggle_exports, [x_compliance])]

    resources = {
        "lake": LakeResource.from_settings(s.core, s.lease),
        "registry": RegistryResource(
            election=s.core.election, candidates_file=s.core.candidates_file
        ),
        # The token is only wired when set, so the sandbox runs without it; XResource
        # fails at once naming X_BEARER_TOKEN when it is missing and the base URL is not
        # a sandbox. Likewise the Bluesky credentials (BskyResource.from_settings).
        "x": XResource.from_settings(s.x),
        "kaggle": kaggle_resource_from_settings(s.kaggle, s.x),
        "bsky": bsky,
        "trends": TrendsResource.from_settings(s.trends),
        "wiki": wiki,
    }

    registry_job = dg.define_asset_job("registry_job", selection=[candidates])
    trends = trends_assets(election)
    trends_refresh = trends_job(election)

    built = dg.Definitions(
        assets=[candidates, raw_tweets, tweets, tweet_counts, *trends, *archive_assets,
                *kaggle_assets, raw_bsky_posts, bsky_posts, bsky_compliance, x_compliance,
                wiki_pageviews],
        jobs=[registry_job, *x_jobs, counts_job, trends_refresh, *bsky_jobs, x_compliance_job,
              *wiki_jobs],
        schedules=[*x_schedules, counts_schedule, trends_hourly_schedule(trends_refresh, election),
                   *bsky_schedules, x_compliance_weekly, *wiki_schedules],
        sensors=[*x_sensors, kaggle_automation_sensor(), build_run_health_sensor()],
        resources=resources,
        # One process per run, steps in order: each step of the default multiprocess
        # executor re-imports Dagster and these definitions (~4 s on 2 cores), which
        # dominated the 5-minute refresh. The work is I/O-bound and the API pools
        # serialise steps anyway, so in-process loses no useful parallelism.
        # (Dagster's in-process executor, made to stop within seconds of SIGTERM even
        # while a step waits for a pool slot: elex_assets/executor.py.)
        executor=stoppable_in_process_executor,
    )

    # Freshness policies, checks and the alert sensor, on whichever collecting assets it holds.
    return with_monitoring(built, election, Thresholds.from_settings(s.thresholds))
