"""``elex estimate``: the cost of collecting a range of days, from counts, before reading posts."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from elex_assets.core.registry import load_registry
from elex_assets.core.x.collect import XCollectError
from elex_assets.core.x.counts import count_queries, counts_endpoint
from elex_assets.core.x.estimate import estimate_days, render
from elex_assets.core.x.query import MAX_QUERY_LENGTH
from elex_assets.core.x.spend import XSpendCeiling
from elex_assets.defs.x.resources import XResource
from elex_assets.settings import Settings, XSettings


def run_estimate(first: str, last: str, plan: str | None = None) -> int:
    try:
        start, end = date.fromisoformat(first), date.fromisoformat(last)
    except ValueError as exc:
        print(f"elex estimate: --from/--to must be dates (YYYY-MM-DD): {exc}")
        return 2
    if end < start:
        print(f"elex estimate: --to {end} is before --from {start}")
        return 2
    settings, xs = Settings.load(), XSettings.load()
    plan = plan or xs.posts_plan
    max_length = xs.max_query_length
    try:  # counts of recent days go to counts/recent, which takes 512-character queries
        if any(counts_endpoint(d, datetime.now(UTC), xs.endpoint == "all") == "recent"
               for d in (start, end)):
            max_length = min(max_length or 512, 512)
    except XCollectError as exc:
        print(f"elex estimate: {exc}")
        return 1
    # The token through dg.EnvVar, as in the definitions; Dagster resolves it here.
    x = XResource.from_settings(
        xs, max_query_length=max_length, posts_plan=plan).process_config_and_initialize()
    registry = load_registry(settings.election, settings.candidates_file)
    queries = x.queries(registry)
    n_counts = len(count_queries(
        registry.selected(x.min_status),
        max_length=x.max_query_length or MAX_QUERY_LENGTH.get(x.endpoint, 512),
        languages=x.languages, include_retweets=x.include_retweets))
    lake = settings.lake()
    guard = x.spend_guard(lake, "est" + uuid.uuid4().hex[:8], f"estimate {start}..{end}")
    prices = x.prices()
    try:
        estimates = estimate_days(
            x.client(), queries, start, end, count_queries=n_counts, prices=prices, plan=plan,
            sample_per_day=x.sample_posts_per_day, full_archive=x.endpoint == "all",
            spend=guard,
        )
    except (XSpendCeiling, XCollectError) as exc:
        print(f"elex estimate: {exc}")
        return 1
    print(render(estimates, (
        f"X cost estimate, election {settings.election}, {start} .. {end}: X_POSTS_PLAN={plan}"
        + (f" ({x.sample_posts_per_day} posts/day)" if plan == "sample" else "")
        + f"; ${prices.post_read:g}/post read, ${prices.counts_recent:g}/recent-counts and "
        f"${prices.counts_all:g}/full-archive-counts request; {len(queries)} search queries, "
        f"{n_counts} counts queries (tweet_counts)"
    )))
    cost = guard.ledger.total()
    print(f"This estimate itself cost ${cost.usd:.3f} ({cost.counts_recent + cost.counts_all} "
          f"counts requests), recorded in {lake.uri(guard.ledger.key)}"
          + (" (sandbox: not billed)" if x.sandbox else ""))
    return 0
