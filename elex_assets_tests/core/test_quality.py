"""The data-quality rules on hand-built frames."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl

from elex_assets.core import quality
from elex_assets.core.lake import Lake
from elex_assets.core.layout import archive_tweets_key, clean_tweets_key
from elex_assets.core.schemas import TWEETS

DAY = date(2026, 11, 27)
CAMPAIGN = (date(2026, 9, 1), date(2027, 5, 2))


def at(hours: float) -> datetime:
    return datetime(2026, 11, 27, tzinfo=UTC) + timedelta(hours=hours)


def test_duplicate_ids_are_named_and_null_ids_ignored() -> None:
    df = pl.DataFrame({"id": ["7", "8", "7", None, None]})
    outcome = quality.no_duplicate_ids(df)
    assert not outcome.passed
    assert outcome.description == "1 duplicated id value(s): 7"
    assert quality.no_duplicate_ids(pl.DataFrame({"id": ["1", None, None]})).passed


def test_required_columns_report_nulls_and_missing_columns() -> None:
    df = pl.DataFrame({"a": [1, None], "b": ["x", "y"]})
    outcome = quality.required_not_null(df, ["a", "b"])
    assert not outcome.passed
    assert outcome.description == "nulls in required column(s): a (1 null)"
    assert outcome.metadata["nulls_a"] == 1
    missing = quality.required_not_null(df, ["a", "c"])
    assert missing.description == "required column(s) missing: c"
    assert quality.required_not_null(df, ["b"]).passed


def test_zero_posts_fail_after_quiet_hours_only() -> None:
    empty = TWEETS.empty()
    assert quality.posts_present(empty, DAY, at(5), CAMPAIGN, quiet_hours=6).passed
    late = quality.posts_present(empty, DAY, at(7), CAMPAIGN, quiet_hours=6)
    assert not late.passed
    assert "zero posts on campaign day 2026-11-27" in late.description
    # A past day has no grace left; a day outside the campaign is not judged.
    assert not quality.posts_present(empty, DAY, at(30), CAMPAIGN, 6).passed
    assert quality.posts_present(empty, date(2026, 8, 1), at(30), CAMPAIGN, 6).passed


def test_every_candidate_present() -> None:
    df = pl.DataFrame({"candidate_id": ["a", "b", "b"]})
    assert quality.candidates_present(df, ["a", "b"]).passed
    outcome = quality.candidates_present(df, ["a", "b", "c", "d"])
    assert not outcome.passed
    assert outcome.description == "2 candidate(s) absent: c, d"


def test_interest_values_within_0_100() -> None:
    df = pl.DataFrame({"value": [0, 100, 101, -1, None], "ranking": ["top"] * 4 + ["rising"]})
    outcome = quality.interest_in_range(df)
    assert not outcome.passed
    assert outcome.description == "2 value value(s) outside 0-100: -1, 101"
    rising = pl.DataFrame({"value": [50, 350], "ranking": ["top", "rising"]})
    assert quality.interest_in_range(rising, where=pl.col("ranking") == "top").passed


def test_partition_recent_counts_whole_days() -> None:
    now = at(12)
    last = now - timedelta(days=3, minutes=5)  # `.seconds` would say 300
    outcome = quality.partition_recent(DAY, last, last, now, timedelta(minutes=30))
    assert not outcome.passed
    assert "3 d 5 min ago" in outcome.description
    assert quality.partition_recent(
        DAY, now - timedelta(minutes=3), None, now, timedelta(minutes=30)
    ).passed


def test_current_day_is_yesterday_until_the_deadline() -> None:
    assert quality.current_day(at(0.5), timedelta(hours=1)) == DAY - timedelta(days=1)
    assert quality.current_day(at(1), timedelta(hours=1)) == DAY


def test_read_day_joins_live_and_archive_files(tmp_path) -> None:
    lake = Lake.from_url(str(tmp_path))
    row = {"id": "1", "created_at": at(1), "post_type": "original"}
    lake.write_parquet(clean_tweets_key(DAY), TWEETS.conform(pl.DataFrame([row])))
    lake.write_parquet(
        archive_tweets_key(DAY, "2017"), TWEETS.conform(pl.DataFrame([{**row, "id": None}]))
    )
    assert quality.read_tweets_day(lake, DAY).height == 2
    assert quality.read_tweets_day(lake, DAY + timedelta(days=1), TWEETS.polars).height == 0
