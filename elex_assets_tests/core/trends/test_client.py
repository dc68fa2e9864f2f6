"""The Trends client over real HTTP against the sandbox: reports, faults, politeness."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from elex_assets.core.trends.client import (
    Politeness,
    Transport,
    TrendsBlocked,
    TrendsClient,
    TrendsMismatch,
    TrendsRateLimited,
    TrendsResponseError,
    day_timeframe,
)
from elex_assets.sandbox.trends_server import TrendsSandbox
from elex_assets_tests.clock import NOW

pytestmark = pytest.mark.usefixtures("fixed_now")  # "now" is clock.NOW: fixed data

YESTERDAY = (NOW - timedelta(days=1)).date()
WINDOW = day_timeframe(YESTERDAY)
KEYWORDS = ["Emmanuel Macron", "Marine Le Pen", "Jordan Bardella"]


class Sleeps:
    """Records the sleeps asked for instead of sleeping (the client's clock stays real)."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def client_for(
    sandbox: TrendsSandbox, area: str = "fr", sleeps: Sleeps | None = None, **politeness
) -> TrendsClient:
    limits = Politeness(**{"min_interval": 0.0, "max_attempts": 4, **politeness})
    transport = Transport(
        base_url=sandbox.base_url,
        politeness=limits,
        hl="fr-FR" if area == "fr" else "en-US",
        sleep=sleeps or Sleeps(),
        rng=random.Random(1),
    )
    return TrendsClient(area, transport)


@pytest.mark.parametrize("area", ["fr", "world"])
def test_four_reports_for_each_area(trends_sandbox: TrendsSandbox, area: str) -> None:
    client = client_for(trends_sandbox, area)
    series = client.interest_over_time(KEYWORDS, WINDOW)
    assert series.height == 3 * 180  # 8-minute points for a recent day
    assert series["value"].max() == 100
    assert set(series["keyword"]) == set(KEYWORDS)
    assert series["timestamp"].dt.date().unique().to_list() == [YESTERDAY]

    regions = client.interest_by_region("Marine Le Pen", WINDOW)
    codes = regions["geo_code"].to_list()
    if area == "fr":
        assert "FR-IDF" in codes and all(c.startswith("FR-") for c in codes)
        assert "Île-de-France" in regions["geo_name"].to_list()
    else:
        assert {"FR", "BE", "US"} <= set(codes)
    assert regions["value"].max() == 100

    topics = client.related_topics("Marine Le Pen", WINDOW)
    assert set(topics["ranking"]) == {"top", "rising"}
    assert topics["topic_title"].null_count() == 0
    queries = client.related_queries("Marine Le Pen", WINDOW)
    rising = queries.filter(pl.col("ranking") == "rising")["formatted_value"].to_list()
    assert rising[:2] == ["Breakout", "+350%"]
    assert all(q.startswith("marine le pen ") for q in queries["query"])


def test_requests_go_to_the_base_url_with_the_cookie_first(trends_sandbox) -> None:
    client = client_for(trends_sandbox)
    client.interest_over_time(["Marine Le Pen"], WINDOW)
    paths = [r.path for r in trends_sandbox.requests]
    assert paths == [
        "/trends/explore/",
        "/trends/api/explore",
        "/trends/api/widgetdata/multiline",
    ]


def test_old_days_come_at_daily_resolution(trends_sandbox: TrendsSandbox) -> None:
    old = YESTERDAY - timedelta(days=30)
    assert day_timeframe(old) == f"{old} {old}"
    assert day_timeframe(YESTERDAY) == f"{YESTERDAY}T00 {YESTERDAY + timedelta(days=1)}T00"
    series = client_for(trends_sandbox).interest_over_time(KEYWORDS, day_timeframe(old))
    assert series.height == 3 and series["timestamp"].dt.date().unique().to_list() == [old]


def test_today_is_flagged_partial(trends_sandbox: TrendsSandbox) -> None:
    today = NOW.date()
    series = client_for(trends_sandbox).interest_over_time(["Marine Le Pen"], day_timeframe(today))
    assert series.sort("timestamp")["is_partial"][-1] is True
    assert series["timestamp"].max() <= NOW


@pytest.mark.parametrize("status", ["500", "502", "503"])
def test_server_errors_back_off_then_succeed(trends_sandbox, status) -> None:
    sleeps = Sleeps()
    client = client_for(trends_sandbox, sleeps=sleeps, backoff_base=1.0)
    trends_sandbox.inject(status, times=2, path="multiline")
    series = client.interest_over_time(["Marine Le Pen"], WINDOW)
    assert series.height == 180
    # two backoffs, exponential with jitter: [0.5, 1] then [1, 2] seconds
    assert len(sleeps.calls) == 2
    assert 0.5 <= sleeps.calls[0] <= 1.0 and 1.0 <= sleeps.calls[1] <= 2.0


def test_backoff_is_bounded_then_fails_plainly(trends_sandbox: TrendsSandbox) -> None:
    sleeps = Sleeps()
    client = client_for(
        trends_sandbox, sleeps=sleeps, max_attempts=5, backoff_base=10.0, backoff_max=15.0
    )
    trends_sandbox.inject("503", times=None, path="/api/explore")
    with pytest.raises(TrendsRateLimited, match=r"still failing.*after 5 attempts"):
        client.interest_over_time(["Marine Le Pen"], WINDOW)
    assert len(sleeps.calls) == 4
    assert max(sleeps.calls) <= 15.0


@pytest.mark.parametrize("fault", ["429", "captcha"])
def test_a_refusal_is_never_retried(trends_sandbox: TrendsSandbox, fault: str) -> None:
    """429, or a 302 to Google's /sorry/ captcha page: one request, a named error."""
    sleeps = Sleeps()
    client = client_for(trends_sandbox, sleeps=sleeps)
    trends_sandbox.inject(fault, times=None, path="/api/explore")
    with pytest.raises(TrendsBlocked, match="refused this client"):
        client.interest_over_time(["Marine Le Pen"], WINDOW)
    assert [r.path for r in trends_sandbox.requests] == ["/trends/explore/", "/trends/api/explore"]
    assert sleeps.calls == []


def test_the_cookie_call_answers_404_with_nid_like_google(trends_sandbox) -> None:
    client = client_for(trends_sandbox)
    client.interest_over_time(["Marine Le Pen"], WINDOW)
    cookie_call = trends_sandbox.requests[0]
    assert (cookie_call.path, cookie_call.status) == ("/trends/explore/", 404)
    assert client.transport.cookies["NID"].startswith("511=")


def test_slow_answer_times_out_and_is_retried(trends_sandbox: TrendsSandbox) -> None:
    client = client_for(trends_sandbox, timeout=0.2)
    trends_sandbox.inject("slow", times=1, path="multiline", delay=0.6)
    assert client.interest_over_time(["Marine Le Pen"], WINDOW).height == 180
    assert client.transport.requests_made == 4  # cookie, explore, multiline twice


def test_missing_content_type_is_a_clear_error(trends_sandbox: TrendsSandbox) -> None:
    client = client_for(trends_sandbox)
    trends_sandbox.inject("no_content_type", path="comparedgeo")
    with pytest.raises(TrendsResponseError, match="without a Content-Type header"):
        client.interest_by_region("Marine Le Pen", WINDOW)


@pytest.mark.parametrize("report", ["related_topics", "related_queries"])
def test_empty_ranked_list_is_an_empty_table(trends_sandbox, report: str) -> None:
    client = client_for(trends_sandbox)
    trends_sandbox.inject("empty_ranked_list", path="relatedsearches")
    table = getattr(client, report)("Marine Le Pen", WINDOW)
    assert table.height == 0
    assert "formatted_value" in table.columns


def test_pytrends_own_related_methods_survive_an_empty_list(trends_sandbox) -> None:
    """The transport pads rankedList, so pytrends' parser no longer raises IndexError."""
    client = client_for(trends_sandbox)
    client.req.build_payload(["Marine Le Pen"], timeframe=WINDOW, geo="FR")
    trends_sandbox.inject("empty_ranked_list", path="relatedsearches")
    assert client.req.related_queries()["Marine Le Pen"] == {"top": None, "rising": None}


def test_a_term_without_data_gets_google_empty_shapes(trends_sandbox) -> None:
    """No points, no regions with data ("" formatted), empty related lists: empty tables."""
    trends_sandbox.without_data("Zzyzx Candidat")
    client = client_for(trends_sandbox)
    assert client.interest_over_time(["Zzyzx Candidat"], WINDOW).height == 0
    regions = client.interest_by_region("Zzyzx Candidat", WINDOW)
    assert regions.height == 13 and regions["value"].sum() == 0
    assert client.related_queries("Zzyzx Candidat", WINDOW).height == 0


def test_minimum_interval_between_requests(trends_sandbox: TrendsSandbox) -> None:
    sleeps = Sleeps()
    client = client_for(trends_sandbox, sleeps=sleeps, min_interval=30.0)
    client.interest_over_time(["Marine Le Pen"], WINDOW)
    # cookie, explore, multiline: the two later requests each waited (most of) 30 s
    assert len(sleeps.calls) == 2 and all(25.0 < s <= 30.0 for s in sleeps.calls)


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        Politeness(max_attempts=0)
    with pytest.raises(ValueError, match="TRENDS_BASE_URL"):
        Transport(base_url="trends.google.com")
    with pytest.raises(ValueError, match="1 to 5 terms"):
        TrendsClient("fr", Transport()).interest_over_time(list("abcdef"), "x")
    with pytest.raises(ValueError, match="unknown area"):
        TrendsClient("us", Transport())


def test_backoff_grows_and_is_capped() -> None:
    limits = Politeness(backoff_base=2.0, backoff_max=60.0)
    rng = random.Random(0)
    ceilings = [2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]
    for attempt, ceiling in enumerate(ceilings, start=1):
        delay = limits.retry.backoff(attempt, rng)
        assert ceiling / 2 <= delay <= ceiling


def test_dates_are_utc_days() -> None:
    now = datetime(2026, 11, 27, 12, tzinfo=UTC)
    assert day_timeframe(date(2026, 11, 26), now) == "2026-11-26T00 2026-11-27T00"
    assert day_timeframe(date(2026, 11, 1), now) == "2026-11-01 2026-11-01"


@pytest.mark.parametrize("report", ["related_queries", "related_topics", "interest_by_region"])
def test_an_answer_for_other_keywords_is_a_named_error(trends_sandbox, report: str) -> None:
    """Every candidate once got "licorice pizza" as a related query: now it is refused."""
    trends_sandbox.inject("other_keywords", times=None, path="/api/explore")
    with pytest.raises(TrendsMismatch, match=r"asked Google Trends for \['Marine Le Pen'\], it "
                                             r"answered for \['licorice pizza'\]"):
        getattr(client_for(trends_sandbox), report)("Marine Le Pen", WINDOW)


def test_a_series_narrower_than_asked_is_a_named_error_not_a_keyerror(trends_sandbox) -> None:
    trends_sandbox.inject("narrow_series", times=None, path="multiline")
    with pytest.raises(TrendsMismatch, match=r"3 terms .* carries 2 values"):
        client_for(trends_sandbox).interest_over_time(KEYWORDS, WINDOW)


def test_world_regions_for_france_are_a_named_error(trends_sandbox) -> None:
    trends_sandbox.inject("other_geo", times=None, path="comparedgeo")
    with pytest.raises(TrendsMismatch, match=r"regions of FR, its answer holds 15 other areas"):
        client_for(trends_sandbox, "fr").interest_by_region("Marine Le Pen", WINDOW)


@pytest.mark.parametrize(
    ("asked", "answered", "resolution", "message"),
    [
        ("2026-11-01 2026-11-01", "2026-11-01 2026-11-02", "DAY", "it answered '2026-11-01 2026-11-02'"),
        ("2026-11-01 2026-11-01", "2026-11-01 2026-11-01", "WEEK", r"\(DAY expected\).*'WEEK'"),
        ("2021-01-01 2021-12-31", "2021-01-01 2021-12-31", "DAY", r"\(WEEK expected\)"),
        ("2026-11-26T00 2026-11-27T00", "2026-11-26T00 2026-11-27T00", "HOUR", "EIGHT_MINUTE"),
    ],
)
def test_window_and_resolution_must_be_the_ones_asked(asked, answered, resolution, message) -> None:
    from elex_assets.core.trends.checks import check_window, parse_window

    with pytest.raises(TrendsMismatch, match=message):
        check_window(asked, answered, resolution)
    window = parse_window(asked)
    assert window is not None
    for expected in window.expected_resolutions():
        check_window(asked, asked, expected)  # the window and resolution asked: accepted
