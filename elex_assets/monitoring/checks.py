"""Dagster asset checks and freshness policies on the collecting assets.

``build_checks`` attaches to whichever monitored assets (names of docs/architecture.md) are
present, so the Definitions load whether or not a collector is installed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dagster as dg

from elex_assets.core.elections import Election
from elex_assets.dagster_private import UnresolvedAssetJobDefinition
from elex_assets.defs.bsky.checks import build_bsky_accounting_checks, build_bsky_read_checks
from elex_assets.defs.wiki.checks import build_wiki_accounting_checks
from elex_assets.defs.x.checks import build_accounting_checks
from elex_assets.monitoring.content import build_content_checks
from elex_assets.monitoring.freshness import (
    PARTITION_FRESH,
    apply_freshness_policies,
    build_partition_freshness_checks,
)
from elex_assets.monitoring.thresholds import Thresholds

__all__ = [
    "PARTITION_FRESH",
    "Thresholds",
    "apply_freshness_policies",
    "build_checks",
    "build_freshness_check_schedule",
]

FRESHNESS_CHECKS_JOB = "freshness_checks_job"


def build_checks(
    election: Election, assets: Sequence[Any], thresholds: Thresholds | None = None
) -> list[dg.AssetChecksDefinition]:
    """Content checks (run with each partition) and partition-aware freshness checks."""
    thresholds = thresholds or Thresholds.from_env()
    return [
        *build_content_checks(assets, election, thresholds),
        *build_partition_freshness_checks(assets, election, thresholds),
        *build_accounting_checks(assets),
        *build_bsky_accounting_checks(assets),
        *build_bsky_read_checks(assets),
        *build_wiki_accounting_checks(assets),
    ]


def build_freshness_check_schedule(
    checks: Sequence[dg.AssetChecksDefinition], cron: str = "*/10 * * * *"
) -> tuple[list[UnresolvedAssetJobDefinition], list[dg.ScheduleDefinition]]:
    """A job running only the ``partition_fresh`` checks, every 10 minutes (running by default).

    They judge the instance's records, not a materialisation, so nothing else
    would run them while a collector is silent, which is exactly when they matter.
    """
    keys = [k for c in checks for k in c.check_keys if k.name == PARTITION_FRESH]
    if not keys:
        return [], []
    job = dg.define_asset_job(
        FRESHNESS_CHECKS_JOB,
        selection=dg.AssetSelection.checks(*keys),
        description="Partition-aware freshness checks of the daily collecting assets.",
    )
    schedule = dg.ScheduleDefinition(
        name="freshness_checks_schedule",
        job=job,
        cron_schedule=cron,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
    return [job], [schedule]
