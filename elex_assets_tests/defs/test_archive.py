"""The archive import assets: run config / ELEX_ARCHIVE_URL, S3 sources, metadata."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from elex_assets.cli.main import main
from elex_assets.core.lake import Lake
from elex_assets.core.layout import archive_tweets_key
from elex_assets.defs.archive import (
    archive_trends_2017_sqlite,
    archive_tweets_2017_sqlite,
    archive_tweets_v1_stream,
)
from elex_assets.resources import LakeResource
from elex_assets.sandbox.archive_files import build_legacy_collection


def _metadata(result: dg.ExecuteInProcessResult, name: str) -> dict:
    (event,) = result.asset_materializations_for_node(name)
    return {k: v.value for k, v in event.metadata.items()}


def test_assets_import_from_s3_into_the_lake(
    s3_bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    collection = build_legacy_collection(tmp_path / "legacy")
    s3 = boto3.client("s3")
    for path in (tmp_path / "legacy").rglob("*"):
        if path.is_file():
            key = f"old/{path.relative_to(tmp_path / 'legacy').as_posix()}"
            s3.upload_file(str(path), s3_bucket, key)
    monkeypatch.setenv("ELEX_ARCHIVE_URL", f"s3://{s3_bucket}/old/sqlite2017")
    lake_url = f"s3://{s3_bucket}/lake"

    result = dg.materialize(
        [archive_tweets_2017_sqlite, archive_trends_2017_sqlite, archive_tweets_v1_stream],
        resources={"lake": LakeResource(url=lake_url)},
        run_config={
            "ops": {
                "archive_tweets_v1_stream": {
                    "config": {
                        "source_url": f"s3://{s3_bucket}/old/stream2022",
                        "election": "2022",
                    }
                }
            }
        },
    )
    assert result.success
    tweets = _metadata(result, "archive_tweets_2017_sqlite")
    assert tweets["rows"] == 5
    assert tweets["rows_per_day"] == collection["sqlite_rows_per_day"]
    assert tweets["malformed_by_reason"] == collection["sqlite_malformed"]
    assert (tweets["first_day"], tweets["last_day"], tweets["days"]) == (
        "2017-01-02",
        "2017-01-10",
        3,
    )
    assert "Macron" in tweets["preview"] or "Fillon" in tweets["preview"]
    trends = _metadata(result, "archive_trends_2017_sqlite")
    assert trends["rows_per_day"] == collection["trends_rows_per_day"]
    stream = _metadata(result, "archive_tweets_v1_stream")
    assert stream["malformed_by_reason"] == collection["stream2022_malformed"]
    assert stream["rows"] == 3

    lake = Lake.from_url(lake_url)
    assert lake.exists(archive_tweets_key(date(2022, 3, 1), "archive_v1_stream"))
    assert len(lake.list("clean/tweets/")) == 4


def test_asset_without_source_fails_plainly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ELEX_ARCHIVE_URL", raising=False)
    result = dg.materialize(
        [archive_tweets_2017_sqlite],
        resources={"lake": LakeResource(url=str(tmp_path / "lake"))},
        raise_on_error=False,
    )
    assert not result.success
    failure = result.get_step_failure_events()[0]
    assert "ELEX_ARCHIVE_URL" in failure.step_failure_data.error.message


def test_cli_import_and_its_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    collection = build_legacy_collection(tmp_path / "legacy")
    lake_url = str(tmp_path / "lake")
    args = ["import", "v1-stream", str(collection["stream2017"]), "--election", "2017"]
    assert main([*args, "--lake-url", lake_url]) == 0
    out = capsys.readouterr().out
    assert "4 row(s) over 2 day(s)" in out
    assert "limit_notice=1" in out
    assert Lake.from_url(lake_url).exists(archive_tweets_key(date(2017, 2, 2), "archive_v1_stream"))

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "database_1_1.sqlite").write_text("not sqlite")
    assert main(["import", "tweets-2017-sqlite", str(bad), "--lake-url", lake_url]) == 1
    assert "database_1_1.sqlite: not a SQLite database" in capsys.readouterr().err


def test_cli_reports_each_file_and_goes_past_failure_cases(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from elex_assets.sandbox.archive_files import status
    from elex_assets.sandbox.author_scripts import write_listener_hour

    src = tmp_path / "stream"
    write_listener_hour(
        src / "20170320/stream_20170320_10.txt", [status(1, "2017-03-20T10:00:00", "Macron")]
    )
    write_listener_hour(src / "20170320/stream_20170320_11.txt", [420, 420])
    lake_url = str(tmp_path / "lake")
    args = ["import", "v1-stream", str(src), "--election", "2017", "--lake-url", lake_url]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "20170320/stream_20170320_10.txt: 1 row(s)" in out
    assert "20170320/stream_20170320_11.txt: skipped (only_stream_error_codes)" in out
    assert "skipped (only_stream_error_codes): 1 file(s): 20170320/stream_20170320_11.txt" in out
    assert "only_stream_error_codes=2" in out  # its two lines, as rows set aside


def test_cli_and_assets_honour_elex_candidates_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from elex_assets.defs.archive import archive_trends_2022_collecter
    from elex_assets.sandbox.author_scripts import AUTHOR_CANDIDATES_2022, write_trends_run

    src = tmp_path / "bucket"
    for key, name in (("emacron", "Emmanuel Macron"), ("akazib", "Anasse Kazib")):
        write_trends_run(
            src,
            area="fr",
            period="hourly",
            collected="2022-03-01T08:05:00",
            key=key,
            keyword=name,
            points=[("2022-03-01 07:05:00", 80, False)],
        )
    lake_url = str(tmp_path / "lake")
    monkeypatch.delenv("ELEX_CANDIDATES_FILE", raising=False)
    assert main(["import", "trends-2022-collecter", str(src), "--lake-url", lake_url]) == 0
    assert "skipped (unknown_candidate): 1 file(s)" in capsys.readouterr().out

    monkeypatch.setenv("ELEX_CANDIDATES_FILE", str(AUTHOR_CANDIDATES_2022))
    assert main(["import", "trends-2022-collecter", str(src), "--lake-url", lake_url]) == 0
    out = capsys.readouterr().out
    assert "files skipped: none" in out
    assert f"registry: {AUTHOR_CANDIDATES_2022} (41 candidates)" in out

    monkeypatch.setenv("ELEX_ARCHIVE_URL", str(src))
    result = dg.materialize(
        [archive_trends_2022_collecter], resources={"lake": LakeResource(url=lake_url)}
    )
    meta = _metadata(result, "archive_trends_2022_collecter")
    assert meta["rows_per_table"] == {"trends_interest_over_time": 2}
    assert meta["files_skipped"] == 0
    assert meta["registry"] == str(AUTHOR_CANDIDATES_2022)
    assert [f["rows"] for f in meta["per_file"]] == [1, 1]

    monkeypatch.delenv("ELEX_CANDIDATES_FILE")
    result = dg.materialize(
        [archive_trends_2022_collecter], resources={"lake": LakeResource(url=lake_url)}
    )
    meta = _metadata(result, "archive_trends_2022_collecter")
    assert meta["files_skipped_by_reason"] == {
        "unknown_candidate": [
            "data/raw/google_trends/fr/interest_over_time/20220301/akazib_20220301_0805.csv.gz"
        ]
    }
    assert meta["malformed_by_reason"] == {"unknown_candidate": 1}
    assert "akazib" in meta["per_file_table"]

    monkeypatch.setenv("ELEX_CANDIDATES_FILE", str(tmp_path / "missing.json"))
    assert main(["import", "trends-2022-collecter", str(src), "--lake-url", lake_url]) == 1
    assert "ELEX_CANDIDATES_FILE=" in capsys.readouterr().err
    result = dg.materialize(
        [archive_trends_2022_collecter],
        resources={"lake": LakeResource(url=lake_url)},
        raise_on_error=False,
    )
    assert not result.success
    failure = result.get_step_failure_events()[0]
    assert "ELEX_CANDIDATES_FILE" in failure.step_failure_data.error.message


def test_run_config_candidates_file_overrides_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from elex_assets.defs.archive import archive_trends_2022_collecter
    from elex_assets.sandbox.author_scripts import AUTHOR_CANDIDATES_2022, write_trends_run

    src = tmp_path / "bucket"
    write_trends_run(
        src,
        area="world",
        period="daily",
        collected="2022-03-01T08:05:00",
        key="akazib",
        keyword="Anasse Kazib",
        points=[("2022-03-01 07:04:00", 80, False)],
    )
    monkeypatch.setenv("ELEX_CANDIDATES_FILE", str(tmp_path / "not-there.json"))

    def run(candidates_file: str) -> dict:
        config = {"source_url": str(src), "candidates_file": candidates_file}
        result = dg.materialize(
            [archive_trends_2022_collecter],
            resources={"lake": LakeResource(url=str(tmp_path / "lake"))},
            run_config={"ops": {"archive_trends_2022_collecter": {"config": config}}},
        )
        return _metadata(result, "archive_trends_2022_collecter")

    assert run(str(AUTHOR_CANDIDATES_2022))["rows"] == 1
    builtin = run("builtin")
    assert builtin["rows"] == 0
    assert list(builtin["files_skipped_by_reason"]) == ["unknown_candidate"]
