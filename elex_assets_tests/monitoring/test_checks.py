"""Freshness policies and content checks attached to stand-in collecting assets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from elex_assets.cli.check_summary import checks_summary
from elex_assets.core.layout import clean_trends_key
from elex_assets.core.registry import load_registry
from elex_assets.core.schemas import TRENDS
from elex_assets.monitoring.checks import Thresholds, apply_freshness_policies
from elex_assets_tests.monitoring import standins as monitoring_standins

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def test_policies_follow_each_cadence() -> None:
    @dg.asset
    def kaggle_tweets() -> None: ...

    @dg.asset
    def unrelated() -> None: ...

    assets = apply_freshness_policies(
        [
            monitoring_standins.raw_tweets,
            monitoring_standins.trends_interest_over_time,
            kaggle_tweets,
            unrelated,
        ],
        Thresholds(),
    )
    policies = {
        k.to_user_string(): s.freshness_policy for a in assets for k, s in a.specs_by_key.items()
    }
    assert policies["raw_tweets"] == dg.FreshnessPolicy.time_window(
        fail_window=timedelta(minutes=30), warn_window=timedelta(minutes=15)
    )
    assert policies["trends_interest_over_time"] == dg.FreshnessPolicy.time_window(
        fail_window=timedelta(hours=4), warn_window=timedelta(hours=2)
    )
    assert policies["kaggle_tweets"].deadline_cron == "0 12 * * 1"
    assert policies["unrelated"] is None


def test_thresholds_from_env_and_bad_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELEX_FRESHNESS_TWEETS_FAIL_MINUTES", "60")
    assert Thresholds.from_env().tweets_fail == timedelta(hours=1)
    monkeypatch.setenv("ELEX_FRESHNESS_TWEETS_WARN_MINUTES", "90")
    with pytest.raises(ValueError, match="warn threshold"):
        Thresholds.from_env()
    monkeypatch.setenv("ELEX_QUIET_MINUTES", "soon")
    with pytest.raises(ValueError, match="ELEX_QUIET_MINUTES='soon' is not a number"):
        Thresholds.from_env()


def test_trends_partition_checks_name_missing_candidates_and_bad_values(tmp_path: Path) -> None:
    selected = [c.id for c in load_registry("2027").selected()]
    rows = [
        {
            "date": T0.date(),
            "area": "fr",
            "candidate_id": cid,
            "keyword": cid,
            "timestamp": T0,
            "value": 120 if i == 0 else 40,
            "collected_at": T0,
        }
        for i, cid in enumerate(selected[:-1])  # the last candidate is absent
    ]
    schema = TRENDS["interest_over_time"]
    path = tmp_path / clean_trends_key("interest_over_time", "fr", T0.date())
    path.parent.mkdir(parents=True)
    schema.conform(pl.DataFrame(rows)).write_parquet(path)

    defs = monitoring_standins.build_defs(str(tmp_path))
    job = dg.define_asset_job(
        "trends", selection=dg.AssetSelection.assets("trends_interest_over_time")
    )
    defs = dg.Definitions.merge(defs, dg.Definitions(jobs=[job]))
    with dg.instance_for_test() as instance:
        result = defs.resolve_job_def("trends").execute_in_process(
            instance=instance, partition_key="fr|2026-11-27"
        )
        ok, summary = checks_summary(instance, defs)
    assert not ok
    assert "FAILED trends_interest_over_time[fr|2026-11-27] interest_in_range" in summary
    verdicts = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert verdicts["required_columns"].passed
    assert not verdicts["candidates_present"].passed
    assert verdicts["candidates_present"].description == f"1 candidate(s) absent: {selected[-1]}"
    assert not verdicts["interest_in_range"].passed
    assert "outside 0-100: 120" in verdicts["interest_in_range"].description
    assert verdicts["interest_in_range"].partition == "fr|2026-11-27"


def test_a_tables_content_checks_read_the_partition_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from elex_assets.core import quality
    from elex_assets.monitoring.content import build_content_checks

    election = load_registry("2027").election
    checks = build_content_checks(
        [monitoring_standins.tweets, monitoring_standins.trends_interest_over_time], election,
        Thresholds(),
    )
    names = [sorted(k.name for k in c.check_keys) for c in checks]
    assert names == [["no_duplicate_ids", "posts_present", "required_columns"],
                     ["candidates_present", "interest_in_range", "required_columns"]]
    reads: list[str] = []
    real = quality.read_day
    monkeypatch.setattr(quality, "read_day", lambda lake, prefix, schema=None: (
        reads.append(prefix), real(lake, prefix, schema))[1])
    defs = monitoring_standins.build_defs(str(tmp_path))
    job = dg.define_asset_job(
        "trends", selection=dg.AssetSelection.assets("trends_interest_over_time")
    )
    defs = dg.Definitions.merge(defs, dg.Definitions(jobs=[job]))
    with dg.instance_for_test() as instance:
        result = defs.resolve_job_def("trends").execute_in_process(
            instance=instance, partition_key="fr|2026-11-27"
        )
    verdicts = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(verdicts) >= {"required_columns", "candidates_present", "interest_in_range"}
    assert verdicts["candidates_present"].severity == dg.AssetCheckSeverity.ERROR
    assert len(reads) == 1  # three verdicts, one read of the partition
