"""Figures the demo prints at the end, read back from the lake (not from run metadata)."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl

from elex_assets.core.lake import Lake
from elex_assets.core.layout import AREAS, clean_trends_prefix, clean_tweets_prefix


def _day_files(lake: Lake, prefixes: list[str]) -> list[str]:
    return [k for p in prefixes for k in lake.list(p) if k.endswith(".parquet")]


def posts_per_candidate(lake: Lake, days: list[date]) -> tuple[int, dict[str, int]]:
    """Posts over ``days``, and posts naming each candidate (most named first)."""
    files = _day_files(lake, [clean_tweets_prefix(d) for d in days])
    if not files:
        return 0, {}
    total = lake.scan_parquet(files).select(pl.len()).collect().item()
    counts = (
        lake.scan_parquet(files)
        .select(pl.col("candidates").explode().drop_nulls())
        .group_by("candidates")
        .len()
        .sort(["len", "candidates"], descending=[True, False])
        .collect()
    )
    return total, dict(zip(counts["candidates"], counts["len"], strict=True))


def trends_leaders(lake: Lake, days: list[date]) -> dict[str, list[tuple[str, float]]]:
    """Mean comparable Trends interest per candidate and area over ``days``, highest first."""
    out: dict[str, list[tuple[str, float]]] = {}
    for area in AREAS:
        files = _day_files(
            lake, [clean_trends_prefix("interest_over_time", area, d) for d in days]
        )
        if not files:
            continue
        means = (
            lake.scan_parquet(files)
            .group_by("candidate_id")
            .agg(pl.col("value_comparable").mean().alias("interest"))
            .drop_nulls("interest")
            .sort(["interest", "candidate_id"], descending=[True, False])
            .collect()
        )
        out[area] = list(zip(means["candidate_id"], means["interest"], strict=True))
    return out


def bsky_posts_per_candidate(lake: Lake, days: list[date]) -> tuple[int, int, dict[str, int]]:
    """Bluesky posts over ``days`` (tombstones apart), deleted ones, posts naming each candidate."""
    from elex_assets.core.layout import clean_bsky_prefix

    files = _day_files(lake, [clean_bsky_prefix(d) for d in days])
    if not files:
        return 0, 0, {}
    df = lake.scan_parquet(files).select("post_type", "candidates").collect()
    live = df.filter(pl.col("post_type") != "deleted")
    counts = (live.select(pl.col("candidates").explode().drop_nulls()).group_by("candidates")
              .len().sort(["len", "candidates"], descending=[True, False]))
    return (live.height, df.height - live.height,
            dict(zip(counts["candidates"], counts["len"], strict=True)))


def x_spend_since(lake: Lake, since: datetime) -> tuple[int, int, int, float]:
    """Posts read, recent and full-archive counts requests, and USD of the sandbox runs
    started since ``since``: what they would have cost live at the price settings."""
    from elex_assets.core.x.spend import DaySpend, read_ledgers

    total = DaySpend()
    for ledger in read_ledgers(lake):
        if ledger.sandbox and ledger.started >= since:
            total.add(ledger.total())
    return total.posts_read, total.counts_recent, total.counts_all, total.usd


def wiki_views_per_candidate(lake: Lake, days: list[date]) -> tuple[int, dict[str, int], int]:
    """Wikipedia views over ``days`` (every project), per candidate (most viewed first), and
    the article-days Wikimedia sent no row for (stored as 0)."""
    from elex_assets.core.layout import clean_wiki_prefix

    files = _day_files(lake, [clean_wiki_prefix(d) for d in days])
    if not files:
        return 0, {}, 0
    df = lake.scan_parquet(files).select("candidate_id", "views", "zero_filled").collect()
    per = (df.group_by("candidate_id").agg(pl.col("views").sum())
           .sort(["views", "candidate_id"], descending=[True, False]))
    return (int(df["views"].sum()), dict(zip(per["candidate_id"], per["views"], strict=True)),
            int(df["zero_filled"].sum()))
