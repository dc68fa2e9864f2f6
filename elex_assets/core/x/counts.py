"""Hourly post counts per candidate from X's counts endpoints: complete volume, cheaply.

``GET /2/tweets/counts/{recent,all}`` returns, for one query, how many posts
matched per bucket. One request per candidate per day (hour buckets) gives the
candidate's whole hourly volume for the price of one request, whatever the
number of posts: that is share of voice. Each candidate's query carries the
same terms as the search queries (``x_query``); a candidate whose terms do not
fit one query is split and the parts summed (a post matching two parts of the
same candidate counts twice: rare, since the parts hold different terms). The
union of every candidate's terms (the search queries themselves) gives the
``_all`` row: posts naming any candidate, each counted once per query.

Every answer is checked against its request before anything lands
(:mod:`elex_assets.core.x.counts_check`): another window, another granularity,
totals that do not add up or pages that loop raise :class:`CountsMismatch` and
the day lands nothing.

Recent counts reach 7 days back; older days use the full archive
(``counts/all``) when the account has it (``X_SEARCH_ENDPOINT=all``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import polars as pl

from elex_assets.core.registry import Candidate
from elex_assets.core.schemas import TWEET_COUNTS
from elex_assets.core.windows import day_window
from elex_assets.core.x.client import XClient
from elex_assets.core.x.collect import (
    RECENT_REACH,
    SAFETY_LAG,
    XCollectError,
    recent_earliest,
)
from elex_assets.core.x.counts_check import (
    Bucket,
    CountsMismatch,
    CountsRequest,
    check_coverage,
    check_sent,
    next_token,
    page_buckets,
)
from elex_assets.core.x.query import XQuery, build_queries
from elex_assets.core.x.spend import SpendGuard, paid_request

ALL = "_all"
__all__ = ["ALL", "CountsMismatch", "CountQuery", "collect_counts_day", "count_queries",
           "counts_endpoint"]


@dataclass(frozen=True)
class CountQuery:
    candidate_id: str  # or "_all"
    query: XQuery


def count_queries(
    candidates: Sequence[Candidate], *, max_length: int, languages: Sequence[str],
    include_retweets: bool,
) -> list[CountQuery]:
    """One query (or several, split) per candidate, then the union as ``_all``."""
    out = []
    for cand in candidates:
        for q in build_queries([cand], max_length=max_length, languages=languages,
                               include_retweets=include_retweets):
            out.append(CountQuery(cand.id, q))
    for q in build_queries(candidates, max_length=max_length, languages=languages,
                           include_retweets=include_retweets):
        out.append(CountQuery(ALL, q))
    return out


def counts_endpoint(day: date, now: datetime, full_archive: bool) -> str:
    """``recent`` while the whole day is within 7 days (cheaper), else ``all`` if available."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    if start > now - RECENT_REACH + timedelta(minutes=1):
        return "recent"
    if full_archive:
        return "all"
    if start + timedelta(days=1) <= now - RECENT_REACH + timedelta(minutes=1):
        raise XCollectError(
            f"tweet_counts {day}: the day is older than 7 days; recent counts only reach back "
            "7 days. Counting it needs full-archive access (X Pro or Enterprise): set "
            "X_SEARCH_ENDPOINT=all"
        )
    return "recent"  # partly in reach: the hours out of reach are left out


def _counted(client: XClient, request: CountsRequest,
             spend: SpendGuard | None) -> list[Bucket]:
    """Every page of one counts request, each checked against the request
    (:mod:`elex_assets.core.x.counts_check`); raises :class:`CountsMismatch`."""
    buckets: list[Bucket] = []
    seen: set[str] = set()
    token: str | None = None
    pages = 0
    while True:
        if spend is not None:
            spend.before_counts(request.endpoint)
        with paid_request(spend):  # a request that fails is not billed: released
            page = client.counts(
                request.endpoint, request.query, granularity=request.granularity,
                start_time=request.params()["start_time"],
                end_time=request.params()["end_time"], next_token=token,
            )
        if spend is not None:
            spend.record_counts(request.endpoint)
        pages += 1
        check_sent(request, page.params, token)
        buckets += page_buckets(request, page.body)
        token = next_token(request, page.body, seen, pages)
        if token is None:
            break
    check_coverage(request, buckets)
    return buckets


def collect_counts_day(
    client: XClient,
    queries: Sequence[CountQuery],
    day: date,
    *,
    full_archive: bool = False,
    now: datetime | None = None,
    spend: SpendGuard | None = None,
    log: Callable[[str], None] = lambda _msg: None,
) -> pl.DataFrame:
    """The day's hourly counts per candidate (``TWEET_COUNTS``), one request per query."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    endpoint = counts_endpoint(day, now, full_archive)
    day_start, end = day_window(day, now, SAFETY_LAG)
    start = day_start
    if endpoint == "recent":
        start = max(day_start, recent_earliest(now))
    if end <= start:
        log(f"{day}: nothing to count yet")
        return TWEET_COUNTS.empty()
    if start > day_start:
        log(f"recent counts reach back to {start:%Y-%m-%d %H:%M} UTC: earlier hours are absent")
    rows: list[tuple[datetime, str, int]] = []
    collected = datetime.now(UTC)
    for cq in queries:
        request = CountsRequest(endpoint, cq.query.text, "hour", start, end)
        for bucket in _counted(client, request, spend):
            rows.append((bucket.start.replace(minute=0, second=0, microsecond=0),
                         cq.candidate_id, bucket.count))
    if not rows:
        return TWEET_COUNTS.empty()
    frame = (
        pl.DataFrame(rows, schema={"hour": pl.Datetime("us", "UTC"), "candidate_id": pl.String,
                                   "post_count": pl.Int64}, orient="row")
        .group_by("hour", "candidate_id").agg(pl.col("post_count").sum())
        .with_columns(pl.lit(endpoint).alias("endpoint"),
                      pl.lit(collected).cast(pl.Datetime("us", "UTC")).alias("collected_at"))
    )
    order = {c: i for i, c in enumerate(dict.fromkeys(q.candidate_id for q in queries))}
    frame = frame.with_columns(
        pl.col("candidate_id").replace_strict(order, return_dtype=pl.Int32).alias("_o")
    ).sort("hour", "_o").drop("_o")
    return TWEET_COUNTS.conform(frame)  # type: ignore[return-value]
