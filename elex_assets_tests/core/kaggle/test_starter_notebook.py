"""The starter notebook runs top to bottom, offline, on a dataset folder built like the demo's."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import psutil  # installed with ipykernel, which runs the notebook
import pytest

from elex_assets.core.kaggle.dataset import PublishSettings, assemble_dataset
from elex_assets.core.kaggle.export import export_week
from elex_assets.core.kaggle.starter_notebook import NOTEBOOK_NAME, execute_notebook
from elex_assets.core.lake import Lake
from elex_assets_tests.lake_builder import CANDIDATES, ELECTION, build_weeks, week

MONDAY = date(2026, 11, 23)
SOURCES = ("tweets", "trends_interest_over_time", "trends_interest_by_region")


def build_folder(lake: Lake, with_counts: bool) -> Path:
    build_weeks(lake, [MONDAY], tweets_per_day=4)
    for source in SOURCES:
        export_week(lake, ELECTION, source, 2026, 48)
    if with_counts:  # the x helper's weekly tweet_counts export (contract columns)
        rows = [
            {
                "hour": datetime(d.year, d.month, d.day, h, tzinfo=UTC),
                "candidate_id": c,
                "post_count": 10 * (i + 1) + h,
                "endpoint": "recent",
                "collected_at": datetime(d.year, d.month, d.day, 23, tzinfo=UTC),
            }
            for d in week(MONDAY)
            for h in range(0, 24, 6)
            for i, c in enumerate((*CANDIDATES, "_all"))
        ]
        buffer = pl.DataFrame(rows).write_csv()
        lake.write_bytes("kaggle/2027/tweet_counts/2026_48.csv.gz", gzip.compress(buffer.encode()))
    settings = PublishSettings("jane/french-election-test", False, "ids")
    out = assemble_dataset(lake, settings)
    assert out["notebook"] == "executed"
    return Path(lake.url) / "kaggle"


def kernels() -> list[psutil.Process]:
    """Kernel processes started by this test process (and still running)."""
    found = []
    for process in psutil.Process().children(recursive=True):
        try:
            if "ipykernel_launcher" in " ".join(process.cmdline()):
                found.append(process)
        except psutil.Error:  # ended meanwhile
            continue
    return found


def outputs(nb: dict) -> tuple[list[str], list[str], int]:
    errors = [o["ename"] for c in nb["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
    text = [
        "".join(o.get("text", ""))
        for c in nb["cells"]
        for o in c.get("outputs", [])
        if o["output_type"] == "stream"
    ]
    images = sum(
        "image/png" in o.get("data", {}) for c in nb["cells"] for o in c.get("outputs", [])
    )
    return errors, text, images


@pytest.mark.parametrize("with_counts", [True, False])
def test_notebook_runs_offline_on_the_dataset_folder(tmp_path, monkeypatch, with_counts):
    monkeypatch.setenv("X_BEARER_TOKEN", "must-not-reach-the-kernel")
    lake = Lake.from_url(str(tmp_path / "lake"))
    before = kernels()
    folder = build_folder(lake, with_counts)
    # The published notebook was executed on the latest week: outputs, no error.
    published = json.loads((folder / NOTEBOOK_NAME).read_text())
    errors, text, images = outputs(published)
    assert errors == [] and images == 2  # share of voice and Trends small multiples
    assert any("reading 2026_48" in t for t in text)
    assert any("X_BEARER_TOKEN is not set" in t for t in text)  # hydration skipped offline
    # And a reader's run in the downloaded folder, top to bottom, gives the same.
    fresh = json.loads((folder / NOTEBOOK_NAME).read_text())
    for cell in fresh["cells"]:
        if cell["cell_type"] == "code":
            cell.update(outputs=[], execution_count=None)
    ran = execute_notebook(fresh, folder)
    # Both executions shut their kernel down (before: each left one running).
    assert kernels() == before
    errors, text, images = outputs(ran)
    assert errors == [] and images == 2
    source = "X counts API" if with_counts else "posts in the tweets file"
    assert any(f"share of voice from {source}" in t for t in text)
