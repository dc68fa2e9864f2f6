"""tweet_counts from the sandbox's counts endpoints: hourly, per candidate, summed splits, billed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from elex_assets.core.lake import Lake
from elex_assets.core.registry import load_registry
from elex_assets.core.schemas import TWEET_COUNTS
from elex_assets.core.x.client import RetryPolicy, XClient
from elex_assets.core.x.collect import XCollectError, collect_day
from elex_assets.core.x.counts import ALL, collect_counts_day, count_queries, counts_endpoint
from elex_assets.core.x.spend import Ceilings, SpendGuard, spent
from elex_assets.sandbox.x_server import XSandbox
from elex_assets_tests.clock import NOW as CLOCK_NOW
from elex_assets_tests.x_helpers import landed_ids

pytestmark = pytest.mark.usefixtures("fixed_now")  # "now" is clock.NOW: fixed data

DAY = date(2022, 4, 9)
NOW = datetime(2022, 4, 20, 12, tzinfo=UTC)


def _client(sandbox: XSandbox) -> XClient:
    return XClient("tok", sandbox.base_url, RetryPolicy(backoff_base=0.01))


def test_hourly_counts_per_candidate_match_what_search_finds(
    x_sandbox: XSandbox, tmp_path  # noqa: ANN001
) -> None:
    cands = load_registry("2022").selected()[:4]
    queries = count_queries(cands, max_length=1024, languages=["fr", "en"],
                            include_retweets=True)
    lake = Lake.from_url(str(tmp_path))
    guard = SpendGuard(lake, "c", ceilings=Ceilings(None, None), sandbox=True)
    frame = collect_counts_day(_client(x_sandbox), queries, DAY, full_archive=True, now=NOW,
                               spend=guard)
    assert frame.schema == TWEET_COUNTS.polars
    assert frame["candidate_id"].unique().sort().to_list() == sorted([c.id for c in cands] + [ALL])
    assert frame.group_by("candidate_id").len()["len"].to_list() == [24] * 5
    assert frame["hour"].min() == datetime(2022, 4, 9, tzinfo=UTC)
    assert set(frame["endpoint"]) == {"all"}
    # The union's count is what the search queries find for the day.
    search = [q.query for q in queries if q.candidate_id == ALL]
    collect_day(_client(x_sandbox), lake, search, DAY, endpoint="all", now=NOW)
    found = sum(len(ids) for ids in landed_ids(lake, DAY).values())
    assert frame.filter(pl.col("candidate_id") == ALL)["post_count"].sum() == found
    # One billed request per query, at the full-archive price.
    assert x_sandbox.served["counts_all"] == len(queries) == guard.ledger.total().counts_all
    assert spent(lake, sandbox=True).usd == pytest.approx(
        len(queries) * 0.01)


def test_a_candidate_whose_terms_do_not_fit_is_split_and_summed(
    x_sandbox: XSandbox,
) -> None:
    cand = next(c for c in load_registry("2022").selected() if len(c.search_terms) >= 3)
    whole = count_queries([cand], max_length=1024, languages=[], include_retweets=True)
    longest = max(len(f"({t})") for t in cand.search_terms)
    split = count_queries([cand], max_length=longest + 1, languages=[], include_retweets=True)
    parts = [q for q in split if q.candidate_id == cand.id]
    assert len(parts) > 1
    client = _client(x_sandbox)
    a = collect_counts_day(client, whole[:1], DAY, full_archive=True, now=NOW)
    b = collect_counts_day(client, parts, DAY, full_archive=True, now=NOW)
    assert b.height == a.height == 24
    assert b["post_count"].sum() >= a["post_count"].sum() > 0


def test_recent_counts_for_the_last_week_and_full_archive_only_when_available() -> None:
    now = datetime(2027, 3, 20, 10, tzinfo=UTC)
    assert counts_endpoint(date(2027, 3, 20), now, full_archive=True) == "recent"
    assert counts_endpoint(date(2027, 3, 14), now, full_archive=True) == "recent"
    assert counts_endpoint(date(2027, 3, 12), now, full_archive=True) == "all"
    with pytest.raises(XCollectError, match="X_SEARCH_ENDPOINT=all"):
        counts_endpoint(date(2027, 3, 10), now, full_archive=False)


def test_today_counts_only_the_hours_so_far(x_sandbox: XSandbox) -> None:
    now = CLOCK_NOW  # 14:30: today has 15 hours so far
    queries = count_queries(load_registry("2022").selected()[:1], max_length=512,
                            languages=["fr"], include_retweets=True)
    frame = collect_counts_day(_client(x_sandbox), queries, now.date(), now=now)
    assert set(frame["endpoint"]) <= {"recent"}
    assert frame["hour"].max() <= now and frame["hour"].n_unique() <= now.hour + 1
    assert frame.height == 0 or frame["hour"].min() >= now.replace(
        hour=0, minute=0, second=0, microsecond=0) - timedelta(0)
