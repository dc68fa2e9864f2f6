"""Ground truth for tests against the X sandbox: which posts a query should return."""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from datetime import datetime

from elex_assets.core import layout
from elex_assets.core.lake import Lake
from elex_assets.core.x.query import XQuery
from elex_assets.sandbox.x_query_eval import compile_query
from elex_assets.sandbox.x_server import XSandbox


def expected_ids(
    sandbox: XSandbox, queries: Sequence[XQuery], start: datetime, end: datetime
) -> dict[str, set[str]]:
    """Per query, ids of the generated posts in [start, end) that the query matches."""
    out = {}
    posts = list(sandbox.generator.posts_between(int(start.timestamp() * 1000),
                                                 int(end.timestamp() * 1000)))
    for q in queries:
        pred = compile_query(q.text)
        out[q.text] = {p.tweet["id"] for p in posts if pred(p)}
    return out


def landed_ids(lake: Lake, day) -> dict[str, list[str]]:  # noqa: ANN001
    """Per query, ids of the posts in the day's raw files (duplicates kept)."""
    out: dict[str, list[str]] = {}
    for key in lake.list(layout.raw_tweets_prefix(day)):
        if not key.endswith(".jsonl.gz"):
            continue
        for line in gzip.decompress(lake.read_bytes(key)).splitlines():
            rec = json.loads(line)
            ids = [t["id"] for t in rec["response"].get("data", [])]
            out.setdefault(rec["request"]["query"], []).extend(ids)
    return out
