"""Requests a whole campaign of Wikipedia pageviews costs: one per article for the range,
run for real against the pageviews sandbox (fixed clock), beside one request per article
and day.

    .venv/bin/python bench/wiki_backfill_requests.py
"""
import tempfile
import time
from datetime import UTC, datetime, timedelta

from elex_assets.core.lake import Lake
from elex_assets.core.registry import load_registry
from elex_assets.core.wiki.backfill import backfill_election
from elex_assets.core.wiki.client import WikiClient, user_agent
from elex_assets.sandbox.wiki_server import WikiSandbox

for election in ("2017", "2022"):
    reg = load_registry(election)
    now = datetime.combine(reg.election.campaign_end + timedelta(days=30), datetime.min.time(),
                           UTC)
    with WikiSandbox.for_candidates(reg.candidates, clock=lambda now=now: now) as sb, \
            tempfile.TemporaryDirectory() as lake_dir:
        client = WikiClient(user_agent("bench@example.org"), sb.base_url)
        t0 = time.perf_counter()
        report = backfill_election(client, Lake.from_url(lake_dir), reg, ("fr", "en"), now=now)
        took = time.perf_counter() - t0
    days = len(report.written)
    print(f"{election}: {days} days x {report.articles} articles in {client.requests} requests "
          f"(one per article; {days * report.articles} with one per article and day), "
          f"{len(report.weeks_exported)} weeks exported, {took:.1f}s on the sandbox, "
          f"at most {sb.max_in_flight} in flight")
