"""The dollar ceiling holds across processes sharing a lake (a local folder and S3 on moto).

Before: each run summed the others' ledgers every 10 s, so three instances with
``X_MAX_USD_PER_DAY=1`` spent $2 to $3 together. Now every request is reserved in
the shared month ledger by a conditional write before it is sent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from elex_assets.core import shared_state
from elex_assets.core.x.spend import Prices, ledger_key
from elex_assets.sandbox.x_server import XSandbox
from elex_assets.settings import open_lake

CEILING = 1.0
PROCESSES = 3
SCRIPT = """
import sys
from datetime import UTC, date, datetime
from elex_assets.core.registry import load_registry
from elex_assets.core.x.client import RetryPolicy, XClient
from elex_assets.core.x.collect import collect_day
from elex_assets.core.x.query import build_queries
from elex_assets.core.x.spend import Ceilings, SpendGuard, XSpendCeiling
from elex_assets.settings import open_lake

lake_url, base_url, run_id, day, ceiling = sys.argv[1:]
now = datetime(2022, 4, 20, 12, tzinfo=UTC)
lake = open_lake(lake_url)
guard = SpendGuard(lake, run_id, ceilings=Ceilings(float(ceiling), None), sandbox=True,
                   clock=lambda: now)
queries = build_queries(load_registry("2022").selected()[:3], max_length=1024)
client = XClient("t", base_url, RetryPolicy(backoff_base=0.01))
try:
    collect_day(client, lake, queries, date.fromisoformat(day), endpoint="all",
                run_id=run_id, now=now, spend=guard)
except XSpendCeiling as exc:
    print(exc)
    sys.exit(3)
"""


def _spend_together(lake_url: str, sandbox: XSandbox, tmp_path: Path) -> list[int]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SCRIPT, lake_url, sandbox.base_url, f"run{i}",
             f"2022-04-{8 + i:02d}", str(CEILING)],
            env={**os.environ, "TMPDIR": str(tmp_path)},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for i in range(PROCESSES)
    ]
    codes = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode in (0, 3), err[-2000:]
        codes.append(proc.returncode)
    return codes


def _check(lake_url: str, sandbox: XSandbox, codes: list[int]) -> None:
    billed = sandbox.served["posts_read"] * Prices().post_read
    assert 3 in codes  # the ceiling stopped them, not the end of the data
    assert billed <= CEILING + 1e-9  # three processes together, not $1 each
    assert billed >= CEILING - 10 * Prices().post_read  # and they did use the budget
    lake = open_lake(lake_url)
    stored = shared_state.read(lake, ledger_key("2022-04"))
    assert stored is not None
    ledger = json.loads(stored.data)
    assert ledger["sandbox"]["2022-04-20"] == pytest.approx(billed)  # settled to what was served


def test_three_processes_on_a_local_lake_stay_under_one_dollar(
    x_sandbox: XSandbox, tmp_path: Path
) -> None:
    lake_url = str(tmp_path / "lake")
    _check(lake_url, x_sandbox, _spend_together(lake_url, x_sandbox, tmp_path))


def test_three_processes_on_s3_stay_under_one_dollar(
    x_sandbox: XSandbox, s3_bucket: str, tmp_path: Path
) -> None:
    lake_url = f"s3://{s3_bucket}/elex"
    _check(lake_url, x_sandbox, _spend_together(lake_url, x_sandbox, tmp_path))
