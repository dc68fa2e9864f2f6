"""Weekly export: file names, columns, row counts, CSV readability, ISO weeks, gaps."""

from __future__ import annotations

import csv
import gzip
import io
import json
from datetime import date

import polars as pl
import pytest

from elex_assets.core.kaggle.export import (
    TWEET_ID_COLUMNS,
    IncompleteWeekError,
    day_files,
    expected_days,
    export_week,
    iso_week_days,
    iso_week_of,
    query_id,
    read_manifests,
    week_of_partition_key,
)
from elex_assets.core.lake import Lake
from elex_assets.core.layout import kaggle_manifest_key
from elex_assets.core.schemas import TRENDS, TWEETS
from elex_assets.settings import open_lake
from elex_assets_tests.lake_builder import (
    ELECTION,
    build_weeks,
    tweets_frame,
    week,
    write_trends_day,
    write_tweets_day,
)

MONDAY = date(2026, 11, 23)  # 2026-W48


@pytest.fixture
def lake(tmp_path) -> Lake:
    return Lake.from_url(str(tmp_path / "lake"))


def read_csv_rows(lake: Lake, key: str) -> list[dict[str, str]]:
    with gzip.open(io.BytesIO(lake.read_bytes(key)), "rt", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_iso_week_edge_cases():
    # The week of 1 January 2027 is week 53 of 2026 (a year with 53 ISO weeks).
    assert iso_week_of(date(2027, 1, 1)) == (2026, 53)
    assert iso_week_days(2026, 53) == week(date(2026, 12, 28))
    assert iso_week_of(date(2021, 1, 1)) == (2020, 53)
    # 1 January 2024 is a Monday: week 1 of its own year.
    assert iso_week_of(date(2024, 1, 1)) == (2024, 1)
    assert week_of_partition_key("2026-12-28") == (2026, 53)
    with pytest.raises(ValueError, match="not a Monday"):
        week_of_partition_key("2026-12-29")
    with pytest.raises(ValueError):
        iso_week_days(2027, 53)  # 2027 has only 52 weeks


def test_campaign_edges_limit_the_expected_days():
    # The campaign starts on Tuesday 2026-09-01: its first week expects six days.
    assert expected_days(ELECTION, 2026, 36) == week(date(2026, 8, 31))[1:]


def test_two_complete_weeks_of_tweets(lake: Lake):
    rows = build_weeks(lake, [MONDAY, date(2026, 11, 30)])
    # An archive file beside the live one of a day is part of the day.
    rows["tweets"] += write_tweets_day(lake, MONDAY, 3, archive="legacy")
    exports = [
        export_week(lake, ELECTION, "tweets", 2026, w, content_policy="full") for w in (48, 49)
    ]
    assert [e.files for e in exports] == [
        ["kaggle/2027/tweets/2026_48.csv.gz"],
        ["kaggle/2027/tweets/2026_49.csv.gz"],
    ]
    df = pl.read_csv(lake.read_bytes(exports[0].files[0]), infer_schema=False)
    assert df.columns == [("query_id" if n == "query" else n) for n in TWEETS.names]
    days = week(MONDAY) + week(date(2026, 11, 30))
    daily_tables = pl.concat(
        [pl.read_parquet(lake.uri(k)) for d in days for k in day_files(lake, "tweets", d)]
    )
    assert sum(e.rows for e in exports) == rows["tweets"] == daily_tables.height
    assert df.height == exports[0].rows
    assert exports[0].rows_by_day["2026-11-23"] == 5 + 3
    # Python's csv reads the same file (multi-line quoted text, UTF-8, ; lists).
    records = read_csv_rows(lake, exports[0].files[0])
    assert len(records) == df.height
    first = records[0]
    assert first["created_at"] == "2026-11-23T00:00:00.000Z"
    assert first["text"].startswith('Débat: "macron", vraiment?\nOui; non')
    assert first["candidates"] == "macron;le-pen"
    assert first["mentions"] == ""
    assert {r["hashtags"] for r in records} == {"", "Presidentielle2027;debat"}
    assert {r["source"] for r in records} == {"x_search_recent", "archive_legacy"}


def test_ids_policy_drops_the_content(lake: Lake):
    build_weeks(lake, [MONDAY])
    export = export_week(lake, ELECTION, "tweets", 2026, 48)  # default policy: ids
    df = pl.read_csv(lake.read_bytes(export.files[0]), infer_schema=False)
    assert df.columns == [
        ("query_id" if n == "query" else n) for n in TWEETS.names if n in TWEET_ID_COLUMNS
    ]
    assert not {"text", "author_username", "author_name", "hashtags"} & set(df.columns)
    assert df.height == export.rows == sum(5 + i for i in range(7))
    assert export.content_policy == "ids"


def test_weekly_tweets_carry_the_query_id_and_the_manifest_its_text(lake: Lake):
    build_weeks(lake, [MONDAY])
    write_tweets_day(lake, MONDAY, 2, archive="legacy")  # same query text in another file
    export = export_week(lake, ELECTION, "tweets", 2026, 48, parquet_twin=True)
    df = pl.read_csv(lake.read_bytes(export.files[0]), infer_schema=False)
    assert "query" not in df.columns
    assert export.queries == {query_id("macron OR le pen"): "macron OR le pen"}
    assert set(df["query_id"]) == set(export.queries)
    assert query_id("macron OR le pen") == query_id("macron OR le pen") != query_id("x")
    twin = pl.read_parquet(lake.uri(export.files[1]))
    assert twin.columns == df.columns and set(twin["query_id"]) == set(export.queries)
    # The share-of-voice denominator: every built post names at least one candidate.
    assert export.posts_naming_any["2026-11-23"] == 5 + 2


def test_unknown_policy_is_named(lake: Lake):
    with pytest.raises(ValueError, match="'everything' is not one of full, ids"):
        export_week(lake, ELECTION, "tweets", 2026, 48, content_policy="everything")


@pytest.mark.parametrize(
    "kind", ["interest_over_time", "interest_by_region", "related_topics", "related_queries"]
)
def test_trends_week_reads_both_areas(lake: Lake, kind: str):
    rows = sum(write_trends_day(lake, kind, d) for d in week(MONDAY))
    export = export_week(lake, ELECTION, f"trends_{kind}", 2026, 48, parquet_twin=True)
    assert export.files == [
        f"kaggle/2027/trends_{kind}/2026_48.csv.gz",
        f"kaggle/2027/trends_{kind}/2026_48.parquet",
    ]
    df = pl.read_csv(lake.read_bytes(export.files[0]), infer_schema=False)
    assert df.columns == TRENDS[kind].names
    assert df.height == rows == export.rows
    assert set(df["area"]) == {"fr", "world"}
    assert df["date"].min() == "2026-11-23"
    twin = lake.read_parquet(export.files[1])
    assert twin.schema == TRENDS[kind].polars and twin.height == rows


def test_week_53_containing_new_year(lake: Lake):
    for day in week(date(2026, 12, 28)):
        write_tweets_day(lake, day, 2)
    export = export_week(lake, ELECTION, "tweets", 2026, 53)
    assert export.files == ["kaggle/2027/tweets/2026_53.csv.gz"]
    assert "2027-01-01" in export.rows_by_day and export.rows == 14
    created = pl.read_csv(lake.read_bytes(export.files[0]))["created_at"]
    assert created.str.slice(0, 10).unique().sort().to_list()[-1] == "2027-01-03"


def test_incomplete_week_waits_unless_forced(lake: Lake):
    for day in week(MONDAY)[:6]:  # Sunday has not landed
        write_tweets_day(lake, day, 2)
    with pytest.raises(IncompleteWeekError, match="no data for 2026-11-29"):
        export_week(lake, ELECTION, "tweets", 2026, 48)
    assert not lake.exists("kaggle/2027/tweets/2026_48.csv.gz")
    export = export_week(lake, ELECTION, "tweets", 2026, 48, allow_incomplete=True)
    assert export.missing_days == ["2026-11-29"] and export.forced
    manifest = json.loads(lake.read_bytes(kaggle_manifest_key("2027", "tweets", 2026, 48)))
    assert manifest["missing_days"] == ["2026-11-29"] and manifest["rows"] == 12


def test_trends_day_needs_both_areas(lake: Lake):
    for day in week(MONDAY):
        write_trends_day(
            lake,
            "related_queries",
            day,
            areas=("fr",) if day.day == 25 else ("fr", "world"),
        )
    with pytest.raises(IncompleteWeekError, match="2026-11-25"):
        export_week(lake, ELECTION, "trends_related_queries", 2026, 48)


def test_manifest_holds_daily_share_of_voice(lake: Lake):
    build_weeks(lake, [MONDAY])
    export = export_week(lake, ELECTION, "tweets", 2026, 48)
    day = tweets_frame(MONDAY, 5).explode("candidates")["candidates"].value_counts()
    expected = {c: float(n) for c, n in day.iter_rows()}
    assert export.daily["2026-11-23"] == expected


def test_crash_mid_write_keeps_previous_file(lake: Lake, monkeypatch):
    build_weeks(lake, [MONDAY])
    first = export_week(lake, ELECTION, "tweets", 2026, 48)
    before = lake.read_bytes(first.files[0])
    write_tweets_day(lake, MONDAY, 50)

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pl.LazyFrame, "sink_csv", boom)
    with pytest.raises(OSError, match="disk full"):
        export_week(lake, ELECTION, "tweets", 2026, 48)
    assert lake.read_bytes(first.files[0]) == before


def test_export_on_s3(s3_bucket: str):
    lake = open_lake(f"s3://{s3_bucket}/lake")
    rows = build_weeks(lake, [MONDAY], tweets_per_day=2)
    write_tweets_day(lake, MONDAY, 2, archive="legacy")
    export = export_week(lake, ELECTION, "tweets", 2026, 48, parquet_twin=True)
    assert export.rows == rows["tweets"] + 2
    df = pl.read_csv(lake.read_bytes("kaggle/2027/tweets/2026_48.csv.gz"), infer_schema=False)
    assert df.height == export.rows
    assert lake.read_parquet("kaggle/2027/tweets/2026_48.parquet").height == export.rows
    assert read_manifests(lake)[0]["files"] == export.files
