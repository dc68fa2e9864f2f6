"""A weekly export killed at any point leaves only finished files to publish."""

from __future__ import annotations

import gzip
import json
import signal
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from elex_assets.core.kaggle.dataset import _local_folder, publishable, publishable_keys
from elex_assets.core.kaggle.export import export_week, read_manifests
from elex_assets.core.lake import Lake
from elex_assets.settings import open_lake
from elex_assets_tests.lake_builder import ELECTION, build_weeks, write_tweets_day

MONDAY = date(2026, 11, 23)
CSV = "kaggle/2027/tweets/2026_48.csv.gz"

# Runs one export in a child process that SIGKILLs itself at the chosen point.
CHILD = textwrap.dedent(
    """
    import os, signal, sys
    import polars as pl
    from elex_assets.core.kaggle.export import export_week
    from elex_assets.core.lake import Lake
    from elex_assets_tests.lake_builder import ELECTION

    where = sys.argv[2]
    if where == "csv":  # half the CSV written to its temporary file
        def sink(self, path, **kw):
            with open(path, "wb") as fh:
                fh.write(b"\\x1f\\x8b half a file")
            os.kill(os.getpid(), signal.SIGKILL)
        pl.LazyFrame.sink_csv = sink
    else:  # the manifest written, the files not yet moved into place
        def move(self, src, dst):
            os.kill(os.getpid(), signal.SIGKILL)
        Lake.move = move
    export_week(Lake.from_url(sys.argv[1]), ELECTION, "tweets", 2026, 48, parquet_twin=True)
    """
)


def _killed_export(lake: Lake, where: str) -> None:
    proc = subprocess.run([sys.executable, "-c", CHILD, lake.url, where], timeout=120,
                          capture_output=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]


def _rows(path: Path) -> int:
    with gzip.open(path, "rb") as fh:  # a cut gzip raises here
        return pl.read_csv(fh.read(), infer_schema=False).height


@pytest.fixture
def lake(tmp_path) -> Lake:  # noqa: ANN001
    lake = Lake.from_url(str(tmp_path / "lake"))
    build_weeks(lake, [MONDAY], tweets_per_day=5)
    export_week(lake, ELECTION, "tweets", 2026, 48, parquet_twin=True)
    write_tweets_day(lake, MONDAY, 40)  # the day grows: the next export differs
    return lake


def test_a_kill_while_the_csv_is_written_leaves_the_old_week_whole(lake: Lake) -> None:
    before = read_manifests(lake)[0]
    old_bytes = lake.read_bytes(CSV)
    _killed_export(lake, "csv")
    root = Path(lake.url)
    leftovers = [p.relative_to(root).as_posix() for p in root.rglob("*") if ".tmp" in p.name]
    assert leftovers and all(not p.startswith("kaggle/") for p in leftovers)
    assert lake.read_bytes(CSV) == old_bytes
    assert read_manifests(lake)[0]["exported_at"] == before["exported_at"]
    folder = _local_folder(lake)
    up = folder.__enter__()
    try:
        names = sorted(p.relative_to(up).as_posix() for p in up.rglob("*") if p.is_file())
        assert names == ["2027/tweets/2026_48.csv.gz", "2027/tweets/2026_48.parquet"]
        assert _rows(up / "2027/tweets/2026_48.csv.gz") == before["rows"]
    finally:
        folder.__exit__()
    # The next export of the week drops the orphan and publishes the new data.
    export = export_week(lake, ELECTION, "tweets", 2026, 48)
    left = [p for p in root.rglob("*") if p.is_file() and "staged/" in p.as_posix()]
    assert not left
    assert _rows(root / CSV) == export.rows > before["rows"]


def test_a_kill_between_manifest_and_files_is_finished_by_the_next_read(lake: Lake) -> None:
    old_rows = json.loads(lake.read_bytes("meta/kaggle/2027/tweets/2026_48.json"))["rows"]
    _killed_export(lake, "move")
    # The new manifest is the truth: reading it moves its files into place.
    (manifest,) = read_manifests(lake)
    assert manifest["staged"] and manifest["rows"] == old_rows - 5 + 40
    assert _rows(Path(lake.url) / CSV) == manifest["rows"]
    parquet = pl.read_parquet(lake.uri("kaggle/2027/tweets/2026_48.parquet"))
    assert parquet.height == manifest["rows"]
    assert not lake.list("meta/kaggle/staged/")
    assert publishable_keys(lake) == [CSV, "kaggle/2027/tweets/2026_48.parquet"]


def test_the_shared_exclusion_rule() -> None:
    assert publishable("kaggle/2027/tweets/2026_48.csv.gz")
    assert not publishable("kaggle/2027/tweets/.2026_48.csv.gz.abc.tmp.csv.gz")
    assert not publishable("kaggle/.partial/x.csv.gz")


def test_staged_export_on_s3(s3_bucket: str) -> None:
    lake = open_lake(f"s3://{s3_bucket}/lake")
    build_weeks(lake, [MONDAY], tweets_per_day=2)
    export = export_week(lake, ELECTION, "tweets", 2026, 48, parquet_twin=True)
    assert not lake.list("meta/kaggle/staged/")
    assert pl.read_csv(lake.read_bytes(CSV), infer_schema=False).height == export.rows
    assert json.loads(lake.read_bytes("meta/kaggle/2027/tweets/2026_48.json"))["files"] == [
        CSV, "kaggle/2027/tweets/2026_48.parquet"]
