"""Monitoring attached to whichever collecting assets the Definitions hold.

``definitions.py`` assembles its Definitions as usual, then passes them through
:func:`with_monitoring`: the monitored assets (names of docs/architecture.md) get freshness
policies, and the checks, the job and schedule of the partition-aware freshness
checks, and the alert sensor are added. Absent assets are simply not monitored,
so the Definitions load whichever collectors are installed.
"""

from __future__ import annotations

import dagster as dg

from elex_assets.core.elections import Election
from elex_assets.monitoring.alerts import build_alert_sensor
from elex_assets.monitoring.checks import (
    Thresholds,
    build_checks,
    build_freshness_check_schedule,
)
from elex_assets.monitoring.freshness import policy_mapper


def with_monitoring(
    defs: dg.Definitions, election: Election, thresholds: Thresholds | None = None
) -> dg.Definitions:
    thresholds = thresholds or Thresholds.from_env()

    mapped = defs.map_asset_specs(func=policy_mapper(thresholds))
    checks = build_checks(election, list(mapped.assets or []), thresholds)
    jobs, schedules = build_freshness_check_schedule(checks)
    return dg.Definitions.merge(
        mapped,
        dg.Definitions(
            asset_checks=checks, jobs=jobs, schedules=schedules, sensors=[build_alert_sensor()]
        ),
    )
