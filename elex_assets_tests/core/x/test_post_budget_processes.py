"""X_MAX_POSTS_PER_MONTH holds across processes sharing a lake (a local folder; S3's conditional
writes are the same ``shared_state`` path, run by ``test_spend_processes``).

Before: each run loaded the month's counter when it started and wrote it back when it
ended, so three runs with a budget of 200 posts read about 200 each and the counter
kept one run's figure. Now each page's ``max_results`` is reserved in the counter by a
conditional write before the request and settled to what X returned.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from elex_assets.core.x.collect import Usage, raw_keys
from elex_assets.sandbox.x_server import XSandbox
from elex_assets.settings import open_lake

BUDGET = 200
PAGE = 50
PROCESSES = 3
SCRIPT = """
import sys
from datetime import UTC, date, datetime
from elex_assets.core.registry import load_registry
from elex_assets.core.x.client import RetryPolicy, XClient
from elex_assets.core.x.collect import XBudgetExceeded, collect_day
from elex_assets.core.x.query import build_queries
from elex_assets.settings import open_lake

lake_url, base_url, run_id, day, budget, page = sys.argv[1:]
now = datetime(2022, 4, 20, 12, tzinfo=UTC)
queries = build_queries(load_registry("2022").selected()[:3], max_length=1024)
client = XClient("t", base_url, RetryPolicy(backoff_base=0.01))
try:
    collect_day(client, open_lake(lake_url), queries, date.fromisoformat(day), endpoint="all",
                run_id=run_id, now=now, max_posts_per_month=int(budget), page_size=int(page))
except XBudgetExceeded as exc:
    print(exc)
    sys.exit(3)
"""


def _read_together(lake_url: str, sandbox: XSandbox, tmp_path: Path) -> list[int]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SCRIPT, lake_url, sandbox.base_url, f"run{i}",
             f"2022-04-{8 + i:02d}", str(BUDGET), str(PAGE)],
            env={**os.environ, "TMPDIR": str(tmp_path)},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for i in range(PROCESSES)
    ]
    codes = []
    for proc in procs:
        _out, err = proc.communicate(timeout=300)
        assert proc.returncode in (0, 3), err[-2000:]
        codes.append(proc.returncode)
    return codes


def _check(lake_url: str, sandbox: XSandbox, codes: list[int]) -> None:
    served = sandbox.served["posts_read"]
    assert 3 in codes  # the budget stopped them, not the end of the data
    assert served <= BUDGET  # three processes together, not 200 each
    assert served >= BUDGET - PAGE  # and they did use the budget
    lake = open_lake(lake_url)
    usage = Usage.load(lake, "2022-04")
    assert usage.posts == served  # settled to what X returned, nobody's count lost
    landed = [i for i in range(PROCESSES) if raw_keys(lake, date(2022, 4, 8 + i))]
    assert usage.runs == len(landed) >= 1  # every run that read a page (a late one reads none)


def test_three_processes_on_a_local_lake_share_one_post_budget(
    x_sandbox: XSandbox, tmp_path: Path
) -> None:
    lake_url = str(tmp_path / "lake")
    _check(lake_url, x_sandbox, _read_together(lake_url, x_sandbox, tmp_path))

