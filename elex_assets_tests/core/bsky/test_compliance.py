"""A post deleted on Bluesky leaves raw and clean on the next compliance check, as a tombstone."""

from __future__ import annotations

import gzip
import json
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

from elex_assets.core import layout
from elex_assets.core.bsky.client import BskyClient
from elex_assets.core.bsky.collect import collect_day, raw_keys
from elex_assets.core.bsky.compliance import check_day
from elex_assets.core.bsky.normalise import normalise_day
from elex_assets.core.bsky.query import build_queries
from elex_assets.core.lake import Lake
from elex_assets.core.registry import load_registry
from elex_assets.sandbox.bsky_server import BskySandbox
from elex_assets_tests.clock import NOW

# Two days before the tests' fixed "now": on this day and seed, a post quotes another post of
# the day, so a deletion shows in the quoting post too.
DAY = (NOW - timedelta(days=2)).date()


def test_deleted_posts_become_tombstones_in_raw_and_clean(tmp_path: Path, fixed_now: datetime) -> None:
    cands = list(load_registry("2027").selected())[:3]
    cands[0] = replace(cands[0], bluesky_person=("edouardphilippe.fr",))
    lake = Lake.from_url(str(tmp_path))
    target = layout.clean_bsky_key(DAY)
    with BskySandbox(cands, posts_per_day=300, seed=9, deletion_rate=0.0) as sandbox:
        client = BskyClient(None, None, sandbox.base_url)
        collect_day(client, lake, build_queries(cands), DAY)
        normalise_day(lake, raw_keys(lake, DAY), cands, DAY, target)
        before = lake.read_parquet(target)
        quoted = before.filter(pl.col("post_type") == "quote")["quote_id"].to_list()
        victims = [u for u in quoted if u in set(before["id"])][:1]
        quoting = set(before.filter(pl.col("quote_id").is_in(victims))["id"])
        victims += [u for u in before["id"].to_list() if u not in victims and u not in quoting][:2]
        for uri in victims:
            sandbox.delete(uri)
        result = check_day(client, lake, DAY, run_id="c1")
    assert sorted(result.deleted) == sorted(victims)
    assert result.checked == before.height and result.raw_rewritten
    assert result.calls == -(-before.height // 25)  # getPosts, 25 URIs per call

    log = json.loads(lake.read_bytes(result.log_key or ""))
    assert result.log_key.startswith("state/compliance/bsky/date=")
    assert sorted(log["deleted"]) == sorted(victims)

    normalise_day(lake, raw_keys(lake, DAY), cands, DAY, target)
    after = lake.read_parquet(target)
    assert after.height == before.height  # tombstones stay, so the URI is known as deleted
    dead = after.filter(pl.col("id").is_in(victims))
    assert dead["post_type"].unique().to_list() == ["deleted"]
    assert dead["text"].is_null().all() and dead["author_username"].is_null().all()
    assert dead["deleted_at"].is_not_null().all()
    assert dead["candidates"].list.len().sum() == 0
    raw = b"".join(gzip.decompress(lake.read_bytes(k)) for k in raw_keys(lake, DAY))
    for line in raw.splitlines():
        for post in json.loads(line)["response"]["posts"]:
            if post["uri"] in victims:
                assert "author" not in post and "text" not in post.get("record", {})
            quote = (post.get("embed") or {}).get("record") or {}
            if quote.get("uri") in victims:
                assert quote.get("notFound") is True and "value" not in quote
    quoting = after.filter(pl.col("quote_id").is_in(victims))
    assert quoting.height and quoting["referenced_text"].is_null().all()
