"""``wiki_pageviews`` through Dagster, against the pageviews sandbox (real HTTP on loopback).

Days of the 2017 campaign: long past whatever the machine's date, so only the sandbox's
own (fixed) clock decides what Wikimedia has loaded.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from elex_assets.core import layout
from elex_assets.core.registry import load_registry
from elex_assets.defs.kaggle.resources import KaggleResource
from elex_assets.defs.wiki.assets import build_wiki_assets, wiki_days_due
from elex_assets.defs.wiki.resources import WikiResource
from elex_assets.monitoring.attach import with_monitoring
from elex_assets.monitoring.thresholds import Thresholds
from elex_assets.resources import LakeResource, RegistryResource
from elex_assets.sandbox.wiki_server import WikiSandbox

REGISTRY = load_registry("2017")
ELECTION = REGISTRY.election
WIKI, EXPORT = build_wiki_assets(ELECTION, monitored=True)
WEEK = [date(2017, 3, 6) + timedelta(days=i) for i in range(7)]  # ISO week 2017-W10
RANGE_TAGS = {"dagster/asset_partition_range_start": WEEK[0].isoformat(),
              "dagster/asset_partition_range_end": WEEK[-1].isoformat()}


@pytest.fixture
def sandbox() -> Iterator[WikiSandbox]:
    clock = datetime(2017, 3, 14, 12, tzinfo=UTC)
    with WikiSandbox.for_candidates(REGISTRY.candidates, clock=lambda: clock) as server:
        yield server


def resources(lake: Path, base_url: str, **wiki: object) -> dict:
    return {"lake": LakeResource(url=str(lake)), "registry": RegistryResource(election="2017"),
            "wiki": WikiResource(base_url=base_url, **wiki), "kaggle": KaggleResource()}


def test_a_week_backfill_is_one_run_one_request_per_article(
        sandbox: WikiSandbox, tmp_path: Path) -> None:
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([WIKI], instance=instance, tags=RANGE_TAGS,
                            resources=resources(tmp_path, sandbox.base_url))
    assert result.success
    articles = 2 * len(REGISTRY.selected())
    assert len(sandbox.requests) == articles  # the whole week in one request per article
    assert all(r["path"].endswith("/2017030600/2017031200") for r in sandbox.requests)
    landed = instance.get_materialized_partitions(dg.AssetKey("wiki_pageviews"))
    assert landed == {d.isoformat() for d in WEEK}
    for day in WEEK:
        frame = pl.read_parquet(tmp_path / layout.clean_wiki_key(day))
        assert frame.height == articles and frame["day"].unique().to_list() == [day]
        row = frame.filter((pl.col("candidate_id") == "macron")
                           & (pl.col("project") == "fr.wikipedia")).row(0, named=True)
        assert row["article"] == "Emmanuel_Macron"
        assert row["views"] == sandbox.views("fr.wikipedia", "Emmanuel_Macron", day)
        assert row["agent"] == "user" and row["access"] == "all-access"
    meta = result.asset_materializations_for_node("wiki_pageviews")[0].metadata
    assert meta["days_landed"].value == 7 and meta["cost_usd"].value == 0.0


def test_the_content_and_accounting_checks_pass_on_a_landed_day(
        sandbox: WikiSandbox, tmp_path: Path) -> None:
    defs = with_monitoring(dg.Definitions(
        assets=[WIKI], resources=resources(tmp_path, sandbox.base_url)), ELECTION, Thresholds())
    job = defs.resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(partition_key=WEEK[2].isoformat(),
                                    instance=dg.DagsterInstance.ephemeral())
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert evaluations["wiki_pageviews_accounted"].metadata["partition"].value == "2017-03-08"
    assert {"one_row_per_article", "required_columns", "rows_on_day", "views_are_counts",
            "articles_present", "articles_answered", "wiki_pageviews_accounted"} <= set(evaluations)
    failed = {n: e.description for n, e in evaluations.items()
              if not e.passed and n not in ("articles_answered", "partition_fresh")}
    assert failed == {}


def test_a_backfill_run_checks_every_day_of_its_range(
        sandbox: WikiSandbox, tmp_path: Path) -> None:
    """The checks run in the backfill's single run (a range, not one partition key)."""
    defs = with_monitoring(dg.Definitions(
        assets=[WIKI], resources=resources(tmp_path, sandbox.base_url)), ELECTION, Thresholds())
    job = defs.resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(tags=RANGE_TAGS, instance=dg.DagsterInstance.ephemeral(),
                                    raise_on_error=False)
    assert result.success
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    for name in ("one_row_per_article", "rows_on_day", "articles_present",
                 "wiki_pageviews_accounted"):
        assert evaluations[name].passed, (name, evaluations[name].description)
        assert evaluations[name].description == "all 7 days pass"


def test_days_not_loaded_yet_are_not_materialised_and_the_landed_days_are(
        tmp_path: Path) -> None:
    clock = datetime(2017, 3, 11, 4, tzinfo=UTC)  # 3 h lag: the 10th is loaded, not the 11th
    with WikiSandbox.for_candidates(REGISTRY.candidates, clock=lambda: clock) as sandbox:
        instance = dg.DagsterInstance.ephemeral()
        result = dg.materialize([WIKI], instance=instance, tags=RANGE_TAGS,
                                resources=resources(tmp_path, sandbox.base_url))
    assert result.success  # late data is not a failure: partition_fresh judges lateness
    landed = instance.get_materialized_partitions(dg.AssetKey("wiki_pageviews"))
    assert landed == {d.isoformat() for d in WEEK[:5]}
    assert not (tmp_path / layout.clean_wiki_key(WEEK[5])).exists()
    warnings = [e.message for e in instance.all_logs(result.run_id)
                if "has not loaded" in (e.message or "")]
    assert warnings and "2017-03-11 .. 2017-03-12 (2 days)" in warnings[0]
    # a later run, once Wikimedia has loaded them, lands the missing days
    later = datetime(2017, 3, 14, tzinfo=UTC)
    with WikiSandbox.for_candidates(REGISTRY.candidates, clock=lambda: later) as sandbox:
        tags = {**RANGE_TAGS, "dagster/asset_partition_range_start": WEEK[5].isoformat()}
        assert dg.materialize([WIKI], instance=instance, tags=tags,
                              resources=resources(tmp_path, sandbox.base_url)).success
    assert instance.get_materialized_partitions(dg.AssetKey("wiki_pageviews")) == {
        d.isoformat() for d in WEEK}


def test_a_single_day_not_loaded_yet_is_a_quiet_no_op(tmp_path: Path) -> None:
    clock = datetime(2017, 3, 7, 1, tzinfo=UTC)  # the 6th is not loaded until 03:00
    with WikiSandbox.for_candidates(REGISTRY.candidates, clock=lambda: clock) as sandbox:
        instance = dg.DagsterInstance.ephemeral()
        result = dg.materialize([WIKI], partition_key=WEEK[0].isoformat(), instance=instance,
                                resources=resources(tmp_path, sandbox.base_url))
    assert result.success and result.get_asset_materialization_events() == []
    assert instance.get_materialized_partitions(dg.AssetKey("wiki_pageviews")) == set()


def test_a_live_url_without_contact_fails_before_any_request(tmp_path: Path) -> None:
    result = dg.materialize([WIKI], partition_key=WEEK[0].isoformat(), raise_on_error=False,
                            resources=resources(tmp_path, "https://wikimedia.invalid/api"))
    failure = result.get_step_failure_events()[0].step_failure_data.user_failure_data
    assert "WIKIMEDIA_CONTACT" in failure.description


def test_the_week_exports_with_its_columns(sandbox: WikiSandbox, tmp_path: Path) -> None:
    instance = dg.DagsterInstance.ephemeral()
    res = resources(tmp_path, sandbox.base_url)
    assert dg.materialize([WIKI], instance=instance, tags=RANGE_TAGS, resources=res).success
    export = dg.materialize([EXPORT], partition_key=WEEK[0].isoformat(), instance=instance,
                            resources=res)
    assert export.success
    key = layout.kaggle_key("2017", "wiki_pageviews", 2017, 10)
    csv = pl.read_csv(gzip.decompress((tmp_path / key).read_bytes()))
    assert csv.columns[:6] == ["day", "candidate_id", "project", "article", "views", "agent"]
    assert csv.height == 7 * 2 * len(REGISTRY.selected())


def test_a_rate_limit_beyond_the_bound_stops_the_run_without_retry(
        sandbox: WikiSandbox, tmp_path: Path) -> None:
    from elex_assets.failures import NO_RUN_RETRY_TAG

    sandbox.faults.add("429", times=100, reset_in=3600)
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([WIKI], partition_key=WEEK[0].isoformat(), instance=instance,
                            raise_on_error=False,
                            resources=resources(tmp_path, sandbox.base_url))
    failure = result.get_step_failure_events()[0].step_failure_data.user_failure_data
    assert "WikimediaRateLimited" in failure.description and "Retry-After" in failure.description
    assert instance.get_run_by_id(result.run_id).tags.get(NO_RUN_RETRY_TAG) == "false"
    assert len(sandbox.requests) <= 3  # one per request in flight, none retried


@pytest.mark.parametrize(("now", "landed", "due"), [
    (datetime(2027, 3, 10, 3, 20, tzinfo=UTC), set(), ["2027-03-07", "2027-03-08", "2027-03-09"]),
    (datetime(2027, 3, 10, 9, 20, tzinfo=UTC), {"2027-03-07", "2027-03-08", "2027-03-09"}, []),
    (datetime(2027, 3, 10, 6, 20, tzinfo=UTC), {"2027-03-07", "2027-03-08", "2027-03-09"},
     ["2027-03-08"]),  # the day before yesterday, read once more
])
def test_a_tick_asks_for_the_last_days_not_landed(now: datetime, landed: set, due: list) -> None:
    assert [d.isoformat() for d in wiki_days_due(now, landed)] == due


def test_a_registry_without_titles_collects_nothing_and_says_why(
        sandbox: WikiSandbox, tmp_path: Path) -> None:
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([WIKI], partition_key=WEEK[0].isoformat(), instance=instance,
                            resources=resources(tmp_path, sandbox.base_url, languages=["de"]))
    assert result.success and result.get_asset_materialization_events() == []
    assert len(sandbox.requests) == 0
    assert any("no selected candidate has a Wikipedia title" in (e.message or "")
               for e in instance.all_logs(result.run_id))
