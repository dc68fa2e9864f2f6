"""A small builder of schema-conforming daily clean files in a temp lake (Kaggle tests)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl

from elex_assets.core.elections import Election
from elex_assets.core.lake import Lake
from elex_assets.core.layout import (
    AREAS,
    archive_tweets_key,
    clean_trends_key,
    clean_tweets_key,
)
from elex_assets.core.schemas import TRENDS, TWEETS

CANDIDATES = ("macron", "le-pen", "melenchon")
# Campaign 2026-09-01 .. 2027-05-02 (like 2027): holds 2026-W53 and 1 January 2027.
ELECTION = Election("2027", date(2027, 4, 11), date(2027, 4, 25), date(2026, 9, 1))


def tweets_frame(day: date, n: int, *, offset: int = 0, source: str = "x_search_recent"):
    at = datetime(day.year, day.month, day.day, tzinfo=UTC)
    rows = []
    for i in range(n):
        cands = [CANDIDATES[i % 3]] + ([CANDIDATES[(i + 1) % 3]] if i % 4 == 0 else [])
        rows.append(
            {
                "id": str(10**18 + offset + i),
                "created_at": at + timedelta(minutes=7 * i, microseconds=123456 * (i % 2)),
                "text": f'Débat: "{cands[0]}", vraiment?\nOui; non, {i} ✓',
                "lang": "fr",
                "author_id": str(500 + i),
                "author_username": f"user_{i}",
                "author_name": f"Élise {i}",
                "post_type": "original" if i % 3 else "retweet",
                "retweet_count": i,
                "like_count": 2 * i,
                "hashtags": ["Presidentielle2027", "debat"] if i % 2 else [],
                "mentions": None,
                "candidates": cands,
                "query": "macron OR le pen",
                "collected_at": at + timedelta(hours=23),
                "source": source,
            }
        )
    return TWEETS.conform(pl.DataFrame(rows, schema_overrides=_overrides()))


def _overrides() -> dict:
    return {
        "created_at": TWEETS.polars["created_at"],
        "collected_at": TWEETS.polars["collected_at"],
        "mentions": pl.List(pl.String),
        "hashtags": pl.List(pl.String),
    }


def write_tweets_day(lake: Lake, day: date, n: int, *, archive: str | None = None) -> int:
    if archive:
        df = tweets_frame(day, n, offset=50_000, source=f"archive_{archive}")
        lake.write_parquet(archive_tweets_key(day, archive), df)
    else:
        lake.write_parquet(clean_tweets_key(day), tweets_frame(day, n))
    return n


def interest_frame(day: date, area: str, hours: int = 3) -> pl.DataFrame:
    at = datetime(day.year, day.month, day.day, tzinfo=UTC)
    rows = [
        {
            "date": day,
            "area": area,
            "candidate_id": c,
            "keyword": c.replace("-", " "),
            "timestamp": at + timedelta(hours=h),
            "value": 10 * (j + 1) + h,
            "value_comparable": float(10 * (j + 1) + h) / 2,
            "batch": 0,
            "anchor": "élection",
            "is_partial": h == hours - 1,
            "collected_at": at + timedelta(hours=23),
        }
        for j, c in enumerate(CANDIDATES)
        for h in range(hours)
    ]
    return TRENDS["interest_over_time"].conform(pl.DataFrame(rows))


def region_frame(day: date, area: str) -> pl.DataFrame:
    rows = [
        {
            "date": day,
            "area": area,
            "candidate_id": c,
            "keyword": c,
            "geo_code": code,
            "geo_name": name,
            "value": v,
            "collected_at": datetime(day.year, day.month, day.day, 12, tzinfo=UTC),
        }
        for c in CANDIDATES
        for code, name, v in (("FR-IDF", "Île-de-France", 100), ("FR-BRE", "Bretagne", 40))
    ]
    return TRENDS["interest_by_region"].conform(pl.DataFrame(rows))


def related_frame(kind: str, day: date, area: str) -> pl.DataFrame:
    label = "topic_title" if kind == "related_topics" else "query"
    rows = [
        {
            "date": day,
            "area": area,
            "candidate_id": c,
            "keyword": c,
            "ranking": ranking,
            "rank": r,
            label: f"{c} {ranking} {r}",
            "value": 100 - r,
            "formatted_value": "Breakout" if ranking == "rising" else str(100 - r),
            "collected_at": datetime(day.year, day.month, day.day, 12, tzinfo=UTC),
        }
        for c in CANDIDATES
        for ranking in ("top", "rising")
        for r in range(2)
    ]
    return TRENDS[kind].conform(pl.DataFrame(rows))


def write_trends_day(lake: Lake, kind: str, day: date, areas: tuple[str, ...] = AREAS) -> int:
    total = 0
    for area in areas:
        if kind == "interest_over_time":
            df = interest_frame(day, area)
        elif kind == "interest_by_region":
            df = region_frame(day, area)
        else:
            df = related_frame(kind, day, area)
        lake.write_parquet(clean_trends_key(kind, area, day), df)
        total += df.height
    return total


def week(monday: date) -> list[date]:
    return [monday + timedelta(days=i) for i in range(7)]


def build_weeks(lake: Lake, mondays: list[date], tweets_per_day: int = 5) -> dict[str, int]:
    """Complete weeks for every source; returns the row count per source."""
    from elex_assets.core.layout import TRENDS_KINDS

    rows = {"tweets": 0, **{f"trends_{k}": 0 for k in TRENDS_KINDS}}
    for monday in mondays:
        for i, day in enumerate(week(monday)):
            rows["tweets"] += write_tweets_day(lake, day, tweets_per_day + i)
            for kind in TRENDS_KINDS:
                rows[f"trends_{kind}"] += write_trends_day(lake, kind, day)
            rows["tweet_counts"] = rows.get("tweet_counts", 0) + write_tweet_counts_day(lake, day)
    return rows


def write_tweet_counts_day(lake: Lake, day: date, hours: int = 3) -> int:
    """A few hours of counts for two candidates and _all (the tweet_counts contract)."""
    from elex_assets.core.layout import clean_tweet_counts_key
    from elex_assets.core.schemas import TWEET_COUNTS

    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    rows = [
        (start + timedelta(hours=h), cid, n * (h + 1), "all", start + timedelta(days=1))
        for h in range(hours) for cid, n in (("macron", 5), ("lepen", 3), ("_all", 7))
    ]
    df = pl.DataFrame(rows, schema=TWEET_COUNTS.polars, orient="row")
    lake.write_parquet(clean_tweet_counts_key(day), df)
    return df.height


# A campaign wholly in the past: Dagster only knows weekly partitions of ended weeks.
PAST_ELECTION = Election("2022", date(2022, 4, 10), date(2022, 4, 24), date(2021, 9, 1))
