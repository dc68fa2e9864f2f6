"""The four Trends assets, materialised over real HTTP against the sandbox."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from elex_assets.core.layout import clean_trends_key
from elex_assets.core.registry import load_registry
from elex_assets.core.schemas import TRENDS
from elex_assets.defs.trends.assets import trends_assets
from elex_assets.defs.trends.resources import TrendsResource
from elex_assets.resources import LakeResource, RegistryResource
from elex_assets.sandbox.trends_server import TrendsSandbox
from elex_assets_tests.clock import NOW

pytestmark = pytest.mark.usefixtures("fixed_now")  # "now" is clock.NOW: fixed data

REGISTRY = load_registry("2027")
ELECTION = REGISTRY.election
SELECTED = {c.id for c in REGISTRY.selected()}
ASSETS = trends_assets(ELECTION)
BY_NAME = {a.key.path[-1]: a for a in ASSETS}
DAY = (NOW - timedelta(days=1)).date()  # yesterday of the tests' fixed "now"
# The two-process test's runs start at the machine's time: a day that exists for them too.
PAST_DAY = date(2026, 11, 20)


def resources(sandbox: TrendsSandbox, lake_dir: Path) -> dict[str, object]:
    return {
        "lake": LakeResource(url=str(lake_dir)),
        "registry": RegistryResource(election="2027"),
        "trends": TrendsResource(
            base_url=sandbox.base_url,
            min_interval_seconds=0.0,
            backoff_base_seconds=0.01,
            max_attempts=3,
        ),
    }


def partition(area: str, day=DAY) -> str:
    return dg.MultiPartitionKey({"area": area, "date": day.isoformat()})


@pytest.mark.parametrize("area", ["fr", "world"])
def test_a_full_day_of_the_four_assets(trends_sandbox, tmp_path: Path, area: str) -> None:
    lake_dir = tmp_path / "lake"
    result = dg.materialize(
        ASSETS, partition_key=partition(area), resources=resources(trends_sandbox, lake_dir)
    )
    assert result.success
    for kind, schema in TRENDS.items():
        df = pl.read_parquet(lake_dir / clean_trends_key(kind, area, DAY))
        assert df.schema == schema.polars
        assert set(df["candidate_id"]) == SELECTED, kind
        assert df.select(schema.required).null_count().sum_horizontal().item() == 0
        assert set(df["area"]) == {area} and set(df["date"]) == {DAY}
        meta = result.asset_materializations_for_node(f"trends_{kind}")[0].metadata
        assert meta["rows"].value == df.height
        assert meta["candidates_covered"].value == len(SELECTED)
        assert "candidate_id" in meta["preview"].value

    series = pl.read_parquet(lake_dir / clean_trends_key("interest_over_time", area, DAY))
    assert series.height == len(SELECTED) * 180
    assert series["value_comparable"].null_count() == 0
    assert set(series["anchor"]) == {"Emmanuel Macron"}
    regions = pl.read_parquet(lake_dir / clean_trends_key("interest_by_region", area, DAY))
    if area == "fr":
        assert regions["geo_code"].str.starts_with("FR-").all()
    else:
        assert {"FR", "BE", "US"} <= set(regions["geo_code"])
    for kind in ("related_topics", "related_queries"):
        related = pl.read_parquet(lake_dir / clean_trends_key(kind, area, DAY))
        assert "Breakout" in related.filter(pl.col("ranking") == "rising")["formatted_value"]


def test_rerun_replaces_the_day(trends_sandbox, tmp_path: Path) -> None:
    lake_dir = tmp_path / "lake"
    asset = BY_NAME["trends_related_queries"]
    for _ in range(2):
        assert dg.materialize(
            [asset], partition_key=partition("fr"), resources=resources(trends_sandbox, lake_dir)
        ).success
    files = list((lake_dir / "clean/trends_related_queries").rglob("*.parquet"))
    assert len(files) == 1
    df = pl.read_parquet(files[0])
    assert df.height == df.unique(["candidate_id", "ranking", "rank"]).height


def test_empty_related_lists_are_recorded_as_empty(trends_sandbox, tmp_path: Path) -> None:
    lake_dir = tmp_path / "lake"
    trends_sandbox.inject("empty_ranked_list", times=None, path="relatedsearches")
    result = dg.materialize(
        [BY_NAME["trends_related_topics"]],
        partition_key=partition("world"),
        resources=resources(trends_sandbox, lake_dir),
    )
    assert result.success
    df = pl.read_parquet(lake_dir / clean_trends_key("related_topics", "world", DAY))
    assert df.height == 0 and df.schema == TRENDS["related_topics"].polars
    assert result.asset_materializations_for_node("trends_related_topics")[0].metadata[
        "rows"
    ].value == 0


def test_server_errors_are_absorbed_by_the_backoff(trends_sandbox, tmp_path: Path) -> None:
    trends_sandbox.inject("502", times=2, path="comparedgeo")
    trends_sandbox.inject("503", times=1, path="/api/explore")
    result = dg.materialize(
        [BY_NAME["trends_interest_by_region"]],
        partition_key=partition("fr"),
        resources=resources(trends_sandbox, tmp_path / "lake"),
    )
    assert result.success
    statuses = [r.status for r in trends_sandbox.requests]
    assert statuses.count(502) == 2 and statuses.count(503) == 1


def test_missing_content_type_fails_the_step_with_a_clear_message(trends_sandbox, tmp_path):
    trends_sandbox.inject("no_content_type", times=None, path="multiline")
    asset = trends_assets(ELECTION, retry_policy=None)[0]
    result = dg.materialize(
        [asset],
        partition_key=partition("fr"),
        resources=resources(trends_sandbox, tmp_path / "lake"),
        raise_on_error=False,
    )
    assert not result.success
    failure = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failure and "without a Content-Type header" in str(failure[0].event_specific_data)


def test_assets_hold_the_pool_and_ask_for_their_retries() -> None:
    """No ``retry_policy=``: Dagster's retry policy retries an interrupted step too, so a
    SIGTERM during the Trends backoff queued the step again (issue 25); transient faults
    ask for their retry instead (next test)."""
    for asset in ASSETS:
        op = asset.op
        assert op.pool == "google_trends"
        assert op.retry_policy is None
    assert set(BY_NAME) == {
        "trends_interest_over_time",
        "trends_interest_by_region",
        "trends_related_topics",
        "trends_related_queries",
    }


def test_hourly_schedule_asks_for_today_in_both_areas() -> None:
    from elex_assets.definitions import get_defs

    defs = get_defs()

    schedule = defs.resolve_schedule_def("trends_hourly")
    assert schedule.cron_schedule == "5 * * * *"
    assert schedule.job_name == "trends_job"
    repo = defs.get_repository_def()

    def tick(when: datetime) -> dg.ScheduleExecutionData:
        context = dg.build_schedule_context(scheduled_execution_time=when, repository_def=repo)
        return schedule.evaluate_tick(context)

    requests = tick(datetime(2027, 3, 1, 14, 5, tzinfo=UTC)).run_requests
    assert sorted(str(r.partition_key) for r in requests) == ["fr|2027-03-01", "world|2027-03-01"]
    skipped = tick(datetime(2028, 1, 1, tzinfo=UTC))
    assert not skipped.run_requests and "outside the campaign" in skipped.skip_message


RUN_ONE_PARTITION = """
import sys
import dagster as dg
from elex_assets.defs.trends.assets import trends_assets
from elex_assets.core.registry import load_registry
from elex_assets.resources import LakeResource, RegistryResource
from elex_assets.defs.trends.resources import TrendsResource

base_url, lake, area, day = sys.argv[1:5]
result = dg.materialize(
    [trends_assets(load_registry("2027").election)[0]],
    partition_key=dg.MultiPartitionKey({"area": area, "date": day}),
    instance=dg.DagsterInstance.get(),
    resources={
        "lake": LakeResource(url=lake),
        "registry": RegistryResource(election="2027"),
        "trends": TrendsResource(base_url=base_url, min_interval_seconds=0.0),
    },
)
print("RUN", result.run_id, result.success)
"""


def test_parallel_runs_never_call_trends_at_the_same_time(trends_sandbox, tmp_path: Path):
    """Two runs (two processes) of different partitions, on one instance with pool limit 1."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(
        "telemetry:\n  enabled: false\nconcurrency:\n  pools:\n    default_limit: 1\n"
    )
    instance = dg.DagsterInstance.from_config(str(home))  # create the sqlite storage once
    assert instance.event_log_storage.supports_global_concurrency_limits
    trends_sandbox.inject("slow", times=None, delay=0.05)  # requests would overlap if unserialised
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RUN_ONE_PARTITION, trends_sandbox.base_url,
             str(tmp_path / "lake"), area, PAST_DAY.isoformat()],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for area in ("fr", "world")
    ]
    outputs = [p.communicate(timeout=240) for p in procs]
    runs = [line.split() for out, _ in outputs for line in out.splitlines() if line.startswith("RUN")]
    assert [r[2] for r in runs] == ["True", "True"], [err[-2000:] for _, err in outputs]

    def area_of(record) -> str:
        text = " ".join(record.params.values())
        return "fr" if "FR" in text else "world"

    # All calls of one run come before all calls of the other: they never interleave.
    order = [area_of(r) for r in sorted(trends_sandbox.requests, key=lambda r: r.started)]
    switches = sum(1 for a, b in zip(order, order[1:], strict=False) if a != b)
    assert switches == 1, order

    windows = []
    for _, run_id, _ in runs:
        stamps = {
            entry.dagster_event.event_type_value: entry.timestamp
            for entry in instance.all_logs(run_id)
            if entry.dagster_event is not None and entry.dagster_event.step_key
        }
        windows.append((stamps["STEP_START"], stamps["STEP_SUCCESS"]))
    first, second = sorted(windows)
    assert first[1] <= second[0]  # the second step started after the first ended
    assert len(trends_sandbox.requests) == 2 * (1 + 2 * 4)  # cookie, 4 batches x 2 calls


def _failure_text(result) -> str:
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert len(failures) == 1
    return str(failures[0].event_specific_data.error_display_string)


def _retried(result) -> bool:
    return any(e.event_type_value == "STEP_UP_FOR_RETRY" for e in result.all_events)


COOLDOWN_LINE = (
    r"Google Trends is refusing this client until \d\d:\d\d UTC "
    r"\(1 refusal since \d\d:\d\d\); nothing requested"
)


def test_block_mode_starts_a_cooldown_that_later_runs_respect(trends_sandbox, tmp_path):
    """Captcha redirect -> cool-down in the lake; a run during it sends nothing; then resumes."""
    import json
    import re

    lake_dir = tmp_path / "lake"
    asset = BY_NAME["trends_interest_over_time"]  # with the real retry policy
    trends_sandbox.block()
    first = dg.materialize([asset], partition_key=partition("fr"),
                           resources=resources(trends_sandbox, lake_dir), raise_on_error=False)
    assert not first.success and not _retried(first)
    assert "refused this client (302 to its captcha page" in _failure_text(first)
    state = json.loads((lake_dir / "state/trends_cooldown.json").read_text())
    assert state["refusals"] == 1
    assert not list(lake_dir.rglob("*.parquet"))

    trends_sandbox.reset()  # Google would answer again now, but the cool-down runs
    second = dg.materialize([asset], partition_key=partition("world"),
                            resources=resources(trends_sandbox, lake_dir), raise_on_error=False)
    assert not second.success and not _retried(second)
    assert re.search(COOLDOWN_LINE, _failure_text(second))
    assert trends_sandbox.requests == []  # nothing requested

    # time passes: the cool-down is over, the next (scheduled) run collects by itself
    state["until"] = (NOW - timedelta(minutes=1)).isoformat()
    (lake_dir / "state/trends_cooldown.json").write_text(json.dumps(state))
    third = dg.materialize([asset], partition_key=partition("fr"),
                           resources=resources(trends_sandbox, lake_dir))
    assert third.success
    assert json.loads((lake_dir / "state/trends_cooldown.json").read_text())["refusals"] == 0  # a success ends the series


def test_a_transient_fault_past_the_client_backoff_is_retried_by_the_step(
    trends_sandbox, tmp_path: Path
) -> None:
    trends_sandbox.inject("503", times=None, path="/api/explore")
    quick = dg.RetryPolicy(max_retries=2, delay=0)
    asset = trends_assets(ELECTION, retry_policy=quick)[0]
    result = dg.materialize([asset], partition_key=partition("fr"),
                            resources=resources(trends_sandbox, tmp_path / "lake"),
                            raise_on_error=False)
    assert not result.success
    retries = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert len(retries) == 2  # then the step fails: the instance's run retries may apply
    assert sum(1 for r in trends_sandbox.requests if "/api/explore" in r.path) == 3 * 3


def test_a_429_is_a_refusal_not_retried(trends_sandbox, tmp_path: Path) -> None:
    trends_sandbox.inject("429", times=None, path="/api/explore")
    result = dg.materialize(
        [BY_NAME["trends_related_queries"]],
        partition_key=partition("world"),
        resources=resources(trends_sandbox, tmp_path / "lake"),
        raise_on_error=False,
    )
    assert not result.success and not _retried(result)
    assert "refused this client (429 on POST /trends/api/explore)" in _failure_text(result)
    assert [r.status for r in trends_sandbox.requests] == [404, 429]
    assert not list((tmp_path / "lake").rglob("*.parquet"))


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("other_keywords", r"asked Google Trends for \['Emmanuel Macron', .*it answered for "
                           r"\['licorice pizza'"),
        ("narrow_series", r"carries \d values"),
    ],
)
def test_an_answer_about_something_else_lands_nothing(trends_sandbox, tmp_path, fault, message):
    import re

    trends_sandbox.inject(fault, times=None)
    result = dg.materialize(
        [BY_NAME["trends_interest_over_time"]], partition_key=partition("fr"),
        resources=resources(trends_sandbox, tmp_path / "lake"), raise_on_error=False,
    )
    assert not result.success and not _retried(result)
    assert re.search(message, _failure_text(result))
    assert "KeyError" not in _failure_text(result) and "IndexError" not in _failure_text(result)
    assert not list((tmp_path / "lake").rglob("*.parquet"))


def test_regions_of_another_geography_land_nothing(trends_sandbox, tmp_path: Path) -> None:
    trends_sandbox.inject("other_geo", times=None, path="comparedgeo")
    result = dg.materialize(
        [BY_NAME["trends_interest_by_region"]], partition_key=partition("fr"),
        resources=resources(trends_sandbox, tmp_path / "lake"), raise_on_error=False,
    )
    assert not result.success and not _retried(result)
    assert "asked Google Trends for regions of FR" in _failure_text(result)
    assert not list((tmp_path / "lake").rglob("*.parquet"))


def test_the_hourly_schedule_skips_during_a_cooldown(tmp_path: Path) -> None:
    from elex_assets.core.lake import Lake
    from elex_assets.core.trends.state import TrendsGate
    from elex_assets.defs.trends.assets import trends_hourly_schedule, trends_job

    job = trends_job(ELECTION)
    schedule = trends_hourly_schedule(job, ELECTION, lake_url=str(tmp_path))
    repo = dg.Definitions(
        assets=ASSETS, jobs=[job], schedules=[schedule],
        resources={"lake": LakeResource(url=str(tmp_path)),
                   "registry": RegistryResource(election="2027"), "trends": TrendsResource()},
    ).get_repository_def()
    when = datetime(2027, 3, 1, 14, 5, tzinfo=UTC)

    def tick() -> dg.ScheduleExecutionData:
        context = dg.build_schedule_context(scheduled_execution_time=when, repository_def=repo)
        return repo.get_schedule_def("trends_hourly").evaluate_tick(context)

    assert len(tick().run_requests) == 2
    gate = TrendsGate(Lake.from_url(str(tmp_path)))
    gate.refused("429")
    skipped = tick()
    assert not skipped.run_requests
    assert skipped.skip_message.startswith("Google Trends is refusing this client until")
    gate.succeeded()
    assert len(tick().run_requests) == 2  # resumes by itself
