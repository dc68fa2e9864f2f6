"""2021-22 Google Trends files, written the way google_trends_collecter.py wrote them,
imported into the four trends_* tables and exported by the weekly Kaggle export."""

from __future__ import annotations

import gzip
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from elex_assets.core.archive import archive_registry, import_archive
from elex_assets.core.kaggle.export import export_week
from elex_assets.core.lake import Lake
from elex_assets.core.layout import archive_trends_key
from elex_assets.sandbox.author_scripts import (
    AUTHOR_CANDIDATES_2022,
    query,
    topic,
    write_trends_run,
)

SOURCE = "archive_2022_trends_collecter"


def build_trends_collection(root: Path) -> Path:
    """Runs of google_trends_collecter.py on 2022-03-01 (UTC): hourly and weekly, fr and
    world, for Macron and Zemmour, and one run for Kazib (not in elex's registry)."""
    write_trends_run(
        root,
        area="fr",
        period="hourly",
        collected="2022-03-01T08:05:00",
        key="emacron",
        keyword="Emmanuel Macron",
        points=[
            ("2022-03-01 07:05:00", 80, False),
            ("2022-03-01 07:06:00", 100, False),
            ("2022-03-01 08:04:00", 55, True),
        ],
        regions=[("Île-de-France", 100), ("Bretagne", 61), ("Atlantide", 3)],
        topics={
            "rising": [topic("/m/0abc", "Guerre en Ukraine", "Topic", 3250, "Breakout")],
            "top": [
                topic("/m/02y1vz", "Emmanuel Macron", "Président de la République", 100, "100"),
                topic("/m/0f8l9c", "France", "Pays", 12, "12"),
            ],
        },
        queries={
            "top": [query("macron", 100, "100"), query("macron ukraine", 31, "31")],
            "rising": [query("macron poutine", 450, "+450 %")],
        },
    )
    write_trends_run(
        root,
        area="world",
        period="weekly",
        collected="2022-03-01T00:30:00",
        key="ezemmour",
        keyword="Eric Zemmour",
        points=[
            ("2022-02-22 01:00:00", 40, False),
            ("2022-02-28 23:00:00", 70, False),
            ("2022-03-01 00:00:00", 66, True),
        ],
        regions=[("France", 100), ("Belgium", 20)],
    )
    write_trends_run(
        root,
        area="fr",
        period="daily",
        collected="2022-03-01T09:00:00",
        key="akazib",
        keyword="Anasse Kazib",
        points=[("2022-03-01 08:52:00", 100, True)],
    )
    return root


def _import(root: Path, lake: Lake, candidates: Path | None = None):
    registry = archive_registry("2022", str(candidates) if candidates else None)
    return import_archive("trends-2022-collecter", Lake.from_url(str(root)), lake, registry)


def test_collector_files_land_in_the_four_tables(tmp_path: Path) -> None:
    root = build_trends_collection(tmp_path / "bucket")
    lake = Lake.from_url(str(tmp_path / "lake"))
    report = _import(root, lake)

    assert report.rows_per_table == {
        "trends_interest_over_time": 6,
        "trends_interest_by_region": 4,
        "trends_related_topics": 3,
        "trends_related_queries": 3,
    }
    assert report.files_skipped_by_reason == {
        "unknown_candidate": [
            "data/raw/google_trends/fr/daily_interest_over_time/20220301/akazib_20220301_0900.csv.gz"
        ]
    }
    assert dict(report.malformed) == {"unknown_geo_name": 1, "unknown_candidate": 1}

    day = date(2022, 3, 1)
    iot = lake.read_parquet(archive_trends_key("interest_over_time", "fr", day, SOURCE))
    assert iot["timestamp"].to_list() == [
        datetime(2022, 3, 1, 7, 5, tzinfo=UTC),
        datetime(2022, 3, 1, 7, 6, tzinfo=UTC),
        datetime(2022, 3, 1, 8, 4, tzinfo=UTC),
    ]
    assert iot["value"].to_list() == [80, 100, 55]
    assert iot["is_partial"].to_list() == [False, False, True]
    assert set(iot["candidate_id"]) == {"macron"}
    assert set(iot["keyword"]) == {"Emmanuel Macron"}
    assert set(iot["source"]) == {SOURCE}
    assert set(iot["timeframe"]) == {"now 1-H"}
    assert set(iot["collected_at"]) == {datetime(2022, 3, 1, 8, 5, tzinfo=UTC)}
    assert iot["value_comparable"].null_count() == 3  # one candidate per request, no anchor

    # a weekly window spreads over the UTC days of its points
    world_feb28 = lake.read_parquet(
        archive_trends_key("interest_over_time", "world", date(2022, 2, 28), SOURCE)
    )
    assert world_feb28.select("candidate_id", "timeframe", "value").row(0) == (
        "zemmour",
        "now 7-d",
        70,
    )
    assert lake.exists(archive_trends_key("interest_over_time", "world", date(2022, 2, 22), SOURCE))

    regions = lake.read_parquet(archive_trends_key("interest_by_region", "fr", day, SOURCE))
    assert dict(zip(regions["geo_code"], regions["value"], strict=True)) == {
        "FR-BRE": 61,
        "FR-IDF": 100,
    }
    world = lake.read_parquet(archive_trends_key("interest_by_region", "world", day, SOURCE))
    assert dict(zip(world["geo_name"], world["geo_code"], strict=True)) == {
        "Belgium": "BE",
        "France": "FR",
    }
    assert set(world["timeframe"]) == {"now 7-d"}

    topics = lake.read_parquet(archive_trends_key("related_topics", "fr", day, SOURCE))
    rising = topics.filter(pl.col("ranking") == "rising").row(0, named=True)
    assert (rising["topic_title"], rising["value"], rising["formatted_value"]) == (
        "Guerre en Ukraine",
        3250,
        "Breakout",
    )
    top = topics.filter(pl.col("ranking") == "top").sort("rank")
    assert top["topic_mid"].to_list() == ["/m/02y1vz", "/m/0f8l9c"]
    assert top["rank"].to_list() == [0, 1]
    queries = lake.read_parquet(archive_trends_key("related_queries", "fr", day, SOURCE))
    assert queries.filter(pl.col("ranking") == "top").sort("rank")["query"].to_list() == [
        "macron",
        "macron ukraine",
    ]
    assert queries.filter(pl.col("ranking") == "rising")["value"].to_list() == [450]


def test_author_candidates_file_imports_every_candidate(tmp_path: Path) -> None:
    root = build_trends_collection(tmp_path / "bucket")
    lake = Lake.from_url(str(tmp_path / "lake"))
    report = _import(root, lake, AUTHOR_CANDIDATES_2022)
    assert report.files_skipped_by_reason == {}
    iot = lake.read_parquet(
        archive_trends_key("interest_over_time", "fr", date(2022, 3, 1), SOURCE)
    )
    assert set(iot["candidate_id"]) == {"emacron", "akazib"}
    kazib = iot.filter(pl.col("candidate_id") == "akazib").row(0, named=True)
    assert (kazib["keyword"], kazib["timeframe"]) == ("Anasse Kazib", "now 1-d")


def test_reimport_is_identical_and_weekly_exports_carry_it(tmp_path: Path) -> None:
    root = build_trends_collection(tmp_path / "bucket")
    lake = Lake.from_url(str(tmp_path / "lake"))
    _import(root, lake)
    first = {k: (tmp_path / "lake" / k).read_bytes() for k in lake.list()}
    _import(root, lake)
    assert {k: (tmp_path / "lake" / k).read_bytes() for k in lake.list()} == first

    election = archive_registry("2022", None).election
    expected = {
        "trends_interest_over_time": 3 + 2,  # fr 2022-03-01, world 02-28 and 03-01
        "trends_interest_by_region": 4,
        "trends_related_topics": 3,
        "trends_related_queries": 3,
    }
    for source, rows in expected.items():
        export = export_week(lake, election, source, 2022, 9, allow_incomplete=True)
        assert export.rows == rows, source
        text = gzip.decompress((tmp_path / "lake" / export.files[0]).read_bytes()).decode()
        header, *lines = text.splitlines()
        assert "source" in header.split(",") and "timeframe" in header.split(",")
        assert all(SOURCE in line for line in lines), source


def test_file_that_is_not_the_collector_format_names_itself(tmp_path: Path) -> None:
    from elex_assets.core.archive import ArchiveFormatError

    path = tmp_path / "src/fr/interest_over_time/20220301/emacron_20220301_0800.csv.gz"
    path.parent.mkdir(parents=True)
    path.write_bytes(gzip.compress(b"a,b\n1,2\n"))
    with pytest.raises(ArchiveFormatError, match=r"emacron_20220301_0800\.csv\.gz: not a interest"):
        _import(tmp_path / "src", Lake.from_url(str(tmp_path / "lake")))
