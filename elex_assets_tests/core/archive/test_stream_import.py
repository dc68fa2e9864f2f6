"""Raw v1.1 stream files (2017 JSON lines, 2021-22 pandas CSV) imported into the lake."""

from __future__ import annotations

import gzip
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from elex_assets.core.archive import import_archive
from elex_assets.core.lake import Lake
from elex_assets.core.layout import archive_tweets_key
from elex_assets.core.registry import load_registry
from elex_assets.core.schemas import TWEETS
from elex_assets.sandbox.archive_files import (
    build_legacy_collection,
    limit_notice,
    status,
    write_pandas_csv,
)
from elex_assets.settings import open_lake

SOURCE = "archive_v1_stream"


@pytest.fixture
def collection(tmp_path: Path) -> dict:
    return build_legacy_collection(tmp_path / "legacy")


def _import(source: Path, lake: Lake, election: str):
    return import_archive("v1-stream", Lake.from_url(str(source)), lake, load_registry(election))


def _day(lake: Lake, day: str):
    return lake.read_parquet(archive_tweets_key(date.fromisoformat(day), SOURCE))


def test_2017_json_lines(collection: dict, tmp_path: Path) -> None:
    lake = Lake.from_url(str(tmp_path / "lake"))
    report = _import(collection["stream2017"], lake, "2017")
    assert {d.isoformat(): n for d, n in report.rows_per_day.items()} == collection[
        "stream2017_rows_per_day"
    ]
    assert dict(report.malformed) == collection["stream2017_malformed"]
    assert report.duplicates == collection["stream2017_duplicates"]

    feb1 = _day(lake, "2017-02-01")
    assert feb1.schema == TWEETS.polars
    assert feb1["id"].to_list() == ["1001", "1002", "1004"]
    rows = {r["id"]: r for r in feb1.to_dicts()}
    assert rows["1001"]["created_at"] == datetime(2017, 2, 1, 9, 5, tzinfo=UTC)
    assert rows["1001"]["candidates"] == ["macron"]  # @EmmanuelMacron
    assert rows["1001"]["mentions"] == ["EmmanuelMacron"]
    assert rows["1001"]["author_username"] == "citoyen"
    assert rows["1001"]["author_location"] == "Lyon, France"
    assert rows["1001"]["like_count"] == 7
    assert rows["1002"]["post_type"] == "retweet"
    assert rows["1002"]["referenced_id"] == "900"
    assert rows["1002"]["referenced_author_username"] == "opposant"
    assert rows["1002"]["candidates"] == ["fillon"]
    assert rows["1004"]["hashtags"] == ["Presidentielle2017"]
    assert rows["1004"]["candidates"] == ["hamon"]  # Jadot was not a 2017 candidate

    feb2 = _day(lake, "2017-02-02")  # 00:00:10 UTC lands on the next day
    reply = feb2.row(0, named=True)
    assert reply["post_type"] == "reply"
    assert reply["referenced_id"] == "1004"
    assert reply["candidates"] == ["poutou"]


def test_2022_pandas_csv_with_dict_reprs(collection: dict, tmp_path: Path) -> None:
    lake = Lake.from_url(str(tmp_path / "lake"))
    report = _import(collection["stream2022"], lake, "2022")
    assert report.files == ["data/raw/twitter/20220301/20220301_080500.csv.gz"]
    assert report.skipped_files == ["data/raw/googletrends/20220301/20220301_080000.csv.gz"]
    assert {d.isoformat(): n for d, n in report.rows_per_day.items()} == collection[
        "stream2022_rows_per_day"
    ]
    assert dict(report.malformed) == collection["stream2022_malformed"]
    rows = {r["id"]: r for r in _day(lake, "2022-03-01").to_dicts()}
    long = rows["2001"]
    assert len(long["text"]) > 140 and long["text"].endswith("x" * 200)  # extended_tweet
    assert long["candidates"] == ["zemmour", "pecresse"]
    assert long["urls"] == ["https://example.org/debat"]
    assert long["created_at"] == datetime(2022, 3, 1, 8, tzinfo=UTC)
    assert long["retweet_count"] == 3
    quote = rows["2002"]
    assert quote["post_type"] == "quote"
    assert quote["referenced_id"] == "2000"
    assert quote["referenced_author_username"] == "yjadot"
    assert quote["candidates"] == ["jadot"]  # from the quoted text
    assert rows["2003"]["candidates"] == ["melenchon"]
    assert rows["2003"]["mentions"] == ["JLMelenchon"]


def test_unparsable_reprs_and_missing_timestamps_are_counted(tmp_path: Path) -> None:
    broken = status(3001, "2022-02-10T10:00:00", "Macron")
    good = status(3002, "2022-02-10T10:01:00", "Hidalgo")
    no_time = status(3003, "2022-02-10T10:02:00", "Roussel")
    no_time["created_at"] = None
    no_time["timestamp_ms"] = None
    path = write_pandas_csv(
        tmp_path / "src/data/raw/twitter/20220210/20220210_100500.csv.gz",
        [broken, good, no_time, limit_notice("2022-02-10T10:03:00")],
    )
    # corrupt the user repr of the first row (3001), as a truncated write would
    text = gzip.decompress(path.read_bytes()).decode()
    text = text.replace("'name': 'Un Citoyen', 'screen_name': 'citoyen'", "'name': 'Un Cit", 1)
    path.write_bytes(gzip.compress(text.encode()))

    lake = Lake.from_url(str(tmp_path / "lake"))
    report = _import(tmp_path / "src", lake, "2022")
    assert report.rows == 1
    assert dict(report.malformed) == {
        "unparsable_repr": 1,
        "missing_timestamp": 1,
        "limit_notice": 1,
    }
    assert _day(lake, "2022-02-10")["id"].to_list() == ["3002"]


def test_reimport_is_byte_identical(collection: dict, tmp_path: Path) -> None:
    lake = Lake.from_url(str(tmp_path / "lake"))
    _import(collection["stream2017"], lake, "2017")
    _import(collection["stream2022"], lake, "2022")
    first = {k: (tmp_path / "lake" / k).read_bytes() for k in lake.list()}
    _import(collection["stream2017"], lake, "2017")
    _import(collection["stream2022"], lake, "2022")
    assert {k: (tmp_path / "lake" / k).read_bytes() for k in lake.list()} == first
    assert len(first) == 3


def test_stream_from_s3_source_into_s3_lake(
    collection: dict, s3_bucket: str, tmp_path: Path
) -> None:
    import boto3

    s3 = boto3.client("s3")
    root = collection["stream2022"]
    for path in root.rglob("*"):
        if path.is_file():
            s3.upload_file(str(path), s3_bucket, f"old/{path.relative_to(root).as_posix()}")
    source = open_lake(f"s3://{s3_bucket}/old")
    lake = open_lake(f"s3://{s3_bucket}/lake")
    report = import_archive("v1-stream", source, lake, load_registry("2022"))
    assert report.rows == 3
    assert lake.list("clean/tweets/") == [archive_tweets_key(date(2022, 3, 1), SOURCE)]
    assert lake.read_parquet(report.written[0])["id"].to_list() == ["2001", "2002", "2003"]


def test_all_tweet_sources_read_back_per_iso_week(collection: dict, tmp_path: Path) -> None:
    """What the weekly export does: read every parquet of the days, group by ISO week."""
    import polars as pl

    lake = Lake.from_url(str(tmp_path / "lake"))
    registry = load_registry("2017")
    sqlite = Lake.from_url(str(collection["sqlite"]))
    import_archive("tweets-2017-sqlite", sqlite, lake, registry)
    _import(collection["stream2017"], lake, "2017")
    _import(collection["stream2022"], lake, "2022")
    frame = lake.scan_parquet(lake.list("clean/tweets/")).collect()
    weeks = frame.group_by(
        pl.col("created_at").dt.iso_year().alias("y"), pl.col("created_at").dt.week().alias("w")
    ).len()
    got = {(r["y"], r["w"]): r["len"] for r in weeks.to_dicts()}
    assert got == {**collection["iso_weeks_2017"], **collection["iso_weeks_2022"]}
