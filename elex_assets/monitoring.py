"""Monitoring attached to whichever collecting assets the Definitions hold.

``definitions.py`` passes its asset list through :func:`build_monitoring` and
gets back the same assets with freshness policies, plus the checks, the job and
schedule of the partition-aware freshness checks, and the alert sensor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import dagster as dg

from elex_assets.checks import (
    Thresholds,
    apply_freshness_policies,
    build_checks,
    build_freshness_check_schedule,
)
from elex_assets.core.elections import Election
from elex_assets.sensors.alerts import build_alert_sensor


@dataclass(frozen=True)
class Monitoring:
    assets: list[Any]
    checks: list[dg.AssetChecksDefinition]
    jobs: list[dg.UnresolvedAssetJobDefinition]
    schedules: list[dg.ScheduleDefinition]
    sensors: list[dg.SensorDefinition]


def build_monitoring(
    election: Election, assets: Sequence[Any], thresholds: Thresholds | None = None
) -> Monitoring:
    thresholds = thresholds or Thresholds.from_env()
    assets = apply_freshness_policies(assets, thresholds)
    checks = build_checks(election, assets, thresholds)
    jobs, schedules = build_freshness_check_schedule(checks)
    return Monitoring(assets, checks, jobs, schedules, [build_alert_sensor()])
