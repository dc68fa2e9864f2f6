"""Google's four documented official Trends API answers, replayed through elex's client.

The examples ask for "world cup" in GB, 2024-12-01..2025-08-31, by MONTH (time
series) and by GEO_TYPE_ADMINISTRATIVE_AREA1 (geo breakdown). elex asks the
same, the replay answers exactly what Google's page shows, and the test checks
what elex reads from it and which paths it asked.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from elex_assets.core.trends.client import Area
from elex_assets.core.trends.errors import TrendsMismatch, TrendsResponseError
from elex_assets.core.trends.official import OfficialClient
from elex_assets_tests.trends_official_replay import OfficialReplay, example

FIRST, LAST = date(2024, 12, 1), date(2025, 8, 31)
TERM, GEO = "world cup", "GB"
AREA1 = "GEO_TYPE_ADMINISTRATIVE_AREA1"


def client(replay: OfficialReplay) -> OfficialClient:
    # area "world": the examples' geography (GB) is passed explicitly
    return OfficialClient("world", base_url=replay.base_url, min_interval=0.0, poll_interval=0.0)


def series(replay: OfficialReplay, **ask):
    args = {"term": TERM, "first_day": FIRST, "last_day": LAST, "resolution": "MONTH",
            "geo": GEO, **ask}
    return client(replay).series(**args)


def breakdown(replay: OfficialReplay, **ask):
    args = {"term": TERM, "first_day": FIRST, "last_day": LAST, "resolution": AREA1,
            "geo": GEO, **ask}
    return client(replay).breakdown(**args)


def test_time_series_example_is_read_point_by_point() -> None:
    with OfficialReplay("fetchTimeSeries") as replay:
        points = series(replay)
    assert len(points) == 9  # the operation's pointCount
    assert [(p.start.date(), p.search_interest, p.scaled) for p in points[:2]] == [
        (date(2024, 12, 1), 65000.0, 17), (date(2025, 1, 1), 43000.0, 11)]
    assert max(points, key=lambda p: p.scaled).start == datetime(2025, 6, 1, tzinfo=UTC)
    # the last month runs past 2025-08-31: accepted because Google flags it so
    assert points[-1].end == datetime(2025, 9, 1, tzinfo=UTC)
    assert not any(p.is_partial for p in points)


def test_elex_sends_the_documented_spec_and_polls_operations_name() -> None:
    with OfficialReplay("fetchTimeSeries") as replay:
        series(replay)
    (post, path, body), (get, poll, _) = replay.requests
    assert (post, path) == ("POST", "/v1alpha:fetchTimeSeries")
    assert body == {"spec": example("fetchTimeSeries", "start")["metadata"]["spec"]}
    # Google's sample: operations.get(name="operations/" + response["name"])
    assert (get, poll) == ("GET", "/v1alpha/operations/v1alpha.11111111-1111-1111-1111-111111111111")


def test_geo_breakdown_example_names_areas_by_subgeo_code() -> None:
    with OfficialReplay("fetchGeoBreakdown") as replay:
        points = breakdown(replay)
    assert [(p.code, p.geo_type, p.search_interest, p.scaled) for p in points] == [
        ("GB-ENG", AREA1, 130000.0, 100), ("GB-NIR", AREA1, 120000.0, 91),
        ("GB-SCT", AREA1, 110000.0, 82), ("GB-WLS", AREA1, 120000.0, 89)]
    assert replay.requests[0][2] == {"spec": example("fetchGeoBreakdown", "start")["metadata"]["spec"]}
    assert replay.requests[1][1] == "/v1alpha/operations/v1alpha.22222222-2222-2222-2222-222222222222"


def test_the_documented_answer_fills_the_official_columns() -> None:
    """The frame the assets land: scaledSearchInterest in ``value`` (0-100 within the
    request), searchInterest in ``search_interest_share``; no ``value_comparable``."""
    with OfficialReplay("fetchTimeSeries") as replay:
        c = client(replay)
        c.area = Area("gb", GEO, "en-GB")  # the examples' geography as an area
        frame = c.time_series(TERM, FIRST, LAST, resolution="MONTH")
    assert "value_comparable" not in frame.columns
    assert frame.row(6, named=True) == {
        "keyword": TERM, "timestamp": datetime(2025, 6, 1, tzinfo=UTC), "value": 100,
        "search_interest_share": 380000.0, "is_partial": False}


@pytest.mark.parametrize(
    ("ask", "said"),
    [
        ({"term": "euro 2024"}, "terms"),
        ({"geo": "FR"}, "geography"),
        ({"first_day": date(2024, 11, 1)}, "covers 2024-12-01..2025-08-31"),
        ({"last_day": date(2025, 8, 30)}, "covers 2024-12-01..2025-08-31"),
        ({"resolution": "WEEK"}, "timeResolution"),
    ],
)
def test_an_answer_about_another_request_is_a_mismatch(ask, said) -> None:
    with OfficialReplay("fetchTimeSeries") as replay, pytest.raises(TrendsMismatch, match=said):
        series(replay, **ask)
    assert len(replay.requests) == 1  # refused at the start's echo: nothing polled


def test_a_geo_answer_of_another_resolution_is_a_mismatch() -> None:
    with OfficialReplay("fetchGeoBreakdown") as replay, pytest.raises(
        TrendsMismatch, match="breakdownResolution"
    ):
        breakdown(replay, resolution="GEO_TYPE_COUNTRY_OR_REGION")


def test_a_poll_answering_another_operation_is_a_mismatch() -> None:
    def other(stage, answer):
        return {**answer, "name": "v1alpha.33333333-3333-3333-3333-333333333333"} \
            if stage == "operations_get" else answer

    with OfficialReplay("fetchTimeSeries", other) as replay, pytest.raises(
        TrendsMismatch, match="answered operation 'v1alpha.3333"
    ):
        series(replay)


def test_points_fewer_than_announced_are_a_mismatch() -> None:
    def drop(stage, answer):
        if stage == "operations_get":
            answer["response"]["timeSeries"]["points"].pop()
        return answer

    with OfficialReplay("fetchTimeSeries", drop) as replay, pytest.raises(
        TrendsMismatch, match="announced 9 points and holds 8"
    ):
        series(replay)


@pytest.mark.parametrize("flagged", [True, False])
def test_a_bucket_past_the_window_needs_googles_flag(flagged: bool) -> None:
    """Asked to 2025-08-15, the August bucket runs past the window: fine only when
    Google says so (``extendsPastRequestedTimeRange``)."""
    def shorter(stage, answer):
        answer["metadata"]["spec"]["timeRange"]["endTime"] = "2025-08-15T23:59:59Z"
        if stage == "operations_get":
            answer["response"]["timeSeries"]["points"][-1]["extendsPastRequestedTimeRange"] = flagged
        return answer

    with OfficialReplay("fetchTimeSeries", shorter) as replay:
        if flagged:
            assert series(replay, last_day=date(2025, 8, 15))[-1].end.month == 9
        else:
            with pytest.raises(TrendsMismatch, match="runs past the window"):
                series(replay, last_day=date(2025, 8, 15))


def test_a_region_outside_the_country_asked_is_a_mismatch() -> None:
    def foreign(stage, answer):
        if stage == "operations_get":
            answer["response"]["geoBreakdown"]["points"][0]["subGeo"]["code"] = "FR-IDF"
        return answer

    with OfficialReplay("fetchGeoBreakdown", foreign) as replay, pytest.raises(
        TrendsMismatch, match="'FR-IDF', outside GB"
    ):
        breakdown(replay)


def test_polling_the_bare_name_is_the_404_google_answers() -> None:
    """The path elex polled before (``/v1alpha/<name>``) is not an API method."""
    with OfficialReplay("fetchTimeSeries") as replay:
        c = client(replay)
        with pytest.raises(TrendsResponseError, match="404 to GET /v1alpha/v1alpha.1111"):
            c._call("GET", "/v1alpha.11111111-1111-1111-1111-111111111111")
