"""The Bluesky assets against the sandbox XRPC service (real HTTP), through Dagster."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from elex_assets.core import layout
from elex_assets.core.kaggle.export import iso_week_days, iso_week_of
from elex_assets.core.registry import load_registry
from elex_assets.defs.bsky.assets import build_bsky_assets, build_bsky_automation
from elex_assets.defs.bsky.resources import BskyResource
from elex_assets.defs.kaggle.resources import KaggleResource
from elex_assets.resources import LakeResource, RegistryResource
from elex_assets.sandbox.bsky_server import BskySandbox
from elex_assets_tests.clock import NOW

pytestmark = pytest.mark.usefixtures("fixed_now")  # "now" is clock.NOW: fixed data

ELECTION = load_registry("2027").election
RAW, CLEAN, COMPLIANCE, EXPORT = build_bsky_assets(ELECTION)
DAY = (NOW - timedelta(days=8)).date()


@pytest.fixture
def sandbox() -> Iterator[BskySandbox]:
    with BskySandbox(election="2027", posts_per_day=200, seed=4, deletion_rate=0.0) as server:
        yield server


def resources(lake_dir: Path, base_url: str, **bsky: object) -> dict:
    return {
        "lake": LakeResource(url=str(lake_dir)),
        "registry": RegistryResource(election="2027"),
        "bsky": BskyResource(base_url=base_url, max_attempts=2, **bsky),
        "kaggle": KaggleResource(),
    }


def _day(instance: dg.DagsterInstance, res: dict, day: date, *assets: dg.AssetsDefinition
         ) -> dg.ExecuteInProcessResult:
    return dg.materialize(list(assets), partition_key=day.isoformat(), instance=instance,
                          resources=res)


def test_collect_delete_and_export_a_week(sandbox: BskySandbox, tmp_path: Path) -> None:
    instance = dg.DagsterInstance.ephemeral()
    res = resources(tmp_path, sandbox.base_url)
    iso_year, iso_week = iso_week_of(DAY)
    week = iso_week_days(iso_year, iso_week)
    for day in week:
        result = _day(instance, res, day, RAW, CLEAN)
        assert result.success
        meta = result.asset_materializations_for_node("bsky_posts")[0].metadata
        assert meta["rows"].value > 0
    clean = pl.read_parquet(tmp_path / layout.clean_bsky_key(DAY))
    assert clean["created_at"].dt.hour().n_unique() == 24  # posts in every hour
    monday = week[0].isoformat()
    export = dg.materialize([EXPORT], partition_key=monday, instance=instance, resources=res)
    assert export.success
    csv_key = layout.kaggle_key("2027", "bsky_posts", iso_year, iso_week)
    before = pl.read_csv(gzip.decompress((tmp_path / csv_key).read_bytes()))
    victim = clean["id"][0]
    assert victim in before["id"].to_list()

    sandbox.delete(victim)
    result = _day(instance, res, DAY, COMPLIANCE)
    assert result.success
    meta = result.asset_materializations_for_node("bsky_compliance")[0].metadata
    assert meta["deleted"].value == 1 and meta["exports_redone"].value == [csv_key]
    after = pl.read_csv(gzip.decompress((tmp_path / csv_key).read_bytes()))
    assert victim not in after["id"].to_list() and after.height == before.height - 1
    row = pl.read_parquet(tmp_path / layout.clean_bsky_key(DAY)).filter(pl.col("id") == victim)
    assert row["post_type"].to_list() == ["deleted"] and row["text"].to_list() == [None]
    assert list((tmp_path / layout.bsky_compliance_prefix(DAY)).glob("*.json"))


def test_a_wrong_app_password_fails_at_once_without_retry(
    sandbox: BskySandbox, tmp_path: Path
) -> None:
    secret = "wxyz-wxyz-wxyz-wxyz"
    res = resources(tmp_path, sandbox.base_url, handle="me.bsky.social", app_password=secret)
    result = dg.materialize([RAW], partition_key=DAY.isoformat(), resources=res,
                            raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    text = str(failure.event_specific_data)
    assert "BSKY_APP_PASSWORD" in text and secret not in text
    assert "allow_retries=False" in text or "RetryRequested" not in text
    assert len([r for r in sandbox.requests if r["path"].endswith("createSession")]) == 1


def test_schedule_refreshes_today_every_5_minutes() -> None:
    from elex_assets.definitions import get_defs

    defs = get_defs()

    every5 = defs.resolve_schedule_def("bsky_every_5_minutes")
    assert every5.cron_schedule == "*/5 * * * *" and every5.job_name == "bsky_refresh_job"
    repo = defs.get_repository_def()

    def tick(when: datetime) -> list[dg.RunRequest]:
        # Both as context managers: a schedule context left open keeps the instance's
        # state storage current after the instance is gone, breaking later tests.
        with dg.instance_for_test() as instance, dg.build_schedule_context(
            instance=instance, scheduled_execution_time=when, repository_def=repo
        ) as context:
            return every5.evaluate_tick(context).run_requests or []

    assert [r.partition_key for r in tick(datetime(2026, 11, 20, 14, 5, tzinfo=UTC))] == [
        "2026-11-20"]
    # just after midnight, also what yesterday still lacks (two requests, two run keys)
    assert [r.partition_key for r in tick(datetime(2026, 11, 20, 0, 5, tzinfo=UTC))] == [
        "2026-11-19", "2026-11-20"]
    _, stopped = build_bsky_automation(RAW, CLEAN, COMPLIANCE, running=False)
    assert all(s.default_status == dg.DefaultScheduleStatus.STOPPED for s in stopped)
