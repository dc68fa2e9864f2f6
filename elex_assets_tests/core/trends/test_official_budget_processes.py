"""The official Trends request budget holds across processes sharing a lake.

Before: every fetch read the counter, added one and rewrote it, with no lock, so
processes started together overwrote each other's counts and sent more than
``TRENDS_OFFICIAL_MAX_REQUESTS_PER_DAY`` between them. Now each fetch is a
conditional write over the version read (``elex_assets.core.shared_state``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from elex_assets.core.lake import Lake
from elex_assets.core.trends.official_budget import (
    BUDGET_KEY,
    RequestBudget,
    TrendsBudgetDamaged,
)
from elex_assets.settings import open_lake

PER_DAY = 60
PROCESSES = 4
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
SCRIPT = """
import sys, time
from datetime import UTC, datetime
from pathlib import Path
from elex_assets.core.trends.errors import TrendsBudgetExceeded
from elex_assets.core.trends.official_budget import RequestBudget
from elex_assets.settings import open_lake

lake_url, gate, name, per_day = sys.argv[1:]
now = datetime(2026, 11, 20, 12, tzinfo=UTC)
budget = RequestBudget(open_lake(lake_url), int(per_day), clock=lambda: now)
Path(gate, name).touch()
while not Path(gate, "go").exists():  # start together, so the writes interleave
    time.sleep(0.005)
sent = 0
try:
    while True:
        budget.charge_fetch("a fetch")
        budget.count("polls")
        sent += 1
except TrendsBudgetExceeded:
    print(sent)
"""


def _fetch_together(lake_url: str, tmp_path: Path) -> int:
    gate = tmp_path / "gate"
    gate.mkdir()
    procs = [
        subprocess.Popen([sys.executable, "-c", SCRIPT, lake_url, str(gate), f"p{i}",
                          str(PER_DAY)],
                         env={**os.environ}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
        for i in range(PROCESSES)
    ]
    deadline = time.monotonic() + 120
    while len(list(gate.iterdir())) < PROCESSES and time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            break
        time.sleep(0.01)
    (gate / "go").touch()
    sent = 0
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-2000:]
        sent += int(out.strip())
    return sent


def test_processes_together_never_send_more_than_the_daily_budget(tmp_path: Path) -> None:
    lake_url = str(tmp_path / "lake")
    sent = _fetch_together(lake_url, tmp_path)
    assert sent == PER_DAY  # all of the budget, and not one request more
    counted = RequestBudget(open_lake(lake_url), PER_DAY, clock=lambda: NOW).used()
    assert counted["fetches"] == PER_DAY and counted["polls"] == PER_DAY  # no count lost


@pytest.mark.parametrize("garbage", [b"{not json", b"", b"[1]", b'{"days": {"2026-11-20": 3}}'])
def test_an_unreadable_counter_is_named_and_nothing_is_sent(tmp_path: Path,
                                                           garbage: bytes) -> None:
    """Before: it was read as an empty day, so the day's budget could be spent twice."""
    lake = Lake.from_url(str(tmp_path))
    (tmp_path / BUDGET_KEY).parent.mkdir(parents=True)
    (tmp_path / BUDGET_KEY).write_bytes(garbage)
    budget = RequestBudget(lake, PER_DAY, clock=lambda: NOW)
    with pytest.raises(TrendsBudgetDamaged, match="trends_official_requests.json.*unreadable"):
        budget.charge_fetch("a fetch")
    assert (tmp_path / BUDGET_KEY).read_bytes() == garbage  # left for the user to look at
