"""Raw Bluesky pages -> the clean ``bsky_posts`` table of a day.

One row per post URI across every raw file of the day (the most recently collected
version wins), in ``schemas.BSKY_POSTS``: the core columns of ``tweets`` under the
same names, plus ``platform`` and Bluesky's own references. Candidates are matched
with the X rule (``core.matching``), Bluesky handles standing in for X accounts.
A post the compliance log lists as deleted (or a tombstone in raw) becomes a
tombstone row: its URI, times and ``deleted_at``, no content, no candidate.
Every post read is counted: kept, duplicate (an older version of a kept post), or
dropped by reason (``DROP_REASONS``); the day's accounting (unique posts read = rows +
drops, as for X: ``core.x.accounting``) is stored in the file's metadata for the
``bsky_posts_accounted`` check, which recounts the raw files on its own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import polars as pl

from elex_assets.core import layout
from elex_assets.core.bsky.collect import HEAL
from elex_assets.core.bsky.query import as_bluesky
from elex_assets.core.lake import Lake
from elex_assets.core.matching import match_candidates_expr
from elex_assets.core.raw_pages import raw_records
from elex_assets.core.registry import Candidate
from elex_assets.core.schemas import BSKY_POSTS
from elex_assets.core.windows import parse_utc
from elex_assets.core.x.accounting import ACCOUNTING_KEY, Accounting

QUOTE_EMBEDS = ("app.bsky.embed.record", "app.bsky.embed.recordWithMedia")
TOMBSTONE = "elexTombstone"
# outside_day: neither created nor indexed on the partition's UTC day (searchPosts places a
# post by the earlier of the two, so such a post belongs to another day's windows);
# unparsable: no readable time at all; no_id: an entry without a URI.
DROP_REASONS = ("outside_day", "unparsable", "no_id")


@dataclass
class NormaliseResult:
    rows: int
    read: int
    duplicates: int
    tombstones: int
    raw_files: int
    accounting: Accounting | None = None


def _facet_parts(text: str, facets: Iterable[dict[str, Any]]) -> tuple[list, list, list]:
    raw = text.encode()
    tags, mentions, links = [], [], []
    for facet in facets or ():
        index = facet.get("index") or {}
        for feature in facet.get("features") or ():
            kind = feature.get("$type", "")
            if kind.endswith("#tag") and feature.get("tag"):
                tags.append(feature["tag"])
            elif kind.endswith("#link") and feature.get("uri"):
                links.append(feature["uri"])
            elif kind.endswith("#mention"):
                span = raw[index.get("byteStart", 0):index.get("byteEnd", 0)]
                handle = span.decode(errors="replace").lstrip("@")
                mentions.append(handle or feature.get("did", ""))
    return tags, mentions, links


class _TextOf(HTMLParser):
    """The text of an HTML fragment: tags dropped, paragraphs and line breaks as newlines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "p") and self.parts:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def bridged_text(record: dict[str, Any]) -> str | None:
    """The whole text of a post bridged from the fediverse (Bridgy Fed keeps the original,
    HTML, in ``bridgyOriginalText`` when it cuts ``text`` at 300 characters), as plain text."""
    original = record.get("bridgyOriginalText")
    if not isinstance(original, str) or not original.strip():
        return None
    parser = _TextOf()
    parser.feed(original)
    parser.close()
    text = re.sub(r"[ \t]+", " ", "".join(parser.parts))
    return re.sub(r"\s*\n\s*", "\n", text).strip() or None


def post_row(post: dict[str, Any], collected_at: datetime | None, query: str) -> dict[str, Any]:
    """One PostView (or tombstone) as a clean row, before candidate matching."""
    record = post.get("record") or {}
    uri = post.get("uri")
    created = parse_utc(record.get("createdAt")) or parse_utc(post.get("indexedAt"))
    row: dict[str, Any] = {
        "id": uri, "created_at": created, "cid": post.get("cid"),
        "indexed_at": parse_utc(post.get("indexedAt")), "collected_at": collected_at,
        "query": query, "source": "bsky_search", "platform": "bluesky",
        "author_id": uri.split("/")[2] if uri and uri.startswith("at://") else None,
        "hashtags": [], "mentions": [], "urls": [],
    }
    if TOMBSTONE in post:
        row.update(post_type="deleted", deleted_at=parse_utc(post[TOMBSTONE].get("deletedAt")))
        return row
    author = post.get("author") or {}
    text = record.get("text") or ""
    tags, mentions, links = _facet_parts(text, record.get("facets") or ())
    # Outline tags (record.tags) are hashtags the author set outside the text.
    for tag in record.get("tags") or ():
        if isinstance(tag, str) and tag.strip().lstrip("#") and tag.strip().lstrip("#") not in tags:
            tags.append(tag.strip().lstrip("#"))
    bridged = bridged_text(record)
    if bridged:  # a bridged post cut at 300 characters: its whole text, as X's note_tweet
        text = bridged
    reply = record.get("reply") or {}
    embed = record.get("embed") or {}
    quote_uri = None
    if embed.get("$type") in QUOTE_EMBEDS:
        inner = embed.get("record") or {}
        quote_uri = (inner.get("record") or inner).get("uri")
    if embed.get("$type") == "app.bsky.embed.external":
        links.append((embed.get("external") or {}).get("uri"))
    view = (post.get("embed") or {}).get("record") or {}
    view = view.get("record", view) if isinstance(view.get("record"), dict) else view
    langs = record.get("langs") or []
    parent = (reply.get("parent") or {}).get("uri")
    root = (reply.get("root") or {}).get("uri")
    row.update(
        text=text, lang=langs[0] if langs else None,
        author_id=author.get("did") or row["author_id"],
        author_username=author.get("handle"), author_name=author.get("displayName"),
        conversation_id=root or uri,
        post_type="reply" if reply else "quote" if quote_uri else "original",
        referenced_id=parent or quote_uri,
        referenced_author_username=(view.get("author") or {}).get("handle") if quote_uri else None,
        referenced_text=(bridged_text(view.get("value") or {})
                         or (view.get("value") or {}).get("text")) if quote_uri else None,
        retweet_count=post.get("repostCount"), reply_count=post.get("replyCount"),
        like_count=post.get("likeCount"), quote_count=post.get("quoteCount"),
        hashtags=tags, mentions=mentions, urls=[u for u in links if u],
        reply_root_id=root, reply_parent_id=parent, quote_id=quote_uri,
    )
    return row


def iter_raw(lake: Lake, keys: Sequence[str]) -> Iterable[tuple[dict[str, Any], dict[str, Any]]]:
    """(line meta, post) for every post of every raw page."""
    for key in keys:
        for rec in raw_records(lake, key, HEAL):
            for post in (rec.get("response") or {}).get("posts") or ():
                yield rec, post


def deleted_uris(lake: Lake, day: date) -> dict[str, str]:
    """URI -> when it was found deleted, from the day's compliance logs."""
    out: dict[str, str] = {}
    for key in lake.list(layout.bsky_compliance_prefix(day)):
        if key.endswith(".json"):
            log = json.loads(lake.read_bytes(key))
            for uri in log.get("deleted", []):
                out.setdefault(uri, log.get("checked_at", ""))
    return out


def normalise_day(
    lake: Lake, keys: Sequence[str], candidates: Sequence[Candidate], day: date, target: str
) -> NormaliseResult:
    rows = []
    no_id = 0
    for rec, post in iter_raw(lake, keys):
        if not post.get("uri"):
            no_id += 1
            continue
        req = rec.get("request") or {}
        query = f"{req['lang']}|{req.get('q')}" if req.get("lang") else req.get("q", "")
        rows.append(post_row(post, parse_utc(rec.get("collected_at")), query))
    read = len(rows) + no_id
    df = pl.DataFrame(rows, schema=BSKY_POSTS.polars) if rows else BSKY_POSTS.empty()
    df = df.sort("collected_at", nulls_last=False).unique("id", keep="last", maintain_order=True)
    duplicates = read - no_id - df.height
    df, dropped = _drop_outside(df, day)
    if no_id:
        dropped["no_id"] = no_id
    deleted = deleted_uris(lake, day)
    gone = pl.col("id").is_in(list(deleted)) | (pl.col("post_type") == "deleted")
    df = df.with_columns(
        pl.when(gone).then(pl.lit([], pl.List(pl.String)))
        .otherwise(match_candidates_expr(as_bluesky(candidates), ["text", "referenced_text"],
                                         "author_username"))
        .alias("candidates"))
    content = [c.name for c in BSKY_POSTS.columns if c.name not in _KEPT_IN_TOMBSTONE]
    df = df.with_columns(
        [pl.when(gone).then(pl.lit(None, BSKY_POSTS.polars[c])).otherwise(pl.col(c)).alias(c)
         for c in content if c != "candidates"]
        + [pl.when(gone).then(pl.lit("deleted")).otherwise(pl.col("post_type")).alias("post_type"),
           pl.when(gone).then(
               pl.coalesce(pl.col("deleted_at"),
                           pl.col("id").replace_strict(deleted, default=None,
                                                       return_dtype=pl.String)
                           .str.to_datetime(time_zone="UTC", time_unit="us", strict=False)))
           .otherwise(pl.col("deleted_at")).alias("deleted_at")]
    )
    df = BSKY_POSTS.conform(df.sort("created_at", "id"))
    acc = Accounting(raw_unique=df.height + sum(dropped.values()), rows=df.height,
                     dropped=dict(sorted(dropped.items())))
    with lake.writing(target, ".parquet") as path:
        df.write_parquet(path, compression="zstd", statistics=True,  # type: ignore[union-attr]
                         metadata={ACCOUNTING_KEY: json.dumps(acc.to_json())})
    tombstones = int(df.filter(pl.col("post_type") == "deleted").height)  # type: ignore[union-attr]
    return NormaliseResult(df.height, read, duplicates, tombstones, len(keys), acc)


def in_day(column: str, day: date) -> pl.Expr:
    """``column`` falls within the UTC day ``day``."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return pl.col(column).is_between(pl.lit(start), pl.lit(start + timedelta(days=1)),
                                     closed="left").fill_null(False)


def _drop_outside(df: pl.DataFrame, day: date) -> tuple[pl.DataFrame, dict[str, int]]:
    """The posts Bluesky placed on ``day`` (created or indexed on it), and the drops by reason."""
    unparsable = pl.col("created_at").is_null() & pl.col("indexed_at").is_null()
    placed = in_day("created_at", day) | in_day("indexed_at", day)
    reason = (pl.when(unparsable).then(pl.lit("unparsable"))
              .when(~placed).then(pl.lit("outside_day")).otherwise(None).alias("_drop"))
    df = df.with_columns(reason)
    counts = df.get_column("_drop").drop_nulls().value_counts()
    dropped = {str(r): int(n) for r, n in counts.iter_rows()}
    return df.filter(pl.col("_drop").is_null()).drop("_drop"), dropped


_KEPT_IN_TOMBSTONE = {"id", "created_at", "author_id", "post_type", "candidates", "query",
                      "collected_at", "source", "platform", "cid", "indexed_at", "deleted_at"}


def bsky_summary(lake: Lake, target: str) -> tuple[int, dict[str, int], pl.DataFrame]:
    """Rows, live posts per candidate, and a preview of the day's table."""
    df = lake.read_parquet(target)
    live = df.filter(pl.col("post_type") != "deleted")
    counts = (live.select(pl.col("candidates")).explode("candidates").drop_nulls()
              .group_by("candidates").len().sort("len", descending=True))
    per = {str(c): int(n) for c, n in zip(counts["candidates"], counts["len"], strict=True)}
    preview = live.select("created_at", "author_username", "lang", "candidates", "text").head(5)
    return df.height, per, preview
