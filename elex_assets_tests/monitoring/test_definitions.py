"""The project's Definitions carry the alert sensor, running by default."""

from __future__ import annotations

import dagster as dg


def test_alert_sensor_is_running_by_default() -> None:
    from elex_assets.definitions import get_defs

    defs = get_defs()

    sensor = defs.resolve_sensor_def("elex_alerts")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
