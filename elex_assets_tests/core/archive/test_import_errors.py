"""Files that are not in the expected format fail with an error naming them."""

from __future__ import annotations

import gzip
import sqlite3
from contextlib import closing
from pathlib import Path

import pandas as pd
import pytest

from elex_assets.core.archive import ArchiveFormatError, import_archive
from elex_assets.core.lake import Lake
from elex_assets.core.registry import load_registry
from elex_assets.sandbox.archive_files import (
    first_release_rows,
    status,
    write_2017_sqlite,
    write_jsonl,
)


def _import(fmt: str, source: Path, tmp_path: Path, election: str = "2017"):
    lake = Lake.from_url(str(tmp_path / "lake"))
    return import_archive(fmt, Lake.from_url(str(source)), lake, load_registry(election))


def test_weekly_file_that_is_not_sqlite(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "database_3_1.sqlite").write_text("index,text\n0,hello\n")
    with pytest.raises(ArchiveFormatError, match=r"database_3_1\.sqlite: not a SQLite database"):
        _import("tweets-2017-sqlite", tmp_path / "src", tmp_path)


def test_weekly_file_without_data_table(tmp_path: Path) -> None:
    write_2017_sqlite(tmp_path / "src" / "database_3_1.sqlite", first_release_rows(), "tweets")
    with pytest.raises(ArchiveFormatError, match=r"database_3_1\.sqlite: no table 'data'"):
        _import("tweets-2017-sqlite", tmp_path / "src", tmp_path)


def test_weekly_file_with_wrong_columns(tmp_path: Path) -> None:
    rows = [{k: v for k, v in r.items() if k != "timestampms"} for r in first_release_rows()]
    write_2017_sqlite(tmp_path / "src" / "database_3_1.sqlite", rows)
    with pytest.raises(ArchiveFormatError, match=r"database_3_1\.sqlite: .*timestampms"):
        _import("tweets-2017-sqlite", tmp_path / "src", tmp_path)


def test_trends_file_with_wrong_table(tmp_path: Path) -> None:
    path = tmp_path / "src" / "database_googletrends.sqlite"
    path.parent.mkdir()
    with closing(sqlite3.connect(path)) as conn:
        pd.DataFrame({"day": ["2017-01-01"], "macron": [3]}).to_sql("trends", conn)
    with pytest.raises(
        ArchiveFormatError, match=r"database_googletrends\.sqlite: no table 'interests_over_time'"
    ):
        _import("trends-2017-sqlite", tmp_path / "src", tmp_path)


def test_csv_gz_that_is_not_gzip(tmp_path: Path) -> None:
    path = tmp_path / "src/data/raw/twitter/20220105/20220105_120000.csv.gz"
    path.parent.mkdir(parents=True)
    path.write_text("id_str,text\n1,hello\n")
    with pytest.raises(ArchiveFormatError, match=r"20220105_120000\.csv\.gz: not a gzip file"):
        _import("v1-stream", tmp_path / "src", tmp_path, "2022")


def test_truncated_gzip(tmp_path: Path) -> None:
    path = tmp_path / "src/data/raw/twitter/20220105/20220105_120000.csv.gz"
    path.parent.mkdir(parents=True)
    path.write_bytes(gzip.compress(b"id_str,text\n1,hello\n" * 50)[:40])
    with pytest.raises(ArchiveFormatError, match=r"20220105_120000\.csv\.gz: corrupt or truncated"):
        _import("v1-stream", tmp_path / "src", tmp_path, "2022")


def test_csv_without_status_columns(tmp_path: Path) -> None:
    path = tmp_path / "src/data/raw/twitter/20220105/20220105_120000.csv.gz"
    path.parent.mkdir(parents=True)
    path.write_bytes(gzip.compress(b"a,b\n1,2\n"))
    with pytest.raises(ArchiveFormatError, match=r"20220105_120000\.csv\.gz: not a v1\.1 stream"):
        _import("v1-stream", tmp_path / "src", tmp_path, "2022")


def test_binary_file_in_a_stream_day_folder(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "src/20170301/ok", [status(1, "2017-03-01T10:00:00", "Macron")])
    (tmp_path / "src/20170301/picture.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00garbage")
    with pytest.raises(ArchiveFormatError, match=r"20170301/picture\.png: not a JSON-lines"):
        _import("v1-stream", tmp_path / "src", tmp_path)


def test_empty_source_says_what_it_looked_for(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "notes.txt").write_text("nothing")
    with pytest.raises(FileNotFoundError, match=r"no 2017 weekly SQLite files"):
        _import("tweets-2017-sqlite", tmp_path / "src", tmp_path)


def test_2017_format_with_2022_registry_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="holds the 2017 election, not 2022"):
        _import("tweets-2017-sqlite", tmp_path, tmp_path, "2022")


def test_trends_column_for_an_unknown_candidate_skips_the_file(tmp_path: Path) -> None:
    from elex_assets.sandbox.archive_files import write_2017_trends

    write_2017_trends(
        tmp_path / "src" / "database_googletrends.sqlite",
        ["2017-02-01"],
        {"emmanuel macron": [10.0], "francois bayrou": [3.0]},
    )
    report = _import("trends-2017-sqlite", tmp_path / "src", tmp_path)
    assert report.rows == 0
    (result,) = report.file_results
    assert result.skipped == "unknown_candidate"
    assert "'francois bayrou'" in result.detail
