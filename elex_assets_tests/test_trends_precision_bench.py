"""`bench/trends_precision.py` runs on one day per resolution and prints its table."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_precision_bench_runs_and_the_chain_is_within_10_percent() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "trends_precision.py"), "--days", "1"],
        check=True, cwd=ROOT, capture_output=True, text=True, timeout=300,
    ).stdout
    rows = [line for line in out.splitlines() if re.match(r"\| (8-minute|daily)", line)]
    assert len(rows) == 6  # 2 resolutions x 3 candidate sizes
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        after = float(cells[3].rstrip("%"))
        assert after <= 10.0, row
    thousandth = [r for r in rows if "1/1000" in r]
    assert all("| 100.0% |" in r for r in thousandth)  # one anchor: rounded to nothing
