"""The archive import assets: run config / ELEX_ARCHIVE_URL, S3 sources, metadata."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from elex_assets.assets.archive import (
    archive_trends_2017_sqlite,
    archive_tweets_2017_sqlite,
    archive_tweets_v1_stream,
)
from elex_assets.cli import main
from elex_assets.core.lake import Lake
from elex_assets.core.layout import archive_tweets_key
from elex_assets.resources import LakeResource
from elex_assets_tests.archive_fixtures import build_legacy_collection


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
