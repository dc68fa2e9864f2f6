"""The CLI backfill commands of docs/sources/x.md, run as a user would, against the sandboxes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from elex_assets import PROJECT_DIR
from elex_assets.core.layout import TRENDS_KINDS

DAY = "2026-11-20"


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    from elex_assets.sandbox.serve import start_sandboxes

    home = tmp_path_factory.mktemp("cli")
    (home / "dagster_home").mkdir()
    shutil.copy(PROJECT_DIR / "dagster.yaml", home / "dagster_home" / "dagster.yaml")
    saved = dict(os.environ)
    servers = start_sandboxes()  # sets X_API_BASE_URL and TRENDS_BASE_URL
    try:
        env = {
            **os.environ,
            "DAGSTER_HOME": str(home / "dagster_home"),
            "ELEX_LAKE_URL": str(home / "lake"),
            "ELEX_ELECTION": "2027",
            "X_SEARCH_ENDPOINT": "all",
            "TRENDS_MIN_INTERVAL_SECONDS": "0",
        }
        yield env
    finally:
        for server in servers.values():
            server.stop()
        os.environ.clear()
        os.environ.update(saved)


def _materialize(env: dict[str, str], select: str, partition: str) -> None:
    dagster = Path(sys.executable).with_name("dagster")
    result = subprocess.run(
        [str(dagster), "asset", "materialize", "-m", "elex_assets.definitions",
         "--select", select, "--partition", partition],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "RUN_SUCCESS" in result.stdout + result.stderr


def test_materialize_posts_of_a_day(cli_env: dict[str, str]) -> None:
    _materialize(cli_env, "raw_tweets,tweets", DAY)
    lake = Path(cli_env["ELEX_LAKE_URL"])
    tweets = pl.read_parquet(lake / f"clean/tweets/date={DAY}/part-0.parquet")
    assert tweets.height > 0
    assert tweets["id"].n_unique() == tweets.height
    assert list((lake / f"raw/tweets/date={DAY}").glob("*.jsonl.gz"))


def test_materialize_trends_of_an_area_and_day(cli_env: dict[str, str]) -> None:
    _materialize(cli_env, "key:trends_*", f"fr|{DAY}")
    lake = Path(cli_env["ELEX_LAKE_URL"])
    for kind in TRENDS_KINDS:
        path = lake / f"clean/trends_{kind}/area=fr/date={DAY}/part-0.parquet"
        assert path.exists(), f"{kind} not written"
    over_time = pl.read_parquet(
        lake / f"clean/trends_interest_over_time/area=fr/date={DAY}/part-0.parquet"
    )
    assert over_time["candidate_id"].n_unique() == 16  # every 2027 candidate
