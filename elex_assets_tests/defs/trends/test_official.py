"""TRENDS_BACKEND=official: the official Trends API (alpha) against the sandbox, over HTTP.

The sandbox's clock is fixed (``NOW``): Google's data runs to two days before it,
and its newest days are partial. No test reads the wall clock.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from elex_assets.core.lake import Lake
from elex_assets.core.layout import clean_trends_key, trends_revisions_key
from elex_assets.core.registry import load_registry
from elex_assets.core.schemas import TRENDS
from elex_assets.core.trends.errors import TrendsBudgetExceeded, TrendsConfigError
from elex_assets.core.trends.official import OfficialClient, load_token
from elex_assets.core.trends.official_budget import BUDGET_KEY, RequestBudget
from elex_assets.defs.trends.assets import trends_assets
from elex_assets.defs.trends.resources import TrendsResource
from elex_assets.resources import LakeResource, RegistryResource
from elex_assets.sandbox.trends_server import TrendsSandbox

REGISTRY = load_registry("2027")
SELECTED = {c.id for c in REGISTRY.selected()}
TERMS = len({c.name for c in REGISTRY.selected()})
BY_NAME = {a.key.path[-1]: a for a in trends_assets(REGISTRY.election, retry_policy=None)}
SERIES, REGIONS = BY_NAME["trends_interest_over_time"], BY_NAME["trends_interest_by_region"]
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DAY = date(2026, 11, 18)  # the newest day with data at NOW


@pytest.fixture
def sandbox(trends_sandbox: TrendsSandbox) -> TrendsSandbox:
    trends_sandbox.official.clock = lambda: NOW
    return trends_sandbox


def resources(sandbox: TrendsSandbox, lake_dir: Path, **extra) -> dict[str, object]:
    return {
        "lake": LakeResource(url=str(lake_dir)),
        "registry": RegistryResource(election="2027"),
        "trends": TrendsResource(
            base_url=sandbox.base_url,
            official_base_url=sandbox.base_url,
            backend="official",
            min_interval_seconds=0.0,
            official_poll_seconds=0.0,
            **extra,
        ),
    }


def partition(area: str, day: date = DAY) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({"area": area, "date": day.isoformat()})


def run(assets, sandbox, lake_dir, area="fr", day=DAY, **extra) -> dg.ExecuteInProcessResult:
    return dg.materialize(assets, partition_key=partition(area, day),
                          resources=resources(sandbox, lake_dir, **extra), raise_on_error=False)


def fetches(sandbox: TrendsSandbox) -> list[str]:
    return [r.path for r in sandbox.requests if ":fetch" in r.path]


@pytest.mark.parametrize("area", ["fr", "world"])
def test_official_backend_lands_both_tables(sandbox: TrendsSandbox, tmp_path, area) -> None:
    lake_dir = tmp_path / "lake"
    assert run([SERIES, REGIONS], sandbox, lake_dir, area).success
    series = pl.read_parquet(lake_dir / clean_trends_key("interest_over_time", area, DAY))
    assert series.schema == TRENDS["interest_over_time"].polars
    assert set(series["backend"]) == {"official"} and set(series["candidate_id"]) == SELECTED
    assert set(series["date"]) == {DAY}  # only the partition's day, though 7 were fetched
    # the official share has its own column; the web anchor unit stays empty
    assert series["value_comparable"].null_count() == series.height
    assert series["search_interest_share"].min() > 0
    assert series["value"].max() <= 100 and series["anchor"].null_count() == series.height
    regions = pl.read_parquet(lake_dir / clean_trends_key("interest_by_region", area, DAY))
    assert set(regions["backend"]) == {"official"}
    assert regions["geo_name"].null_count() == regions.height  # Google names areas by code only
    if area == "fr":
        assert regions["geo_code"].str.starts_with("FR-").all()
    assert len(fetches(sandbox)) == 2 * TERMS
    polls = [r for r in sandbox.requests if r.path.startswith("/v1alpha/operations/v1alpha.")]
    assert len(polls) == 2 * len(fetches(sandbox))  # not done at the first poll, then done
    assert not any(p.startswith("/trends/") for p in (r.path for r in sandbox.requests))


def test_related_lists_stay_on_the_web_backend(sandbox: TrendsSandbox, tmp_path) -> None:
    assert run([BY_NAME["trends_related_queries"]], sandbox, tmp_path / "lake").success
    assert {r.path for r in sandbox.requests} >= {"/trends/api/explore"}


@pytest.mark.parametrize("lie", ["other_keywords", "other_geo", "other_window",
                                 "other_resolution", "extra_point"])
def test_an_answer_about_another_request_lands_nothing(sandbox, tmp_path, lie) -> None:
    lake_dir = tmp_path / "lake"
    sandbox.official.lie = lie
    result = run([SERIES], sandbox, lake_dir)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "TrendsMismatch" in str(failure.event_specific_data.error.cause)
    assert not (lake_dir / "clean").exists()
    assert len(fetches(sandbox)) == 1  # the first foreign answer stops the run


def test_a_quota_refusal_cools_down_the_official_api_only(sandbox, tmp_path) -> None:
    lake_dir = tmp_path / "lake"
    sandbox.inject("429", times=None, path=":fetchTimeSeries")
    result = run([SERIES], sandbox, lake_dir)
    assert not result.success
    assert not any(e.event_type_value == "STEP_UP_FOR_RETRY" for e in result.all_events)
    assert len(fetches(sandbox)) == 1  # no retry
    cooldown = json.loads((lake_dir / "state/trends_official_cooldown.json").read_text())
    assert "429 RESOURCE_EXHAUSTED" in cooldown["reason"]
    assert not (lake_dir / "state/trends_cooldown.json").exists()  # the web API is not blocked
    sandbox.reset()
    assert not run([SERIES], sandbox, lake_dir).success and sandbox.requests == []
    assert run([BY_NAME["trends_related_queries"]], sandbox, lake_dir).success


def test_an_operation_ending_resource_exhausted_starts_the_cool_down(sandbox, tmp_path) -> None:
    lake_dir = tmp_path / "lake"
    sandbox.official.lie = "resource_exhausted"
    assert not run([SERIES], sandbox, lake_dir).success
    assert len(fetches(sandbox)) == 1
    cooldown = json.loads((lake_dir / "state/trends_official_cooldown.json").read_text())
    assert "RESOURCE_EXHAUSTED in operation v1alpha." in cooldown["reason"]
    assert not (lake_dir / "clean").exists()


def test_the_daily_budget_holds_across_runs(sandbox, tmp_path) -> None:
    """A budget of one run's requests: the second run (another process) sends nothing."""
    lake_dir = tmp_path / "lake"
    assert run([SERIES], sandbox, lake_dir, official_max_requests_per_day=TERMS).success
    sent = len(fetches(sandbox))
    result = run([REGIONS], sandbox, lake_dir, official_max_requests_per_day=TERMS)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "TrendsBudgetExceeded" in str(failure.event_specific_data.error.cause)
    assert "budget of 16 requests" in failure.event_specific_data.error.message
    assert len(fetches(sandbox)) == sent == TERMS  # stopped before sending
    assert not (lake_dir / clean_trends_key("interest_by_region", "fr", DAY)).exists()


def test_budget_counts_fetches_per_utc_day_and_refuses_before_sending(sandbox, tmp_path) -> None:
    lake = Lake.from_url(str(tmp_path / "lake"))
    clock = {"now": NOW}
    budget = RequestBudget(lake, per_day=2, clock=lambda: clock["now"])
    client = OfficialClient("fr", base_url=sandbox.base_url, budget=budget,
                            min_interval=0.0, poll_interval=0.0)
    client.time_series("Marine Le Pen", DAY)
    client.geo_breakdown("Marine Le Pen", DAY)
    with pytest.raises(TrendsBudgetExceeded, match="TRENDS_OFFICIAL_MAX_REQUESTS_PER_DAY"):
        client.time_series("Marine Le Pen", DAY)
    assert len(fetches(sandbox)) == 2
    counted = json.loads(lake.read_bytes(BUDGET_KEY))["days"]["2026-11-20"]
    assert counted == {"fetches": 2, "polls": 4, "points": 1 + 13}
    clock["now"] = NOW + timedelta(days=1)  # a new UTC day: a new budget
    client.time_series("Marine Le Pen", DAY)
    assert len(fetches(sandbox)) == 3


def test_partial_days_are_fetched_again_and_revisions_kept(sandbox, tmp_path) -> None:
    """The next day's window re-fetches landed days: a differing answer is a new revision."""
    lake_dir = tmp_path / "lake"
    first, second = DAY - timedelta(days=1), DAY
    assert run([SERIES], sandbox, lake_dir, day=first).success
    key = lake_dir / clean_trends_key("interest_over_time", "fr", first)
    before = pl.read_parquet(key)
    assert before["is_partial"].all()

    sandbox.official.revision_noise = 0.1  # testers see +-10% between fetches of a past day
    sandbox.official.clock = lambda: NOW + timedelta(days=3)  # first is final by now
    assert run([SERIES], sandbox, lake_dir, day=second).success
    after = pl.read_parquet(key)
    assert not after["is_partial"].any()
    assert after["collected_at"].min() > before["collected_at"].max()  # the newest revision
    revisions = pl.read_parquet(lake_dir / trends_revisions_key("interest_over_time", "fr", first))
    assert revisions.group_by("candidate_id").len()["len"].to_list() == [2] * len(SELECTED)
    assert revisions["collected_at"].n_unique() == 2
    old = revisions.filter(pl.col("collected_at") == before["collected_at"].max())
    assert old.sort("candidate_id")["search_interest_share"].to_list() == \
        before.sort("candidate_id")["search_interest_share"].to_list()  # kept, not overwritten


def test_real_hosts_need_credentials_named_by_their_variable() -> None:
    with pytest.raises(TrendsConfigError, match="TRENDS_CREDENTIALS_FILE"):
        load_token(None, "https://searchtrends.googleapis.com")


def test_a_credentials_file_of_another_kind_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "key.json"
    path.write_text(json.dumps({"type": "external_account"}))
    with pytest.raises(TrendsConfigError, match="expected 'service_account' or 'authorized_user'"):
        load_token(str(path), "https://searchtrends.googleapis.com")


def test_google_auth_refreshes_an_authorized_user_token(sandbox, tmp_path) -> None:
    """The real google-auth refresh flow, against the sandbox's OAuth token endpoint."""
    path = tmp_path / "token.json"
    path.write_text(json.dumps({
        "type": "authorized_user", "client_id": "elex.apps.googleusercontent.com",
        "client_secret": "not-a-secret", "refresh_token": "1//sandbox",
        "token_uri": f"{sandbox.base_url}/token",
    }))
    token = load_token(str(path), sandbox.base_url)
    client = OfficialClient("fr", base_url=sandbox.base_url, token=token,
                            min_interval=0.0, poll_interval=0.0)
    series = client.time_series("Marine Le Pen", DAY)
    assert series.height == 1
    assert "/token" in [r.path for r in sandbox.requests]


def test_a_token_the_api_refuses_is_a_named_error(sandbox: TrendsSandbox) -> None:
    client = OfficialClient("fr", base_url=sandbox.base_url, token=lambda: "expired",
                            min_interval=0.0, poll_interval=0.0)
    with pytest.raises(TrendsConfigError, match="401 .*TRENDS_CREDENTIALS_FILE"):
        client.time_series("Marine Le Pen", DAY)
