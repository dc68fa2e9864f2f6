"""What collecting a range of days would cost, from X's counts (cheap) before any post is read.

One counts request per search query (daily buckets over the whole range) says
how many posts each day holds; the collection plan and the prices turn that
into dollars. The estimate's own counts requests are billed and recorded in the
spend ledger like any other request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from elex_assets.core.windows import ONE_DAY, day_start, latest_askable
from elex_assets.core.x.client import XClient
from elex_assets.core.x.collect import (
    PAGE_SIZE,
    SAFETY_LAG,
    recent_earliest,
    sample_posts_per_day,
)
from elex_assets.core.x.counts import counts_endpoint
from elex_assets.core.x.query import XQuery
from elex_assets.core.x.spend import Prices, SpendGuard, paid_request


@dataclass
class DayEstimate:
    day: date
    endpoint: str
    posts_matching: int
    posts_read: int
    posts_usd: float
    counts_requests: int
    counts_usd: float

    @property
    def total_usd(self) -> float:
        return self.posts_usd + self.counts_usd


def plan_posts(posts: int, plan: str, sample_per_day: int, queries: int, endpoint: str) -> int:
    """Posts a plan reads on a day holding ``posts`` matching posts."""
    if plan == "off":
        return 0
    if plan == "sample":
        return min(posts, sample_posts_per_day(sample_per_day, queries, PAGE_SIZE[endpoint]))
    return posts


def campaign_day_cost(
    prices: Prices, *, plan: str, sample_per_day: int, search_queries: int,
    count_queries: int, posts_per_day: int, refreshes_per_day: int = 24,
) -> float:
    """USD of one live campaign day: posts read by the plan, plus ``tweet_counts``
    refreshed hourly (one recent-counts request per counts query per refresh)."""
    read = plan_posts(posts_per_day, plan, sample_per_day, search_queries, "recent")
    return read * prices.post_read + refreshes_per_day * count_queries * prices.counts_recent


def estimate_days(
    client: XClient,
    queries: Sequence[XQuery],
    first: date,
    last: date,
    *,
    count_queries: int,
    prices: Prices,
    plan: str,
    sample_per_day: int,
    full_archive: bool,
    now: datetime | None = None,
    spend: SpendGuard | None = None,
) -> list[DayEstimate]:
    """Per day of [first, last]: matching posts (counts), what the plan reads, the dollars."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    posts = {d: 0 for d in days}
    by_endpoint: dict[str, list[date]] = {}
    for d in days:
        by_endpoint.setdefault(counts_endpoint(d, now, full_archive), []).append(d)
    for endpoint, group in by_endpoint.items():
        start = day_start(group[0])
        if endpoint == "recent":
            start = max(start, recent_earliest(now))
        end = min(day_start(group[-1]) + ONE_DAY, latest_askable(now, SAFETY_LAG))
        if end <= start:
            continue
        for query in queries:
            token: str | None = None
            while True:
                if spend is not None:
                    spend.before_counts(endpoint)
                with paid_request(spend):  # a request that fails is not billed: released
                    page = client.counts(
                        endpoint, query.text, granularity="day",
                        start_time=start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        end_time=end.strftime("%Y-%m-%dT%H:%M:%SZ"), next_token=token,
                    )
                if spend is not None:
                    spend.record_counts(endpoint)
                for bucket in page.body.get("data", []):
                    d = date.fromisoformat(bucket["start"][:10])
                    if d in posts:
                        posts[d] += int(bucket["tweet_count"])
                token = page.meta.get("next_token")
                if not token:
                    break
    out = []
    for d in days:
        endpoint = counts_endpoint(d, now, full_archive)
        read = plan_posts(posts[d], plan, sample_per_day, len(queries), endpoint)
        live = d == now.date()
        requests = count_queries * (24 if live else 1)
        out.append(DayEstimate(d, endpoint, posts[d], read, read * prices.post_read, requests,
                               requests * prices.counts(endpoint)))
    return out


def render(estimates: Sequence[DayEstimate], header: str) -> str:
    lines = [header, f"{'day':<11} {'endpoint':<8} {'matching':>9} {'read':>7} "
                     f"{'posts $':>9} {'counts $':>9} {'total $':>9}"]
    for e in estimates:
        lines.append(f"{e.day.isoformat():<11} {e.endpoint:<8} {e.posts_matching:>9} "
                     f"{e.posts_read:>7} {e.posts_usd:>9.2f} {e.counts_usd:>9.2f} "
                     f"{e.total_usd:>9.2f}")
    lines.append(
        f"{'total':<11} {'':<8} {sum(e.posts_matching for e in estimates):>9} "
        f"{sum(e.posts_read for e in estimates):>7} {sum(e.posts_usd for e in estimates):>9.2f} "
        f"{sum(e.counts_usd for e in estimates):>9.2f} "
        f"{sum(e.total_usd for e in estimates):>9.2f}")
    return "\n".join(lines)
