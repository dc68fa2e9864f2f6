"""The official backend's schedule is derived from the daily request budget."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import dagster as dg

from elex_assets.core.lake import Lake
from elex_assets.core.registry import load_registry
from elex_assets.core.trends.official_budget import BUDGET_KEY
from elex_assets.core.trends.official_plan import plan_day
from elex_assets.defs.trends.assets import official_run_requests

ELECTION = load_registry("2027").election
TERMS = 16  # the 2027 registry's selected candidates
DAILY = datetime(2026, 11, 20, 6, 5, tzinfo=UTC)


def test_one_day_of_both_tables_fits_the_default_budget() -> None:
    plan = plan_day(DAILY, TERMS, remaining=100)
    assert plan.day == date(2026, 11, 18)  # Google's data runs to about two days ago
    assert plan.kinds == {"fr": ["interest_over_time", "interest_by_region"],
                          "world": ["interest_over_time", "interest_by_region"]}
    assert plan.requests == 64 and plan.left_out == []


def test_a_short_budget_asks_the_series_first() -> None:
    plan = plan_day(DAILY, TERMS, remaining=40)
    assert plan.kinds == {"fr": ["interest_over_time"], "world": ["interest_over_time"]}
    assert plan.requests == 32
    assert plan.left_out == [("interest_by_region", "fr"), ("interest_by_region", "world")]


def test_the_schedule_runs_once_a_day_not_hourly(tmp_path) -> None:
    lake = Lake.from_url(str(tmp_path))
    hourly = [official_run_requests(lake, ELECTION, DAILY.replace(hour=h), TERMS, 100)
              for h in range(24)]
    runs = [r for r in hourly if isinstance(r, list)]
    assert len(runs) == 1
    requests = runs[0]
    assert [r.partition_key for r in requests] == [
        dg.MultiPartitionKey({"area": "fr", "date": "2026-11-18"}),
        dg.MultiPartitionKey({"area": "world", "date": "2026-11-18"}),
    ]
    assert {k.path[-1] for k in requests[0].asset_selection} == {
        "trends_interest_over_time", "trends_interest_by_region", "trends_related_topics",
        "trends_related_queries"}
    skip = hourly[7]
    assert isinstance(skip, dg.SkipReason) and "TRENDS_OFFICIAL_MAX_REQUESTS_PER_DAY=100" in str(
        skip.skip_message)


def test_the_plan_uses_what_is_left_of_todays_budget(tmp_path) -> None:
    lake = Lake.from_url(str(tmp_path))
    lake.write_bytes(BUDGET_KEY, json.dumps(
        {"days": {"2026-11-20": {"fetches": 70, "polls": 140}}}).encode())
    requests = official_run_requests(lake, ELECTION, DAILY, TERMS, 100)
    assert isinstance(requests, list)
    assert [(str(r.partition_key), sorted(k.path[-1] for k in r.asset_selection))
            for r in requests] == [
        ("fr|2026-11-18", ["trends_interest_over_time", "trends_related_queries",
                           "trends_related_topics"])]
    lake.write_bytes(BUDGET_KEY, json.dumps({"days": {"2026-11-20": {"fetches": 90}}}).encode())
    skip = official_run_requests(lake, ELECTION, DAILY, TERMS, 100)
    assert isinstance(skip, dg.SkipReason) and "10 left today" in str(skip.skip_message)


def test_trends_hourly_follows_the_official_plan(tmp_path, monkeypatch) -> None:
    from elex_assets.defs.trends.assets import trends_assets, trends_hourly_schedule, trends_job
    from elex_assets.defs.trends.resources import TrendsResource
    from elex_assets.resources import LakeResource, RegistryResource

    monkeypatch.setenv("TRENDS_BACKEND", "official")
    monkeypatch.setenv("ELEX_ELECTION", "2027")
    job = trends_job(ELECTION)
    repo = dg.Definitions(
        assets=trends_assets(ELECTION), jobs=[job],
        schedules=[trends_hourly_schedule(job, ELECTION, lake_url=str(tmp_path))],
        resources={"lake": LakeResource(url=str(tmp_path)),
                   "registry": RegistryResource(election="2027"), "trends": TrendsResource()},
    ).get_repository_def()

    def tick(when: datetime) -> dg.ScheduleExecutionData:
        context = dg.build_schedule_context(scheduled_execution_time=when, repository_def=repo)
        return repo.get_schedule_def("trends_hourly").evaluate_tick(context)

    assert not tick(DAILY.replace(hour=14)).run_requests  # hourly ticks ask nothing
    requests = tick(DAILY).run_requests
    assert [str(r.partition_key) for r in requests] == ["fr|2026-11-18", "world|2026-11-18"]
