"""Bluesky is watched like X where it is configured: policies, checks, alerts, the summary.

The real Bluesky asset definitions under ``with_monitoring``; the instance's records are
made at controlled times (Dagster's clock frozen, the monitors' clock patched).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.test_utils import freeze_time

from elex_assets.cli.check_summary import checks_summary
from elex_assets.core.registry import load_registry
from elex_assets.defs.bsky.assets import build_bsky_assets
from elex_assets.defs.bsky.resources import BskyResource
from elex_assets.defs.kaggle.resources import KaggleResource
from elex_assets.monitoring import clock
from elex_assets.monitoring.alerts import evaluate_alerts
from elex_assets.monitoring.attach import with_monitoring
from elex_assets.monitoring.thresholds import Thresholds
from elex_assets.resources import LakeResource, RegistryResource

ELECTION = load_registry("2027").election
T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)  # a campaign day of 2027
BSKY_CHECKS = {
    ("raw_bsky_posts", "partition_fresh"),
    ("bsky_posts", "partition_fresh"),
    ("bsky_posts", "bsky_posts_accounted"),
    ("bsky_posts", "bsky_windows_read_to_end"),
    *{("bsky_posts", n) for n in ("no_duplicate_ids", "required_columns", "posts_present",
                                  "posts_within_day", "candidates_known",
                                  "posts_name_a_candidate")},
}


def bsky_defs(lake: Path, monitored: bool) -> dg.Definitions:
    assets = build_bsky_assets(ELECTION, monitored=monitored)
    defs = dg.Definitions(assets=assets, resources={
        "lake": LakeResource(url=str(lake)), "registry": RegistryResource(election="2027"),
        "bsky": BskyResource(base_url="http://127.0.0.1:9"), "kaggle": KaggleResource()})
    return with_monitoring(defs, ELECTION, Thresholds())


def checks_of(defs: dg.Definitions) -> set[tuple[str, str]]:
    return {(k.asset_key.to_user_string(), k.name)
            for k in defs.resolve_asset_graph().asset_check_keys}


def policy(defs: dg.Definitions, name: str) -> dg.FreshnessPolicy | None:
    return defs.resolve_asset_graph().get(dg.AssetKey(name)).freshness_policy


def test_bluesky_is_monitored_only_where_it_is_configured(tmp_path: Path) -> None:
    off = bsky_defs(tmp_path, monitored=False)
    assert not {c for c in checks_of(off) if "bsky" in c[0]}
    assert policy(off, "raw_bsky_posts") is None and policy(off, "bsky_posts") is None

    on = bsky_defs(tmp_path, monitored=True)
    assert {c for c in checks_of(on) if "bsky" in c[0] and "kaggle" not in c[0]} == BSKY_CHECKS
    as_x = dg.FreshnessPolicy.time_window(fail_window=timedelta(minutes=30),
                                          warn_window=timedelta(minutes=15))
    assert policy(on, "raw_bsky_posts") == as_x and policy(on, "bsky_posts") == as_x
    freshness_job = on.resolve_job_def("freshness_checks_job")
    assert {k.asset_key.to_user_string() for k in freshness_job.asset_layer.asset_graph
            .asset_check_keys if k.name == "partition_fresh"} >= {"raw_bsky_posts", "bsky_posts"}


def test_the_projects_definitions_monitor_bluesky_in_the_sandbox(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from elex_assets.definitions import build_defs
    from elex_assets.settings import load_settings

    monkeypatch.setenv("BSKY_BASE_URL", "http://127.0.0.1:9")  # a sandbox: Bluesky on
    assert checks_of(build_defs(load_settings())) >= BSKY_CHECKS


@contextlib.contextmanager
def at(moment: datetime) -> Iterator[None]:
    with freeze_time(moment), pytest.MonkeyPatch.context() as mp:
        mp.setattr(clock, "utc_now", lambda: moment)
        yield


def test_a_silent_bluesky_collector_fails_partition_fresh_and_alerts(tmp_path: Path) -> None:
    """A backfill of an old day does not hide that today's partition never came."""
    defs = bsky_defs(tmp_path, monitored=True)
    old = (T0 - timedelta(days=3)).date().isoformat()
    with dg.instance_for_test() as instance:
        with at(T0 - timedelta(minutes=10)):
            for name in ("raw_bsky_posts", "bsky_posts"):  # only an old day is collected
                instance.report_runless_asset_event(dg.AssetMaterialization(name, partition=old))
        with at(T0):
            result = defs.resolve_job_def("freshness_checks_job").execute_in_process(
                instance=instance, resources=defs.resources)
            verdicts = {e.asset_key.to_user_string(): e for e in result.get_asset_check_evaluations()
                        if e.check_name == "partition_fresh"}
            context = dg.build_sensor_context(instance=instance, definitions=defs)
            evaluate_alerts(context)
            ok, summary = checks_summary(instance, defs)
    for name in ("raw_bsky_posts", "bsky_posts"):
        assert not verdicts[name].passed
        assert f"partition {T0.date()} missing" in verdicts[name].description
    opened = json.loads(context.cursor)["open"]
    assert "check:raw_bsky_posts:partition_fresh:" in opened
    assert "check:bsky_posts:partition_fresh:" in opened
    assert not ok and "FAILED raw_bsky_posts partition_fresh" in summary


def test_a_fresh_bluesky_day_passes_partition_fresh(tmp_path: Path) -> None:
    defs = bsky_defs(tmp_path, monitored=True)
    with dg.instance_for_test() as instance:
        with at(T0 - timedelta(minutes=5)):
            for name in ("raw_bsky_posts", "bsky_posts"):
                instance.report_runless_asset_event(
                    dg.AssetMaterialization(name, partition=T0.date().isoformat()))
        with at(T0):
            result = defs.resolve_job_def("freshness_checks_job").execute_in_process(
                instance=instance, resources=defs.resources)
    verdicts = [e for e in result.get_asset_check_evaluations()
                if "bsky" in e.asset_key.to_user_string()]
    assert len(verdicts) == 2 and all(e.passed for e in verdicts), verdicts
