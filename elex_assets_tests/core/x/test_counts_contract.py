"""Contract of X's counts endpoints: each answer shape (recordings/x_counts/) replayed through
tweepy and elex's client; an answer to another request never lands as the partition's hours."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from elex_assets.core import layout
from elex_assets.core.registry import load_registry
from elex_assets.core.x.client import RetryPolicy, XClient
from elex_assets.core.x.counts import CountsMismatch, collect_counts_day, count_queries
from elex_assets.core.x.counts_check import (
    CountsRequest,
    check_coverage,
    next_token,
    page_buckets,
)
from elex_assets.sandbox.x_server import XSandbox
from elex_assets_tests.x_counts_replay import (
    RECORDINGS,
    XCountsReplay,
    exchange_names,
    pages_of,
)

QUERIES = count_queries(load_registry("2022").selected()[:2], max_length=512,
                        languages=["fr"], include_retweets=True)
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$")


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _client(base_url: str) -> XClient:
    return XClient("tok", base_url, RetryPolicy(backoff_base=0.01, max_attempts=2))


def _request(name: str) -> CountsRequest:
    first = pages_of(name)[0]
    lo, hi = first["window"]
    endpoint = "recent" if first["endpoint"].endswith("recent") else "all"
    return CountsRequest(endpoint, first["query"]["query"], first["granularity"], _when(lo),
                         _when(hi))


@pytest.fixture
def replay(request: pytest.FixtureRequest) -> Iterator[XCountsReplay]:
    with XCountsReplay(request.param) as server:
        yield server


@pytest.mark.parametrize("name", exchange_names())
def test_each_answer_passes_the_checks_against_its_own_request(name: str) -> None:
    """The checks hold for well-formed answers: cut first and last buckets, zero
    buckets, daily and hourly, several pages joined by next_token."""
    request = _request(name)
    buckets, seen = [], set()
    for n, ex in enumerate(pages_of(name), start=1):
        body = json.loads((RECORDINGS / ex["body_file"]).read_bytes())
        buckets += page_buckets(request, body)
        assert next_token(request, body, seen, n) == ex["next_token"]
    check_coverage(request, buckets)
    assert len(buckets) == sum(ex["buckets"] for ex in pages_of(name))


@pytest.mark.parametrize(
    ("replay", "day", "now", "full_archive"),
    [
        # Hourly buckets of 2021-10-16..23 answered for yesterday's partition.
        ("recent_hour_week", date(2026, 12, 6), datetime(2026, 12, 7, 10, tzinfo=UTC), False),
        # Daily buckets of January 2021 answered for 2021-10-20 (full archive).
        ("all_day_january_2021", date(2021, 10, 20), datetime(2021, 11, 30, tzinfo=UTC), True),
        ("all_hour_month", date(2021, 9, 27), datetime(2021, 9, 28, 3, tzinfo=UTC), False),
        ("all_day_paginated", date(2021, 4, 2), datetime(2021, 10, 20, tzinfo=UTC), True),
    ],
    indirect=["replay"],
)
def test_an_answer_to_another_request_lands_nothing(
    replay: XCountsReplay, day: date, now: datetime, full_archive: bool
) -> None:
    with pytest.raises(CountsMismatch) as caught:
        collect_counts_day(_client(replay.base_url), QUERIES, day, full_archive=full_archive,
                           now=now)
    message = str(caught.value)
    assert f"over {day.isoformat()}T00:00:00Z.." in message  # what was asked
    assert "not retried" in message
    assert len(replay.requests) == 1  # deterministic: asked once, never again


def test_the_daily_answer_inside_the_window_is_refused_as_another_granularity() -> None:
    request = CountsRequest("all", "q", "hour", datetime(2021, 1, 5, tzinfo=UTC),
                            datetime(2021, 1, 6, tzinfo=UTC))
    body = {"data": [{"end": "2021-01-06T00:00:00.000Z", "start": "2021-01-05T00:00:00.000Z",
                      "tweet_count": 12}], "meta": {"total_tweet_count": 12}}
    with pytest.raises(CountsMismatch, match="wide, not hour"):
        page_buckets(request, body)


def _day_request() -> CountsRequest:
    return CountsRequest("recent", "q", "hour", datetime(2026, 12, 6, tzinfo=UTC),
                         datetime(2026, 12, 6, 3, tzinfo=UTC))


def _hours(counts: list[int], first: int = 0) -> list[dict[str, Any]]:
    return [{"end": f"2026-12-06T{first + i + 1:02d}:00:00.000Z",
             "start": f"2026-12-06T{first + i:02d}:00:00.000Z", "tweet_count": n}
            for i, n in enumerate(counts)]


def test_totals_must_equal_the_sum_of_the_buckets() -> None:
    body = {"data": _hours([1, 2, 3]), "meta": {"total_tweet_count": 7}}
    with pytest.raises(CountsMismatch, match="total_tweet_count is 7 but its 3 buckets sum to 6"):
        page_buckets(_day_request(), body)
    assert len(page_buckets(_day_request(), {**body, "meta": {"total_tweet_count": 6}})) == 3


@pytest.mark.parametrize(
    ("buckets", "error"),
    [
        (_hours([1, 2]), "the last bucket ends at 2026-12-06T02:00:00Z"),
        (_hours([1, 1]) + _hours([2, 3], 1), "overlap"),
        (_hours([1]) + _hours([3], 2), "no bucket covers 2026-12-06T01:00:00Z..2026-12-06T02"),
    ],
)
def test_the_buckets_must_tile_the_window(buckets: list[dict[str, Any]], error: str) -> None:
    request = _day_request()
    with pytest.raises(CountsMismatch, match=error):
        check_coverage(request, page_buckets(request, {
            "data": buckets, "meta": {"total_tweet_count": sum(b["tweet_count"] for b in buckets)}}))


def test_a_next_token_that_comes_back_is_refused() -> None:
    request = _day_request()
    seen: set[str] = set()
    body = {"data": [], "meta": {"total_tweet_count": 0, "next_token": "abc"}}
    assert next_token(request, body, seen, 1) == "abc"
    with pytest.raises(CountsMismatch, match="came back a second time"):
        next_token(request, body, seen, 2)
    with pytest.raises(CountsMismatch, match="not a token"):
        next_token(request, {"meta": {"next_token": ""}}, set(), 1)


def test_a_bucket_that_is_not_a_count_is_refused() -> None:
    body = {"data": [{**_hours([1])[0], "tweet_count": "1"}], "meta": {"total_tweet_count": 1}}
    with pytest.raises(CountsMismatch, match="not a count"):
        page_buckets(_day_request(), body)


@pytest.mark.parametrize("replay", ["all_day_january_2021"], indirect=True)
def test_the_asset_fails_unretried_and_writes_nothing(replay: XCountsReplay,
                                                      tmp_path: Path) -> None:
    from elex_assets.defs.x.counts import tweet_counts_for
    from elex_assets.defs.x.resources import XResource
    from elex_assets.resources import LakeResource, RegistryResource

    counts = tweet_counts_for(load_registry("2022").election)
    result = dg.materialize(
        [counts], partition_key="2022-04-09", raise_on_error=False,
        resources={"lake": LakeResource(url=str(tmp_path)),
                   "registry": RegistryResource(election="2022"),
                   "x": XResource(base_url=replay.base_url, endpoint="all", backoff_base=0.01,
                                  max_usd_per_day=0, max_usd_per_month=0)})
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "CountsMismatch" in failure.step_failure_data.error.to_string()
    assert not (tmp_path / layout.clean_tweet_counts_key(date(2022, 4, 9))).exists()
    assert len(replay.requests) == 1


def _shape(value: Any) -> Any:
    """The structure of a JSON value: key order, types, time format (not the values)."""
    if isinstance(value, dict):
        return [(k, _shape(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    if isinstance(value, str) and ISO.match(value):
        return "time"
    return type(value).__name__


@pytest.mark.parametrize("name", [n for n in exchange_names() if len(pages_of(n)) == 1])
def test_the_sandbox_answers_counts_in_the_recorded_shape(name: str) -> None:
    """The sandbox, asked what the exchange was asked (its clock set to when), answers the
    same structure with the same headers: key order, types, time format, cut buckets."""
    import requests

    ex = pages_of(name)[0]
    asked_at = _when(ex["window"][1]) + timedelta(seconds=10)
    params = {**ex["query"], "query": "macron"}  # what the exchange asked, a sandbox term
    with XSandbox(election="2022", posts_per_day=50, seed=7, clock=lambda: asked_at) as sandbox:
        answer = requests.get(sandbox.base_url + ex["endpoint"], params=params,
                              headers={"Authorization": "Bearer tok"}, timeout=30)
    assert answer.status_code == 200, answer.text
    recorded = json.loads((RECORDINGS / ex["body_file"]).read_bytes())
    served = answer.json()
    assert _shape(served) == _shape(recorded)
    assert answer.content.startswith(b'{"data":[{"end":"')  # compact, in X's key order
    assert {k for k in ex["headers"] if k != "date"} <= set(answer.headers)
    for name_ in ("x-rate-limit-limit", "x-access-level", "content-type"):
        assert answer.headers[name_] == ex["headers"][name_]
    assert [(b["start"], b["end"]) for b in served["data"]] == \
        [(b["start"], b["end"]) for b in recorded["data"]]  # the same buckets, cut alike
    assert served["meta"]["total_tweet_count"] == sum(b["tweet_count"] for b in served["data"])
