"""Collecting days from the sandbox X API over real HTTP: pages, increments, faults, budget."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from elex_assets.core import layout
from elex_assets.core.lake import Lake
from elex_assets.core.registry import load_registry
from elex_assets.core.x.client import (
    RetryPolicy,
    XAuthError,
    XClient,
    XRetriesExhausted,
    XUsageCapError,
)
from elex_assets.core.x.collect import (
    Usage,
    XBudgetExceeded,
    XCollectError,
    collect_day,
    raw_keys,
)
from elex_assets.core.x.normalise import normalise_day
from elex_assets.core.x.query import build_queries
from elex_assets.sandbox.x_server import XSandbox
from elex_assets_tests.clock import NOW
from elex_assets_tests.x_helpers import expected_ids, landed_ids

pytestmark = pytest.mark.usefixtures("fixed_now")  # "now" is clock.NOW: fixed data

TOKEN = "test-token-SECRET-123"
DAY = date(2022, 4, 9)
START = datetime(2022, 4, 9, tzinfo=UTC)
END = START + timedelta(days=1)


@pytest.fixture
def registry():  # noqa: ANN201
    return load_registry("2022")


@pytest.fixture
def queries(registry):  # noqa: ANN001, ANN201
    return build_queries(registry.selected()[:4], max_length=1024)


@pytest.fixture
def lake(tmp_path) -> Lake:  # noqa: ANN001
    return Lake.from_url(str(tmp_path / "lake"))


@pytest.fixture
def retries() -> list[str]:
    return []


@pytest.fixture
def client(x_sandbox: XSandbox, retries: list[str]) -> XClient:
    policy = RetryPolicy(max_attempts=4, backoff_base=0.01, max_rate_limit_wait=5)
    return XClient(TOKEN, x_sandbox.base_url, policy, on_retry=lambda m, n: retries.append(m))


def assert_exactly_once(lake: Lake, sandbox: XSandbox, queries, start, end) -> None:  # noqa: ANN001
    landed = landed_ids(lake, start.date())
    truth = expected_ids(sandbox, queries, start, end)
    for q in queries:
        got = landed.get(q.text, [])
        dupes = [i for i, n in Counter(got).items() if n > 1]
        assert not dupes, f"{len(dupes)} posts landed twice for {q.text[:40]}"
        assert set(got) == truth[q.text], f"lost {len(truth[q.text] - set(got))} posts"


def test_a_day_is_fetched_page_by_page_without_loss(x_sandbox, client, lake, queries) -> None:
    result = collect_day(client, lake, queries, DAY, endpoint="all", page_size=10)
    assert result.pages >= 30
    assert result.posts == sum(len(v) for v in expected_ids(x_sandbox, queries, START,
                                                            END).values())
    assert_exactly_once(lake, x_sandbox, queries, START, END)
    assert len(raw_keys(lake, DAY)) == 1
    line = json.loads(gzip.decompress(lake.read_bytes(raw_keys(lake, DAY)[0])).splitlines()[0])
    assert line["request"]["start_time"] == "2022-04-09T00:00:00Z"
    assert line["request"]["max_results"] == "10"
    assert set(line["response"]) >= {"data", "includes", "meta"}


def test_today_grows_incrementally_with_since_id(x_sandbox, client, lake, queries) -> None:
    t1 = datetime(2022, 4, 9, 10, 0, tzinfo=UTC)
    t2 = t1 + timedelta(minutes=5)
    x_sandbox.clock = lambda: t1
    first = collect_day(client, lake, queries, DAY, endpoint="recent", now=t1)
    assert first.mode == "incremental" and first.posts > 0
    before = len(x_sandbox.search_requests())
    x_sandbox.clock = lambda: t2
    second = collect_day(client, lake, queries, DAY, endpoint="recent", now=t2)
    requests = x_sandbox.search_requests()[before:]
    assert requests and all("since_id" in r["params"] for r in requests)
    assert all("start_time" not in r["params"] for r in requests)
    assert 0 < second.posts < first.posts / 10  # only the new five minutes
    assert_exactly_once(lake, x_sandbox, queries, START, t2 - timedelta(seconds=30))
    keys = raw_keys(lake, DAY)
    assert len(keys) == 2
    normalise_day(lake, keys, load_registry("2022").candidates, DAY, layout.clean_tweets_key(DAY))
    table = lake.read_parquet(layout.clean_tweets_key(DAY))
    assert table["id"].n_unique() == table.height
    union = set().union(*expected_ids(x_sandbox, queries, START,
                                      t2 - timedelta(seconds=30)).values())
    assert set(table["id"]) == union


def test_a_past_day_is_refetched_whole_and_replaces_what_was_there(
    x_sandbox, client, lake, queries
) -> None:
    first = collect_day(client, lake, queries, DAY, endpoint="all", run_id="one")
    second = collect_day(client, lake, queries, DAY, endpoint="all", run_id="two")
    assert second.mode == "refresh" and second.posts == first.posts
    keys = raw_keys(lake, DAY)
    assert len(keys) == 1 and keys[0].endswith("-two.jsonl.gz")
    assert second.replaced and second.replaced[0].endswith("-one.jsonl.gz")
    assert not lake.exists(second.replaced[0].replace(".jsonl.gz", ".manifest.json"))
    assert_exactly_once(lake, x_sandbox, queries, START, END)


@pytest.mark.parametrize("fault", ["429", "503", "drop", "truncate"])
def test_transient_faults_are_retried_without_loss(
    x_sandbox, client, lake, queries, retries, fault
) -> None:
    x_sandbox.faults.add(fault, after=3, reset_in=0.2)
    collect_day(client, lake, queries, DAY, endpoint="all", page_size=50)
    assert x_sandbox.faults.injected == [fault]
    assert len(retries) == 1
    if fault == "429":
        assert "x-rate-limit-reset" in retries[0]
    assert_exactly_once(lake, x_sandbox, queries, START, END)


@pytest.mark.parametrize(
    ("fault", "error", "message"),
    [
        ("401", XAuthError, "X_BEARER_TOKEN"),
        ("403", XAuthError, "Client Forbidden"),
        ("usage_cap", XUsageCapError, "usage cap"),
    ],
)
def test_fatal_faults_fail_at_once_keep_pages_and_the_next_run_continues(
    x_sandbox, client, lake, queries, retries, fault, error, message
) -> None:
    x_sandbox.faults.add(fault, after=3)
    with pytest.raises(error, match=message) as info:
        collect_day(client, lake, queries, DAY, endpoint="all", page_size=50, run_id="one")
    assert not retries  # no retry for these
    assert TOKEN not in str(info.value) and TOKEN not in "".join(info.value.__notes__)
    assert "landed" in info.value.__notes__[0]
    assert len(raw_keys(lake, DAY)) == 1  # the three pages fetched are kept
    kept = sum(len(v) for v in landed_ids(lake, DAY).values())
    assert kept == 150
    before = len(x_sandbox.search_requests())
    result = collect_day(client, lake, queries, DAY, endpoint="all", page_size=50, run_id="two")
    assert "continuing the interrupted refresh" in result.notes[0]
    first_retry = x_sandbox.search_requests()[before]["params"]
    assert "until_id" in first_retry  # resumes below what was landed
    assert_exactly_once(lake, x_sandbox, queries, START, END)
    for key in raw_keys(lake, DAY):
        assert TOKEN.encode() not in gzip.decompress(lake.read_bytes(key))


def test_persistent_server_errors_fail_clearly_after_the_bound(
    x_sandbox, client, lake, queries
) -> None:
    x_sandbox.faults.add("503", times=10, after=2)
    with pytest.raises(XRetriesExhausted, match="still failing after 4 attempts: server error"):
        collect_day(client, lake, queries, DAY, endpoint="all", page_size=50)
    assert sum(len(v) for v in landed_ids(lake, DAY).values()) == 100


def test_recent_search_refuses_days_older_than_a_week(client, lake, queries) -> None:
    old = NOW.date() - timedelta(days=9)
    with pytest.raises(XCollectError, match="older than 7 days.*full-archive.*X_SEARCH_ENDPOINT=all"):
        collect_day(client, lake, queries, old, endpoint="recent")


def test_monthly_budget_stops_before_it_is_exceeded(x_sandbox, client, lake, queries) -> None:
    now = datetime(2022, 4, 20, tzinfo=UTC)
    with pytest.raises(XBudgetExceeded, match="X_MAX_POSTS_PER_MONTH=120"):
        collect_day(client, lake, queries, DAY, endpoint="all", now=now, page_size=50,
                    max_posts_per_month=120)
    usage = Usage.load(lake, "2022-04")
    assert 110 < usage.posts <= 120
    assert sum(len(v) for v in landed_ids(lake, DAY).values()) == usage.posts


def test_a_missing_token_is_refused(x_sandbox) -> None:
    with pytest.raises(XAuthError, match="X_BEARER_TOKEN is not set"):
        XClient("", x_sandbox.base_url)


def test_fill_mode_only_fetches_holes(x_sandbox, client, lake, queries) -> None:
    late = datetime(2022, 4, 9, 23, 50, tzinfo=UTC)
    x_sandbox.clock = lambda: late
    collect_day(client, lake, queries, DAY, endpoint="recent", now=late)
    x_sandbox.clock = lambda: END + timedelta(hours=1)
    result = collect_day(client, lake, queries, DAY, endpoint="recent", mode="fill",
                         now=END + timedelta(hours=1))
    assert result.mode == "incremental" and len(raw_keys(lake, DAY)) == 2
    assert_exactly_once(lake, x_sandbox, queries, START, END)
    assert pl.Series(result.replaced).len() == 0


def test_big_runs_roll_over_into_several_raw_files(x_sandbox, client, lake, queries) -> None:
    first = collect_day(client, lake, queries, DAY, endpoint="all", page_size=50,
                        rollover_posts=200, run_id="one")
    assert len(first.landed) >= 3 and sorted(first.landed) == raw_keys(lake, DAY)
    assert_exactly_once(lake, x_sandbox, queries, START, END)
    second = collect_day(client, lake, queries, DAY, endpoint="all", page_size=50,
                         rollover_posts=200, run_id="two")
    assert sorted(second.replaced) == sorted(first.landed)
    assert sorted(second.landed) == raw_keys(lake, DAY)
    assert_exactly_once(lake, x_sandbox, queries, START, END)


def test_a_sample_day_has_posts_in_every_hour(x_sandbox, lake, registry) -> None:  # noqa: ANN001
    from elex_assets.core.x.collect import sample_posts_per_day

    queries = build_queries(registry.selected(), max_length=1024)
    client = XClient(TOKEN, x_sandbox.base_url, RetryPolicy(backoff_base=0.01))
    now = END + timedelta(days=2)
    result = collect_day(client, lake, queries, DAY, endpoint="all", now=now, plan="sample",
                         sample_posts_per_day=480)
    cap = sample_posts_per_day(480, len(queries), 500)
    assert 0 < result.posts <= cap <= 480
    sizes = {r["params"]["max_results"] for r in x_sandbox.search_requests()}
    assert sizes == {"10"}
    assert len(x_sandbox.search_requests()) == 48  # 480 posts: 48 pages of 10, 2 an hour
    keys = raw_keys(lake, DAY)
    normalise_day(lake, keys, registry.candidates, DAY, layout.clean_tweets_key(DAY))
    table = pl.read_parquet(lake.uri(layout.clean_tweets_key(DAY)))
    assert table["created_at"].dt.hour().unique().sort().to_list() == list(range(24))
    # A second run finds every hour sampled and reads nothing more.
    again = collect_day(client, lake, queries, DAY, endpoint="all", now=now, plan="sample",
                        sample_posts_per_day=480, mode="fill")
    assert again.posts == 0


def test_plan_off_reads_no_post(x_sandbox, lake, queries) -> None:  # noqa: ANN001
    client = XClient(TOKEN, x_sandbox.base_url, RetryPolicy(backoff_base=0.01))
    result = collect_day(client, lake, queries, DAY, endpoint="all", now=END + timedelta(days=1),
                         plan="off")
    assert result.posts == 0 and not x_sandbox.search_requests()
    assert any("X_POSTS_PLAN=off" in n for n in result.notes)


def test_the_sample_plan_spreads_pages_over_every_hour() -> None:
    from elex_assets.core.x.collect import sample_plan

    for budget, queries in [(400, 3), (400, 1), (5000, 3), (100, 5), (10_000, 2)]:
        chosen, size = sample_plan(budget, queries, 100)
        assert {h for h, _ in chosen} == set(range(24))
        assert len(chosen) * size <= max(budget, 240)  # at least a page of 10 per hour
        per_query = [sum(1 for _, q in chosen if q == i) for i in range(queries)]
        assert max(per_query) - min(per_query) <= 1  # the queries take turns evenly


def test_today_samples_each_hour_once_it_has_ended(x_sandbox, lake, queries) -> None:  # noqa: ANN001
    client = XClient(TOKEN, x_sandbox.base_url, RetryPolicy(backoff_base=0.01))
    noon = START + timedelta(hours=12, minutes=30)
    first = collect_day(client, lake, queries, DAY, endpoint="all", now=noon, plan="sample",
                        sample_posts_per_day=24 * 10 * len(queries))
    hours = {r["params"]["start_time"][11:13] for r in x_sandbox.search_requests()}
    assert hours == {f"{h:02d}" for h in range(12)} and first.posts > 0
    seen = len(x_sandbox.search_requests())
    collect_day(client, lake, queries, DAY, endpoint="all", now=noon + timedelta(minutes=100),
                plan="sample", sample_posts_per_day=24 * 10 * len(queries))
    later = {r["params"]["start_time"][11:13] for r in x_sandbox.search_requests()[seen:]}
    assert later == {"12", "13"}  # only the hours that ended since
