"""`bench/run.py` runs end to end on a tiny day and writes its table as JSON (no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_benchmark_runs_on_a_tiny_day(tmp_path: Path) -> None:
    out = tmp_path / "latest.json"
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--sizes", "1k", "--no-dagster",
         "--jobs", "1", "--cache", str(tmp_path / "cache"), "--out", str(out)],
        check=True, cwd=ROOT, capture_output=True, timeout=120,
    )
    results = json.loads(out.read_text())
    figures = [r["figure"] for r in results["rows"]]
    assert figures[0].startswith("normalise 1k posts")
    assert figures[1].startswith("export week of")
    day = results["sizes"]["1k"]
    assert day["normalise"]["rows"] == day["baseline"]["rows"] > 900
    assert day["export"]["rows"] == 7 * day["normalise"]["rows"]
    assert day["normalise"]["peak_rss_mib"] > 0 and day["floor_gzip"]["csv_bytes"] > 0
