"""TRENDS_BACKEND=official: the official Trends API (alpha) against the sandbox, over HTTP."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from elex_assets.core.lake import Lake
from elex_assets.core.layout import clean_trends_key
from elex_assets.core.registry import load_registry
from elex_assets.core.schemas import TRENDS
from elex_assets.core.trends.errors import TrendsConfigError
from elex_assets.core.trends.official import OfficialClient, load_token
from elex_assets.defs.trends.assets import partial_run_requests, trends_assets
from elex_assets.defs.trends.resources import TrendsResource
from elex_assets.resources import LakeResource, RegistryResource
from elex_assets.sandbox import trends_data as truth
from elex_assets.sandbox.trends_server import TrendsSandbox
from elex_assets_tests.clock import NOW

pytestmark = pytest.mark.usefixtures("fixed_now")  # "now" is clock.NOW: fixed data

REGISTRY = load_registry("2027")
SELECTED = {c.id for c in REGISTRY.selected()}
BY_NAME = {a.key.path[-1]: a for a in trends_assets(REGISTRY.election)}
DAY = (NOW - timedelta(days=1)).date()


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


def partition(area: str, day=DAY) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({"area": area, "date": day.isoformat()})


@pytest.mark.parametrize("area", ["fr", "world"])
def test_official_backend_lands_both_tables(trends_sandbox: TrendsSandbox, tmp_path, area) -> None:
    lake_dir = tmp_path / "lake"
    assets = [BY_NAME["trends_interest_over_time"], BY_NAME["trends_interest_by_region"]]
    result = dg.materialize(assets, partition_key=partition(area),
                            resources=resources(trends_sandbox, lake_dir))
    assert result.success
    series = pl.read_parquet(lake_dir / clean_trends_key("interest_over_time", area, DAY))
    assert series.schema == TRENDS["interest_over_time"].polars
    assert set(series["backend"]) == {"official"} and set(series["candidate_id"]) == SELECTED
    assert series["anchor"].null_count() == series.height  # no anchor: consistently scaled
    # value_comparable is the API's searchInterest as sent: the true daily volume / 100
    for row in series.iter_rows(named=True):
        assert row["value_comparable"] == pytest.approx(
            truth.day_volume(row["keyword"], area, DAY) / 100, abs=1e-4  # sent to 4 decimals
        )
    regions = pl.read_parquet(lake_dir / clean_trends_key("interest_by_region", area, DAY))
    assert set(regions["backend"]) == {"official"}
    if area == "fr":
        assert regions["geo_code"].str.starts_with("FR-").all()
    paths = {r.path for r in trends_sandbox.requests}
    assert {"/v1alpha:fetchTimeSeries", "/v1alpha:fetchGeoBreakdown"} <= paths
    assert not any(p.startswith("/trends/") for p in paths)  # the web API was not asked
    polls = [r for r in trends_sandbox.requests if r.path.startswith("/v1alpha/operations/")]
    assert len(polls) == 2 * len([r for r in trends_sandbox.requests if ":fetch" in r.path])


def test_related_lists_stay_on_the_web_backend(trends_sandbox: TrendsSandbox, tmp_path) -> None:
    result = dg.materialize([BY_NAME["trends_related_queries"]], partition_key=partition("fr"),
                            resources=resources(trends_sandbox, tmp_path / "lake"))
    assert result.success
    assert {r.path for r in trends_sandbox.requests} >= {"/trends/api/explore"}


def test_a_partial_point_is_fetched_again_by_a_later_run(trends_sandbox, tmp_path) -> None:
    lake_dir = tmp_path / "lake"
    asset = BY_NAME["trends_interest_over_time"]
    trends_sandbox.official.partial_lag = timedelta(days=2)  # yesterday is not final yet
    assert dg.materialize([asset], partition_key=partition("fr"),
                          resources=resources(trends_sandbox, lake_dir)).success
    key = clean_trends_key("interest_over_time", "fr", DAY)
    assert pl.read_parquet(lake_dir / key)["is_partial"].all()

    now = NOW
    requests = partial_run_requests(Lake.from_url(str(lake_dir)), REGISTRY.election, now)
    assert [str(r.partition_key) for r in requests] == [f"fr|{DAY.isoformat()}"]

    trends_sandbox.official.partial_lag = timedelta(0)  # Google's data for the day is complete
    assert dg.materialize([asset], partition_key=requests[0].partition_key,
                          resources=resources(trends_sandbox, lake_dir)).success
    assert not pl.read_parquet(lake_dir / key)["is_partial"].any()
    assert partial_run_requests(Lake.from_url(str(lake_dir)), REGISTRY.election, now) == []


def test_real_hosts_need_credentials_named_by_their_variable() -> None:
    with pytest.raises(TrendsConfigError, match="TRENDS_CREDENTIALS_FILE"):
        load_token(None, "https://searchtrends.googleapis.com")


def test_a_credentials_file_of_another_kind_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "key.json"
    path.write_text(json.dumps({"type": "external_account"}))
    with pytest.raises(TrendsConfigError, match="expected 'service_account' or 'authorized_user'"):
        load_token(str(path), "https://searchtrends.googleapis.com")


def test_google_auth_refreshes_an_authorized_user_token(trends_sandbox, tmp_path) -> None:
    """The real google-auth refresh flow, against the sandbox's OAuth token endpoint."""
    path = tmp_path / "token.json"
    path.write_text(json.dumps({
        "type": "authorized_user", "client_id": "elex.apps.googleusercontent.com",
        "client_secret": "not-a-secret", "refresh_token": "1//sandbox",
        "token_uri": f"{trends_sandbox.base_url}/token",
    }))
    token = load_token(str(path), trends_sandbox.base_url)
    client = OfficialClient("fr", base_url=trends_sandbox.base_url, token=token,
                            min_interval=0.0, poll_interval=0.0)
    series = client.time_series("Marine Le Pen", DAY)
    assert series.height == 1
    assert "/token" in [r.path for r in trends_sandbox.requests]


def test_a_token_the_api_refuses_is_a_named_error(trends_sandbox: TrendsSandbox) -> None:
    client = OfficialClient("fr", base_url=trends_sandbox.base_url, token=lambda: "expired",
                            min_interval=0.0, poll_interval=0.0)
    with pytest.raises(TrendsConfigError, match="401 .*TRENDS_CREDENTIALS_FILE"):
        client.time_series("Marine Le Pen", DAY)


def test_a_quota_refusal_cools_down_the_official_api_only(trends_sandbox, tmp_path) -> None:
    lake_dir = tmp_path / "lake"
    trends_sandbox.inject("429", times=None, path=":fetchTimeSeries")
    result = dg.materialize([BY_NAME["trends_interest_over_time"]], partition_key=partition("fr"),
                            resources=resources(trends_sandbox, lake_dir), raise_on_error=False)
    assert not result.success
    assert not any(e.event_type_value == "STEP_UP_FOR_RETRY" for e in result.all_events)
    assert (lake_dir / "state/trends_official_cooldown.json").exists()
    assert not (lake_dir / "state/trends_cooldown.json").exists()  # the web API is not blocked
    trends_sandbox.reset()
    again = dg.materialize([BY_NAME["trends_interest_over_time"]], partition_key=partition("fr"),
                           resources=resources(trends_sandbox, lake_dir), raise_on_error=False)
    assert not again.success and trends_sandbox.requests == []  # nothing requested
    assert dg.materialize([BY_NAME["trends_related_queries"]], partition_key=partition("fr"),
                          resources=resources(trends_sandbox, lake_dir)).success
