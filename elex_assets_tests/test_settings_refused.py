"""Settings the hostile pass found accepted (issue 25, item 5) are refused at load, each
in one message naming its variable, and nothing is created on disk before that."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from elex_assets.core.lake import Lake
from elex_assets.settings import validate_env

BAD = [
    ({"ELEX_LAKE_URL": "ftp://host/lake"}, "ELEX_LAKE_URL='ftp://host/lake': ftp: is not"),
    ({"ELEX_LAKE_URL": "s3:/bucket-typo/lake"}, "ELEX_LAKE_URL='s3:/bucket-typo/lake': s3: is"),
    ({"ELEX_LAKE_URL": "s3://"}, "ELEX_LAKE_URL='s3://': '' is not an S3 bucket name"),
    ({"ELEX_LAKE_URL": "s3://My_Bucket/lake"}, "'My_Bucket' is not an S3 bucket name"),
    ({"ELEX_ARCHIVE_URL": "https://example.org/old"}, "ELEX_ARCHIVE_URL='https://example.org"),
    ({"X_MIN_STATUS": "7"}, "X_MIN_STATUS=7: expected a number between -1 and 1"),
    ({"X_MIN_STATUS": "-2"}, "X_MIN_STATUS=-2: expected a number between -1 and 1"),
    ({"X_SAMPLE_POSTS_PER_DAY": "-3"}, "X_SAMPLE_POSTS_PER_DAY=-3: expected a number at least 0"),
    ({"X_SAMPLE_POSTS_PER_DAY": "0", "X_POSTS_PLAN": "sample"},
     "X_SAMPLE_POSTS_PER_DAY=0: X_POSTS_PLAN=sample needs a positive number"),
    # live base URL: the plan defaults to sample, so 0 posts a day is refused there too
    ({"X_SAMPLE_POSTS_PER_DAY": "0"}, "X_SAMPLE_POSTS_PER_DAY=0: X_POSTS_PLAN=sample"),
    ({"BSKY_BASE_URL": "bsky.social"}, "BSKY_BASE_URL='bsky.social': expected an http"),
    ({"BSKY_BASE_URL": "ftp://bsky.social"}, "BSKY_BASE_URL='ftp://bsky.social': expected"),
    ({"X_API_BASE_URL": "https://"}, "X_API_BASE_URL='https://': expected an http:// or https"),
    ({"AWS_ENDPOINT_URL": "localhost:5000"}, "AWS_ENDPOINT_URL='localhost:5000': expected"),
    ({"ELEX_UI_URL": "dagster.local"}, "ELEX_UI_URL='dagster.local': expected an http"),
    ({"ELEX_FRESHNESS_KAGGLE_CRON": "not a cron"},
     "ELEX_FRESHNESS_KAGGLE_CRON='not a cron': expected a cron string"),
    ({"ELEX_FRESHNESS_KAGGLE_CRON": "0 25 * * 1"}, "ELEX_FRESHNESS_KAGGLE_CRON='0 25 * * 1'"),
    ({"ELEX_FRESHNESS_TWEETS_WARN_MINUTES": "60", "ELEX_FRESHNESS_TWEETS_FAIL_MINUTES": "30"},
     "ELEX_FRESHNESS_TWEETS_WARN_MINUTES=60 must be below ELEX_FRESHNESS_TWEETS_FAIL_MINUTES=30"),
    ({"ELEX_QUIET_MINUTES": "nan"}, "ELEX_QUIET_MINUTES='nan' must be a positive number"),
    ({"ELEX_QUIET_MINUTES": "2000"}, "ELEX_QUIET_MINUTES='2000': expected at most 1440"),
    ({"ELEX_DAY_DEADLINE_MINUTES": "1441"}, "ELEX_DAY_DEADLINE_MINUTES='1441': expected at most"),
    ({"X_LANGUAGES": "fr,lang:en"}, "X_LANGUAGES='fr,lang:en': 'lang:en' is not a language code"),
]


@pytest.mark.parametrize(("env", "message"), BAD, ids=[next(iter(e)) + "=" + e[next(iter(e))]
                                                       for e, _ in BAD])
def test_a_bad_setting_is_refused_naming_its_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match="invalid setting") as info:
        validate_env(env)
    assert message in str(info.value)


@pytest.mark.parametrize("env", [
    {"ELEX_LAKE_URL": "data/lake"}, {"ELEX_LAKE_URL": "/srv/lake/"},
    {"ELEX_LAKE_URL": "s3://elex-lake"}, {"ELEX_LAKE_URL": "s3://elex.lake-2027/prod/v1"},
    {"X_MIN_STATUS": "1"}, {"X_SAMPLE_POSTS_PER_DAY": "0", "X_POSTS_PLAN": "off"},
    {"X_SAMPLE_POSTS_PER_DAY": "0", "X_API_BASE_URL": "http://127.0.0.1:9"},  # sandbox: full
    {"BSKY_BASE_URL": "http://127.0.0.1:8"}, {"ELEX_FRESHNESS_KAGGLE_CRON": "30 6 * * 1-5"},
])
def test_good_settings_still_load(env: dict[str, str]) -> None:
    validate_env(env)


@pytest.mark.parametrize("url", ["ftp://host/lake", "s3:/bucket-typo/lake", "S3://b/x"])
def test_the_lake_itself_refuses_a_url_it_would_take_for_a_folder(url: str) -> None:
    with pytest.raises(ValueError, match="expected a local folder or s3://bucket"):
        Lake.from_url(url)


def test_a_refused_lake_url_writes_nothing_and_the_dagster_cli_shows_one_line(
    tmp_path: Path,
) -> None:
    """Before: rc=0, and 12 files under ./ftp:/host/lake in the working directory; a
    refusal was wrapped in ~60 lines of Dagster's traceback."""
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    home.mkdir()
    cwd.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {**os.environ, "ELEX_LAKE_URL": "ftp://host/lake", "DAGSTER_HOME": str(home)}
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("dagster")), "asset", "materialize",
         "-m", "elex_assets.definitions", "--select", "candidates"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == (
        "Error: invalid setting: ELEX_LAKE_URL='ftp://host/lake': ftp: is not a supported "
        "lake: expected a local folder or s3://bucket[/prefix]")
    assert "Traceback" not in proc.stderr
    assert list(cwd.iterdir()) == []


def test_the_demo_refuses_a_bad_setting_before_creating_its_instance(tmp_path: Path) -> None:
    """Before: the demo wrote DAGSTER_HOME/dagster.yaml, then refused the lake URL."""
    env = {**os.environ, "ELEX_LAKE_URL": "s3:/bucket-typo/lake",
           "DAGSTER_HOME": str(tmp_path / "home")}
    proc = subprocess.run(
        [sys.executable, "-m", "elex_assets.cli.main", "demo"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "elex: error: invalid setting: ELEX_LAKE_URL='s3:/bucket-typo/lake': s3: "
        "is not a supported lake: expected a local folder or s3://bucket[/prefix] "
        "(--verbose shows the traceback)"]
    assert list(tmp_path.iterdir()) == []
