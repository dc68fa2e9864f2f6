"""Requests the official Trends backend sends in a day: its budgeted daily plan, run for
real against the sandbox (fixed clock), beside what the old hourly schedule would send.

    .venv/bin/python bench/trends_official_requests.py
"""
import tempfile
from datetime import UTC, datetime

import dagster as dg

from elex_assets.core.lake import Lake
from elex_assets.core.registry import load_registry
from elex_assets.core.trends.official_budget import RequestBudget
from elex_assets.defs.trends.assets import official_run_requests, trends_assets
from elex_assets.defs.trends.resources import TrendsResource
from elex_assets.resources import LakeResource, RegistryResource
from elex_assets.sandbox.trends_server import TrendsSandbox

reg = load_registry("2027")
now = datetime(2026, 11, 20, 6, 5, tzinfo=UTC)
terms = len({c.name for c in reg.selected()})
assets = {a.key.path[-1]: a for a in trends_assets(reg.election, retry_policy=None)}
with TrendsSandbox() as sb, tempfile.TemporaryDirectory() as lake_dir:
    sb.official.clock = lambda: now
    lake = Lake.from_url(lake_dir)
    requests = official_run_requests(lake, reg.election, now, terms, 100)
    for r in requests:
        sel = [assets[k.path[-1]] for k in r.asset_selection if "interest" in k.path[-1]]
        res = dg.materialize(sel, partition_key=r.partition_key, resources={
            "lake": LakeResource(url=lake_dir), "registry": RegistryResource(election="2027"),
            "trends": TrendsResource(base_url=sb.base_url, official_base_url=sb.base_url,
                                     backend="official", min_interval_seconds=0.0,
                                     official_poll_seconds=0.0)})
        assert res.success
    fetches = sum(":fetch" in q.path for q in sb.requests)
    polls = sum("/operations/" in q.path for q in sb.requests)
    print(f"official daily plan: {len(requests)} runs, {fetches} fetches, {polls} polls, "
          f"budget used {RequestBudget(lake, 100).used()} (counted on the wall-clock day)")
    print(f"old hourly schedule would send {terms * 2 * 2 * 24} fetches "
          f"+ >= {terms * 2 * 2 * 24} polls a day")
