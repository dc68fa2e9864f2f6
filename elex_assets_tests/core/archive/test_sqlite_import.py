"""2017 SQLite files (weekly tweets, Trends) imported into the lake's daily files."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from elex_assets.core.archive import import_archive
from elex_assets.core.lake import Lake
from elex_assets.core.layout import archive_trends_key, archive_tweets_key
from elex_assets.core.registry import load_registry
from elex_assets.core.schemas import TRENDS, TWEETS
from elex_assets.sandbox.archive_files import (
    build_legacy_collection,
    sqlite_row,
    write_2017_sqlite,
)


@pytest.fixture
def collection(tmp_path: Path) -> dict:
    return build_legacy_collection(tmp_path / "legacy")


def _import(fmt: str, source: Path, lake: Lake, election: str = "2017", **kw):
    return import_archive(fmt, Lake.from_url(str(source)), lake, load_registry(election), **kw)


def test_weekly_sqlite_lands_one_file_per_utc_day(collection: dict, tmp_path: Path) -> None:
    lake = Lake.from_url(str(tmp_path / "lake"))
    report = _import("tweets-2017-sqlite", collection["sqlite"], lake)

    expected = {date.fromisoformat(d): n for d, n in collection["sqlite_rows_per_day"].items()}
    assert report.rows_per_day == expected
    assert dict(report.malformed) == collection["sqlite_malformed"]
    assert dict(report.fields_dropped) == collection["sqlite_fields_dropped"]
    assert sorted(report.files) == ["database_1_1.sqlite", "database_2_1.sqlite"]
    assert "database_googletrends.sqlite" in report.skipped_files
    for day, rows in expected.items():
        frame = lake.read_parquet(archive_tweets_key(day, "archive_2017_sqlite"))
        assert frame.schema == TWEETS.polars
        assert frame.height == rows
        assert frame["created_at"].dt.date().to_list() == [day] * rows
        assert frame.select(TWEETS.required).null_count().sum_horizontal().item() == 0
        assert set(frame["source"]) == {"archive_2017_sqlite"}
        assert frame["id"].null_count() == rows  # the old script kept no post id


def test_weekly_sqlite_maps_columns_and_mentions(collection: dict, tmp_path: Path) -> None:
    lake = Lake.from_url(str(tmp_path / "lake"))
    _import("tweets-2017-sqlite", collection["sqlite"], lake)
    jan9 = lake.read_parquet(archive_tweets_key(date(2017, 1, 9), "archive_2017_sqlite"))
    first, retweet = jan9.to_dicts()
    assert first["created_at"] == datetime(2017, 1, 9, 8, 15, tzinfo=UTC)
    assert first["text"] == "Macron à Lyon"
    assert first["author_name"] == "Jean Dupont"
    assert first["author_location"] == "Paris"
    assert first["candidates"] == ["macron"]
    assert first["post_type"] == "original"
    assert retweet["post_type"] == "retweet"
    # the handle of "RT @MLP_officiel: ...", not the stored display name "Marine Le Pen"
    assert retweet["referenced_author_username"] == "MLP_officiel"
    assert retweet["referenced_text"] == "Marine Le Pen répond à Macron"
    assert retweet["candidates"] == ["le-pen"]

    jan10 = lake.read_parquet(archive_tweets_key(date(2017, 1, 10), "archive_2017_sqlite"))
    row = jan10.row(0, named=True)
    # 00:30 UTC on the 10th: the UTC day, not the old script's local ``day`` column
    assert row["created_at"] == datetime(2017, 1, 10, 0, 30, tzinfo=UTC)
    assert row["post_type"] == "quote"
    # the old script stored the quoted author's display name: never a handle
    assert row["referenced_author_username"] is None
    assert row["author_name"] == "Jean Dupont"
    assert row["candidates"] == ["dupont-aignan", "asselineau"]  # registry order


def test_first_release_table_with_five_candidates(collection: dict, tmp_path: Path) -> None:
    lake = Lake.from_url(str(tmp_path / "lake"))
    _import("tweets-2017-sqlite", collection["sqlite"], lake)
    jan2 = lake.read_parquet(archive_tweets_key(date(2017, 1, 2), "archive_2017_sqlite"))
    assert jan2["candidates"].to_list() == [["fillon"], ["hamon", "melenchon"]]
    assert jan2["created_at"].to_list() == [
        datetime(2017, 1, 2, 10, tzinfo=UTC),
        datetime(2017, 1, 2, 23, 30, tzinfo=UTC),
    ]
    assert jan2["author_name"].null_count() == 2


def test_bad_timestamps_are_counted_not_written(tmp_path: Path) -> None:
    rows = [sqlite_row("2017-03-01T12:00:00", "Hamon", ("Hamon",)) for _ in range(2)]
    rows[1]["timestampms"] = "not-a-number"
    rows.append(sqlite_row(None, "Fillon", ("Fillon",)))
    write_2017_sqlite(tmp_path / "src" / "database_9_1.sqlite", rows)
    lake = Lake.from_url(str(tmp_path / "lake"))
    report = _import("tweets-2017-sqlite", tmp_path / "src", lake)
    assert report.rows == 1
    assert dict(report.malformed) == {"bad_timestamp": 1, "missing_timestamp": 1}


def test_trends_sqlite_becomes_interest_over_time(collection: dict, tmp_path: Path) -> None:
    lake = Lake.from_url(str(tmp_path / "lake"))
    report = _import("trends-2017-sqlite", collection["sqlite"], lake)
    assert {d.isoformat(): n for d, n in report.rows_per_day.items()} == collection[
        "trends_rows_per_day"
    ]
    assert dict(report.malformed) == collection["trends_malformed"]
    key = archive_trends_key("interest_over_time", "fr", date(2017, 1, 2), "archive_2017_sqlite")
    frame = lake.read_parquet(key)
    assert frame.schema == TRENDS["interest_over_time"].polars
    by_id = {r["candidate_id"]: r for r in frame.to_dicts()}
    assert set(by_id) == {"hamon", "le-pen", "macron", "melenchon", "fillon"}
    assert by_id["melenchon"]["keyword"] == "jean-luc melenchon"
    assert by_id["macron"]["value"] == 55
    assert by_id["macron"]["timestamp"] == datetime(2017, 1, 2, tzinfo=UTC)
    assert by_id["macron"]["area"] == "fr"
    assert frame["value_comparable"].null_count() == frame.height
    jan3 = key.replace("2017-01-02", "2017-01-03")
    assert "le-pen" not in lake.read_parquet(jan3)["candidate_id"].to_list()  # null value


def test_reimport_gives_identical_files(collection: dict, tmp_path: Path) -> None:
    lake = Lake.from_url(str(tmp_path / "lake"))
    for fmt in ("tweets-2017-sqlite", "trends-2017-sqlite"):
        _import(fmt, collection["sqlite"], lake)
    first = {k: (tmp_path / "lake" / k).read_bytes() for k in lake.list()}
    for fmt in ("tweets-2017-sqlite", "trends-2017-sqlite"):
        _import(fmt, collection["sqlite"], lake)
    assert {k: (tmp_path / "lake" / k).read_bytes() for k in lake.list()} == first


def test_archive_files_sit_beside_live_files(collection: dict, tmp_path: Path) -> None:
    lake = Lake.from_url(str(tmp_path / "lake"))
    live = TWEETS.conform(
        pl.DataFrame(
            {
                "id": ["1"],
                "created_at": [datetime(2017, 1, 9, 12, tzinfo=UTC)],
                "post_type": ["original"],
                "candidates": [["macron"]],
                "collected_at": [datetime(2017, 1, 9, 12, tzinfo=UTC)],
                "source": ["x_search_all"],
            }
        )
    )
    lake.write_parquet("clean/tweets/date=2017-01-09/part-0.parquet", live)
    _import("tweets-2017-sqlite", collection["sqlite"], lake)
    day = lake.list("clean/tweets/date=2017-01-09/")
    assert len(day) == 2
    both = lake.scan_parquet(day).collect()
    assert sorted(both["source"]) == ["archive_2017_sqlite"] * 2 + ["x_search_all"]


def test_prune_removes_days_no_longer_imported(collection: dict, tmp_path: Path) -> None:
    lake = Lake.from_url(str(tmp_path / "lake"))
    _import("tweets-2017-sqlite", collection["sqlite"], lake)
    (collection["sqlite"] / "database_1_1.sqlite").unlink()
    kept = _import("tweets-2017-sqlite", collection["sqlite"], lake)
    assert kept.removed == []
    assert lake.exists(archive_tweets_key(date(2017, 1, 2), "archive_2017_sqlite"))
    pruned = _import("tweets-2017-sqlite", collection["sqlite"], lake, prune=True)
    assert pruned.removed == [archive_tweets_key(date(2017, 1, 2), "archive_2017_sqlite")]
    assert not lake.exists(archive_tweets_key(date(2017, 1, 2), "archive_2017_sqlite"))
    assert lake.exists(archive_tweets_key(date(2017, 1, 9), "archive_2017_sqlite"))


def test_trends_day_fetched_twice_keeps_the_later_row(tmp_path: Path) -> None:
    from elex_assets.sandbox.archive_files import write_2017_trends

    write_2017_trends(
        tmp_path / "src" / "database_googletrends.sqlite",
        ["2017-02-01", "2017-02-02", "2017-02-01 00:00:00"],
        {"emmanuel macron": [10.0, 20.0, 30.0]},
    )
    lake = Lake.from_url(str(tmp_path / "lake"))
    report = _import("trends-2017-sqlite", tmp_path / "src", lake)
    assert report.duplicates == 1
    key = archive_trends_key("interest_over_time", "fr", date(2017, 2, 1), "archive_2017_sqlite")
    assert lake.read_parquet(key)["value"].to_list() == [30]


def test_2017_trends_of_one_area_reach_the_weekly_export(collection: dict, tmp_path: Path) -> None:
    """The 2017 Trends archive has area fr only: a forced week exports its rows."""
    import gzip

    from elex_assets.core.kaggle.export import export_week

    lake = Lake.from_url(str(tmp_path / "lake"))
    _import("trends-2017-sqlite", collection["sqlite"], lake)
    election = load_registry("2017").election
    export = export_week(
        lake, election, "trends_interest_over_time", 2017, 1, allow_incomplete=True
    )
    assert export.rows == 9
    assert export.rows_by_day == collection["trends_rows_per_day"]
    text = gzip.decompress((tmp_path / "lake" / export.files[0]).read_bytes()).decode()
    assert text.count("archive_2017_sqlite") == 9
