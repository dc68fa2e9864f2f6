"""A Trends refusal met by one process stops the others' next requests (local lake and S3).

Before: three processes started together in block mode sent 4 more requests after
the first refusal: the cool-down was checked before the shared-interval wait, not
right before sending, and a cookie call answered after the refusal erased it.
Now only the requests already on their way when the refusal was recorded go out.

The scene is staged so that "on their way" is unambiguous: every cookie call takes
1 s and the processes send 0.3 s apart (the shared interval), so the first data
call is refused while the other two processes' cookie calls are in flight, and
their next requests are checked at least 0.3 s after the refusal was recorded.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from elex_assets.sandbox.trends_server import RequestRecord, TrendsSandbox

PROCESSES = 3
SCRIPT = """
import sys, time
from pathlib import Path
from elex_assets.core.trends.client import GOOGLE_PREFIX, Politeness, Transport
from elex_assets.core.trends.errors import TrendsBlocked
from elex_assets.core.trends.state import TrendsGate
from elex_assets.settings import open_lake

lake_url, base_url, go = sys.argv[1:]
transport = Transport(base_url, Politeness(min_interval=0.3, max_attempts=1),
                      gate=TrendsGate(open_lake(lake_url)))
Path(go + "." + str(__import__("os").getpid())).touch()
while not Path(go).exists():
    time.sleep(0.01)
for _ in range(8):  # a run's next requests (cookie call, data call), again and again
    try:
        transport.cookie("FR")
        transport.get_json(GOOGLE_PREFIX + "/api/explore", method="post", trim_chars=4,
                           params={"hl": "en-US", "tz": "0", "req": "{}"})
    except TrendsBlocked as exc:
        if "refused this client" in str(exc):  # this process met the refusal and recorded it
            print("recorded", time.monotonic(), flush=True)
"""


def _three_processes_in_block_mode(
    lake_url: str, sandbox: TrendsSandbox, tmp: Path
) -> list[RequestRecord]:
    """The requests that reached Google after the first refusal was recorded in the lake."""
    sandbox.block()
    sandbox.inject("slow", times=None, path="/trends/explore", delay=1.0)  # cookie calls
    go = tmp / "go"
    procs = [
        subprocess.Popen([sys.executable, "-c", SCRIPT, lake_url, sandbox.base_url, str(go)],
                         env={**os.environ, "TMPDIR": str(tmp)},
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(PROCESSES)
    ]
    while len(list(tmp.glob("go.*"))) < PROCESSES:  # all imported: start together
        assert all(p.poll() is None for p in procs), [p.communicate()[1] for p in procs]
        time.sleep(0.05)
    go.touch()
    recorded = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-2000:]
        recorded += [float(line.split()[1]) for line in out.splitlines()
                     if line.startswith("recorded")]
    assert recorded, "block mode refused nothing"
    # time.monotonic() is one clock for every process of the machine (CLOCK_MONOTONIC).
    first = min(recorded)
    return [r for r in sandbox.requests if r.started > first]


def test_three_processes_on_a_local_lake_stop_after_the_first_refusal(
    trends_sandbox: TrendsSandbox, tmp_path: Path
) -> None:
    after = _three_processes_in_block_mode(str(tmp_path / "lake"), trends_sandbox, tmp_path)
    assert after == []  # the cookie calls in flight were answered; nothing more went out


def test_three_processes_on_s3_stop_after_the_first_refusal(
    trends_sandbox: TrendsSandbox, s3_bucket: str, tmp_path: Path
) -> None:
    after = _three_processes_in_block_mode(f"s3://{s3_bucket}/elex", trends_sandbox, tmp_path)
    assert after == []
