"""Deleted Bluesky posts leave the lake: a getPosts re-check of the stored URIs of a day.

getPosts answers only the posts that still exist (and are public): a stored URI
missing from its answer was deleted (or its account taken down or made
private). For each such post the day's raw pages are rewritten with a
tombstone in place of the PostView (URI, CID, times; no text, author or record)
and quotes of it become ``app.bsky.embed.record#viewNotFound``, as Bluesky itself
shows them; the clean table is rebuilt from raw and the compliance log, so the
post becomes a tombstone row and leaves the exports. Each check is logged as
``state/compliance/bsky/date=D/<checked-at>-<run>.json`` (checked, deleted URIs).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import polars as pl

from elex_assets.core import layout
from elex_assets.core.bsky.collect import raw_keys
from elex_assets.core.bsky.normalise import TOMBSTONE, deleted_uris
from elex_assets.core.lake import Lake

if TYPE_CHECKING:  # atproto loads only when a run builds a client
    from elex_assets.core.bsky.client import BskyClient


@dataclass
class ComplianceResult:
    day: date
    checked: int = 0
    deleted: list[str] = field(default_factory=list)
    raw_rewritten: list[str] = field(default_factory=list)
    calls: int = 0
    log_key: str | None = None


def stored_uris(lake: Lake, day: date) -> list[str]:
    """URIs of the day's clean table still holding content (tombstones are not re-checked)."""
    key = layout.clean_bsky_key(day)
    if not lake.exists(key):
        return []
    df = lake.read_parquet(key).filter(pl.col("post_type") != "deleted")
    return df["id"].drop_nulls().to_list()


def check_day(client: BskyClient, lake: Lake, day: date, *, run_id: str,
              now: datetime | None = None) -> ComplianceResult:
    now = (now or datetime.now(UTC)).astimezone(UTC)
    result = ComplianceResult(day)
    uris = stored_uris(lake, day)
    result.checked = len(uris)
    calls = client.calls
    visible = {p.get("uri") for p in client.get_posts(uris)} if uris else set()
    result.calls = client.calls - calls
    result.deleted = [u for u in uris if u not in visible]
    checked_at = now.isoformat(timespec="seconds").replace("+00:00", "Z")
    key = (f"{layout.bsky_compliance_prefix(day)}"
           f"{now.strftime('%Y%m%dT%H%M%SZ')}-{run_id}.json")
    log = {"day": day.isoformat(), "checked_at": checked_at, "run_id": run_id,
           "checked": result.checked, "deleted": result.deleted, "calls": result.calls,
           "method": "app.bsky.feed.getPosts"}
    # The log first: even if scrubbing raw is interrupted, normalisation already hides them.
    lake.write_bytes(key, (json.dumps(log, indent=1) + "\n").encode())
    result.log_key = key
    gone = set(deleted_uris(lake, day))
    if gone:
        result.raw_rewritten = scrub_raw(lake, raw_keys(lake, day), gone, checked_at)
    return result


def scrub_raw(lake: Lake, keys: Iterable[str], gone: set[str], deleted_at: str | None = None
              ) -> list[str]:
    """Replace deleted posts (and quotes of them) in raw pages; rewrite only files that change."""
    rewritten = []
    for key in keys:
        changed = False
        lines = []
        for line in gzip.decompress(lake.read_bytes(key)).splitlines():
            if not line.strip():
                continue
            rec = json.loads(line)
            posts = (rec.get("response") or {}).get("posts") or []
            for i, post in enumerate(posts):
                if post.get("uri") in gone and TOMBSTONE not in post:
                    posts[i] = tombstone(post, deleted_at)
                    changed = True
                elif _scrub_quote(post, gone):
                    changed = True
            lines.append(json.dumps(rec, ensure_ascii=False).encode())
        if changed:
            lake.write_bytes(key, gzip.compress(b"\n".join(lines) + b"\n", compresslevel=5))
            rewritten.append(key)
    return rewritten


def tombstone(post: dict[str, Any], deleted_at: str | None = None) -> dict[str, Any]:
    """What is kept of a deleted post: where it was, when; never its content or author."""
    record = post.get("record") or {}
    return {"uri": post.get("uri"), "cid": post.get("cid"), "indexedAt": post.get("indexedAt"),
            "record": {"createdAt": record.get("createdAt")},
            TOMBSTONE: {"deletedAt": deleted_at or datetime.now(UTC).isoformat()}}


def _scrub_quote(post: dict[str, Any], gone: set[str]) -> bool:
    embed = post.get("embed") or {}
    view = embed.get("record")
    if isinstance(view, dict) and isinstance(view.get("record"), dict):  # recordWithMedia
        holder, view = view, view["record"]
    else:
        holder = embed
    if not isinstance(view, dict) or view.get("uri") not in gone or view.get("notFound"):
        return False
    holder["record"] = {"$type": "app.bsky.embed.record#viewNotFound", "uri": view["uri"],
                        "notFound": True}
    return True
