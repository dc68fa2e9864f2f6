"""Every recorded Google Trends exchange, replayed on loopback through the elex client.

The recordings (``elex_assets_tests/recordings/trends``, see its PROVENANCE.md)
are Google's real answers to pytrends. For each cassette this test says what
elex makes of it: the rows a user gets, or the named error that stops the run.
At the end of each case every exchange of the cassette has been served.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import UTC, datetime

import polars as pl
import pytest
from pytrends.request import TrendReq

from elex_assets.core.trends.client import Politeness, Transport, TrendsClient, TrendsMismatch
from elex_assets_tests.trends_replay import ReplayServer, cassettes, exchanges

CASSETTES = cassettes()
YEAR = "2021-01-01 2021-12-31"
FIVE_DAYS = "2021-01-01 2021-01-05"


def client_on(server: ReplayServer) -> TrendsClient:
    transport = Transport(
        base_url=server.base_url,
        politeness=Politeness(min_interval=0.0, max_attempts=1),
        hl="en-US",
        sleep=lambda s: None,
        rng=random.Random(0),
    )
    return TrendsClient("world", transport)


def _cookie_only(client: TrendsClient) -> None:
    assert client.transport.cookie("US")["NID"].startswith("511=")


def _over_time_ok(client: TrendsClient) -> None:
    rows = client.interest_over_time(["pizza", "bagel"], FIVE_DAYS)
    assert rows.height == 10
    pizza = rows.filter(pl.col("keyword") == "pizza").sort("timestamp")
    assert pizza["value"].to_list() == [100, 83, 78, 49, 50]
    assert pizza["timestamp"][0] == datetime(2021, 1, 1, tzinfo=UTC)
    assert not rows["is_partial"].any()


def _other_property(prop: str) -> Callable[[TrendsClient], None]:
    def check(client: TrendsClient) -> None:
        with pytest.raises(TrendsMismatch, match=f"web search.*'{prop}' search"):
            client.interest_over_time(["pizza", "bagel"], FIVE_DAYS)
        # the data exchange, read through the same transport: the usual 5 daily points
        widget = client.req.explore_answer["widgets"][0]
        answer = client.transport.get_json(
            TrendReq.INTEREST_OVER_TIME_URL, trim_chars=5,
            params={"req": json.dumps(widget["request"]), "token": widget["token"], "tz": 0},
        )
        assert [len(p["value"]) for p in answer["default"]["timelineData"]] == [2] * 5

    return check


def _partial(client: TrendsClient) -> None:
    rows = client.interest_over_time(["pizza", "bagel"], "today 5-y")
    assert rows.height == 2 * 260  # weekly, 5 years
    last = rows.sort("timestamp")["timestamp"][-1]
    assert rows.filter(pl.col("timestamp") == last)["is_partial"].all()
    assert rows.filter(pl.col("is_partial"))["timestamp"].n_unique() == 1


def _multiple_regions(client: TrendsClient) -> None:
    with pytest.raises(TrendsMismatch, match=r"asked Google Trends for \['pizza', 'bagel'\]"):
        client.interest_over_time(["pizza", "bagel"], "today 5-y")
    widget = client.req.explore_answer["widgets"][0]
    answer = client.transport.get_json(
        TrendReq.INTEREST_OVER_TIME_URL, trim_chars=5,
        params={"req": json.dumps(widget["request"]), "token": widget["token"], "tz": 0},
    )
    assert len(answer["default"]["timelineData"]) == 261


def _multirange(client: TrendsClient) -> None:
    """Two windows in one comparison: elex asked one window (and other terms, once)."""
    with pytest.raises(TrendsMismatch, match=r"2021-01-06 2021-01-10|\['pizza', 'pizza'\]"):
        client.interest_over_time(["pizza", "bagel"], FIVE_DAYS)
    widget = client.req.explore_answer["widgets"][0]
    answer = client.transport.get_json(
        "https://trends.google.com/trends/api/widgetdata/multirange", trim_chars=5,
        params={"req": json.dumps(widget["request"]), "token": widget["token"], "tz": 0},
    )
    assert "timelineData" in answer["default"]


def _by_region(client: TrendsClient) -> None:
    rows = client.compared_by_region(["pizza", "bagel"], YEAR)
    assert set(rows["keyword"]) == {"pizza", "bagel"}
    assert rows.height == 2 * rows["geo_code"].n_unique()
    usa = rows.filter(pl.col("geo_code") == "US").sort("keyword")
    assert usa["value"].to_list() == [3, 97]  # bagel "3%", pizza "97%"
    # "" (no data) reads 0
    assert rows.filter(pl.col("geo_code") == "PR")["value"].to_list() == [0, 0]


def _explore_only(client: TrendsClient) -> None:
    answer = client._explore(["pizza", "bagel"], YEAR)
    assert [w["id"] for w in answer["widgets"]][:3] == ["TIMESERIES", "GEO_MAP", "TITLE_0"]


def _build_payload(client: TrendsClient) -> None:
    answer = client._explore(["pizza", "bagel"], "today 5-y")
    assert answer["widgets"][0]["request"]["resolution"] == "WEEK"


def _related_queries(client: TrendsClient) -> None:
    rows = client.compared_related_queries(["pizza", "bagel"], YEAR)
    pizza = rows.filter((pl.col("keyword") == "pizza") & (pl.col("ranking") == "top"))
    assert pizza["query"][0] == "pizza hut" and pizza["value"][0] == 100
    rising = rows.filter(pl.col("ranking") == "rising")
    assert rising.height > 0 and rising["formatted_value"].null_count() == 0
    assert set(rows["keyword"]) == {"pizza", "bagel"}


def _related_topics(client: TrendsClient) -> None:
    rows = client.related_topics("pizza", YEAR)
    top = rows.filter(pl.col("ranking") == "top")
    assert top["topic_title"][0] == "Pizza" and top["topic_mid"][0] == "/m/0663v"
    assert top["topic_type"][0] == "Dish"
    assert rows.filter(pl.col("ranking") == "rising").height > 0


def _unused_endpoint(url: str, key: str) -> Callable[[TrendsClient], None]:
    """Endpoints elex never calls: the transport still decodes Google's answer."""

    def check(client: TrendsClient) -> None:
        _cookie_only(client)
        prefix = 5 if "autocomplete" in url else (4 if "/api/" in url else 0)
        answer = client.transport.get_json(url, trim_chars=prefix, params={"hl": "en-US"})
        assert key in answer

    return check


EXPECTED: dict[str, Callable[[TrendsClient], None]] = {
    "test_build_payload": _build_payload,
    "test_initial_data": _cookie_only,
    "test_interest_by_region_city_resolution": _by_region,
    "test_interest_by_region_ok": _by_region,
    "test_interest_over_time_bad_gprop": _cookie_only,
    "test_interest_over_time_froogle": _other_property("froogle"),
    "test_interest_over_time_images": _other_property("images"),
    "test_interest_over_time_multiple_regions": _multiple_regions,
    "test_interest_over_time_news": _other_property("news"),
    "test_interest_over_time_ok": _over_time_ok,
    "test_interest_over_time_partial": _partial,
    "test_interest_over_time_youtube": _other_property("youtube"),
    "test_multirange_interest_over_time_ok": _multirange,
    "test_multirange_interest_over_time_same_keyword_ok": _multirange,
    "test_realtime_trending_searches_ok": _unused_endpoint(
        TrendReq.REALTIME_TRENDING_SEARCHES_URL, "storySummaries"
    ),
    "test_related_queries_result_keys": _related_queries,
    "test_related_queries_result_rising": _related_queries,
    "test_related_queries_result_top": _related_queries,
    "test_related_topics_result_keys": _related_topics,
    "test_related_topics_result_rising": _related_topics,
    "test_related_topics_result_top": _related_topics,
    "test_suggestions_ok": _unused_endpoint(
        "https://trends.google.com/trends/api/autocomplete/pizza", "default"
    ),
    "test_tokens": _explore_only,
    "test_top_charts_ok": _unused_endpoint(TrendReq.TOP_CHARTS_URL, "topCharts"),
    "test_trending_searches_ok": _unused_endpoint(
        TrendReq.TRENDING_SEARCHES_URL, "united_states"
    ),
}


def test_every_recorded_cassette_has_an_expectation() -> None:
    assert set(EXPECTED) == set(CASSETTES)
    assert len(exchanges()) == sum(len(c) for c in CASSETTES.values())


@pytest.mark.parametrize("name", sorted(CASSETTES))
def test_recorded_exchange(name: str) -> None:
    with ReplayServer(CASSETTES[name]) as server:
        EXPECTED[name](client_on(server))
        # every exchange of the cassette was asked for, the cookie call first
        assert sorted(server.served) == sorted(e.name for e in CASSETTES[name])
        assert server.served[0] == f"{name}/0"
        # the recorded 404 cookie call's NID went along with every later request
        assert all("NID=511=" in (c or "") for c in server.cookies_sent[1:])
