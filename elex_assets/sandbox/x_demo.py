"""The demo's X step: a week of posts collected from the in-process sandbox X API."""

from __future__ import annotations

import os
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from elex_assets.sandbox.serve import start_x_sandbox
from elex_assets.sandbox.x_server import XSandbox

DEMO_POSTS_PER_DAY = 1500


def start_demo_x_sandbox() -> XSandbox:
    """Start the sandbox and point the X settings at it (before definitions are imported).

    The demo's days are more than 7 days back, so it uses full-archive search,
    which the sandbox serves like X does.
    """
    os.environ.setdefault("X_SANDBOX_POSTS_PER_DAY", str(DEMO_POSTS_PER_DAY))
    sandbox = start_x_sandbox(port=0)
    os.environ["X_API_BASE_URL"] = sandbox.base_url
    os.environ["X_SEARCH_ENDPOINT"] = "all"
    return sandbox


def demo_week(partition_keys: list[str], days: int = 7, today: date | None = None) -> list[str]:
    """The most recent complete ISO week (Monday to Sunday) inside the partitions.

    For a past election (its partitions end long ago) this is the campaign's last
    complete week. ``days`` < 7 keeps only the week's last days.
    """
    today = today or datetime.now(UTC).date()
    keys = set(partition_keys)
    sunday = today - timedelta(days=today.weekday() + 1)
    last = max(date.fromisoformat(k) for k in keys)
    if sunday > last:
        sunday = last - timedelta(days=(last.weekday() + 1) % 7)
    week = [(sunday - timedelta(days=i)).isoformat() for i in range(6, -1, -1)]
    return [d for d in week if d in keys][-days:]


def run_x_step(
    defs: Any, instance: Any, days: int = 7, lake_url: str = "the lake"
) -> tuple[bool, dict[str, int]]:
    """Materialise raw_tweets + tweets for the demo week; print and return posts per candidate."""
    job = defs.resolve_job_def("x_refresh_job")
    partitions = defs.resolve_assets_def("raw_tweets").partitions_def
    week = demo_week(partitions.get_partition_keys(), days)
    started = time.monotonic()
    totals: dict[str, int] = {}
    rows = 0
    for day in week:
        result = job.execute_in_process(instance=instance, partition_key=day,
                                        raise_on_error=False)
        if not result.success:
            print(f"x_refresh_job failed for {day}; see `make ui`")
            return False, totals
        meta = result.asset_materializations_for_node("tweets")[0].metadata
        rows += meta["rows"].value
        for cid, n in meta["posts_per_candidate_json"].value.items():
            totals[cid] = totals.get(cid, 0) + n
    print(f"tweets: {rows} posts on X, {week[0]} .. {week[-1]} "
          f"({time.monotonic() - started:.1f}s) -> {lake_url}/clean/tweets/")
    for cid, n in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"  {cid:<16} {n:>7}")
    return True, totals
