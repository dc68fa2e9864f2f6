"""A day's ``tweets`` file, refreshed so that a run reads it at most once.

Beside the file, a small summary (``layout.tweets_summary_key``) records what it
holds: rows, posts per candidate, a preview, the accounting, the fingerprint of
its inputs, the compliance removals applied and the raw files known to hold no
post. It names the version of the file it describes (S3 ETag, local mtime and
size), so a file rewritten by anything else (a compliance run) makes it stale,
never wrong. On a local lake, where a file can be overwritten in place keeping
its size and mtime, the summary also records a digest of the parquet footer
(the file's last bytes: schema, row groups, the fingerprint) and is trusted only
when the file still ends with it; S3's ETag is derived from the bytes already. With a valid summary, a refresh that brought nothing new reads
neither the file nor the raw pages; a refresh with new posts writes the file
from a local copy and summarises that copy. The content checks then read the
file once; ``tweets_accounted`` takes the rows from the summary.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from elex_assets.core import layout
from elex_assets.core.lake import Lake, LakeError
from elex_assets.core.markdown import markdown_table
from elex_assets.core.registry import Candidate
from elex_assets.core.x.accounting import ACCOUNTING_KEY, Accounting
from elex_assets.core.x.collect import manifest_key
from elex_assets.core.x.compliance import removal
from elex_assets.core.x.normalise import (
    _stored_fingerprint,
    inputs_fingerprint,
    local_tweets_summary,
    normalise_to_file,
)

SUMMARY_FORMAT = 1


@dataclass
class DaySummary:
    """What a day's ``tweets`` file (at ``version``) holds; see the module doc."""

    version: str
    fingerprint: str
    removed_digest: str
    rows: int
    per_candidate: dict[str, int]
    preview_md: str
    accounting: dict[str, Any] | None
    raw_posts: dict[str, int] = field(default_factory=dict)  # raw key -> posts (manifest)
    footer: str = ""  # sha256 of the parquet footer (see footer_digest)

    def to_json(self) -> dict[str, Any]:
        return {"format": SUMMARY_FORMAT, **asdict(self)}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> DaySummary:
        if raw.get("format") != SUMMARY_FORMAT:
            raise ValueError(f"summary format {raw.get('format')!r}")
        return cls(
            str(raw["version"]), str(raw["fingerprint"]), str(raw["removed_digest"]),
            int(raw["rows"]), {str(k): int(v) for k, v in raw["per_candidate"].items()},
            str(raw["preview_md"]), raw.get("accounting"),
            {str(k): int(v) for k, v in (raw.get("raw_posts") or {}).items()},
            str(raw.get("footer") or ""),
        )

    def accounting_or_rows(self) -> Accounting:
        """The stored accounting; a file written before it existed counts rows only."""
        if self.accounting:
            return Accounting.from_json(self.accounting)
        return Accounting(self.rows, self.rows)


@dataclass
class DayRefresh:
    """What a refresh did: the summary of the file now in the lake, and whether it wrote it."""

    summary: DaySummary
    written: bool
    removed: int  # rows removed by the compliance log in this run


def read_summary(lake: Lake, day: date, target: str | None = None) -> DaySummary | None:
    """The summary of the day's file, if it describes the version in the lake now.

    Costs a HEAD of the file and a GET of the small summary (and, on a local lake,
    a read of the file's footer); ``None`` when either is missing, unreadable or
    they disagree.
    """
    target = target or layout.clean_tweets_key(day)
    version = lake.version(target)
    if version is None:
        return None
    try:
        stored = DaySummary.from_json(json.loads(lake.read_bytes(layout.tweets_summary_key(day))))
    except (LakeError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if stored.version != version:
        return None
    if not lake.is_s3:  # (mtime, size) survive an overwrite in place; the footer does not
        with lake.local_copy(target) as path:
            if not stored.footer or footer_digest(path) != stored.footer:
                return None
    return stored


PARQUET_MAGIC = b"PAR1"


def footer_digest(path: str | os.PathLike[str]) -> str | None:
    """sha256 of a parquet file's footer (metadata, its length, the magic); ``None`` when
    the file does not start and end as parquet does. Reads a few kilobytes, not the file."""
    try:
        with open(path, "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            if size < 12:
                return None
            handle.seek(0)
            head = handle.read(4)
            handle.seek(size - 8)
            tail = handle.read(8)
            length = int.from_bytes(tail[:4], "little")
            if head != PARQUET_MAGIC or tail[4:] != PARQUET_MAGIC or length + 12 > size:
                return None
            handle.seek(size - 8 - length)
            footer = handle.read(length)
    except OSError:
        return None
    return hashlib.sha256(footer + tail).hexdigest()


def removed_digest(removed: Collection[str]) -> str:
    """Which compliance removals a file has had applied (a digest of the ids)."""
    return hashlib.sha256("\n".join(sorted(removed)).encode()).hexdigest()


def refresh_day(
    lake: Lake,
    keys: Sequence[str],
    candidates: Sequence[Candidate],
    day: date,
    target: str,
    removed: dict[str, dict[str, Any]] | set[str],
    tmp_dir: str | os.PathLike[str] | None = None,
) -> DayRefresh:
    """Bring the day's ``tweets`` file up to date with the raw files ``keys`` and the
    compliance log ``removed``, downloading it at most once (only when no valid
    summary says what it holds) and writing it only when it changes."""
    stored = read_summary(lake, day, target)
    raw_posts = _raw_posts(lake, keys, stored.raw_posts if stored else {})
    # A raw file without posts (a refresh that found nothing) changes nothing.
    fingerprint = inputs_fingerprint(
        lake, [k for k in keys if raw_posts.get(k) != 0], candidates, day
    )
    digest = removed_digest(removed)
    if stored and stored.fingerprint == fingerprint and stored.removed_digest == digest:
        if stored.raw_posts != raw_posts:
            stored.raw_posts = raw_posts
            _write_summary(lake, day, stored)
        return DayRefresh(stored, written=False, removed=0)
    with tempfile.TemporaryDirectory(prefix="elex-tweets-day-", dir=tmp_dir) as tmp:
        local = Path(tmp) / "part-0.parquet"
        reuse = False
        if (stored is None or stored.fingerprint == fingerprint) and lake.exists(target):
            # No summary to trust, or only the removals differ: the file itself tells.
            lake.download(target, local)
            reuse = _stored_fingerprint(local) == fingerprint
        if not reuse:
            normalise_to_file(lake, keys, candidates, day, local, fingerprint, tmp_dir=tmp)
        n_removed = 0
        change = removal(local, removed)
        if change is not None:
            out, metadata, n_removed = change
            edited = Path(tmp) / "removed.parquet"
            out.write_parquet(edited, compression="zstd", statistics=True,
                              metadata=metadata or None)
            local = edited
        written = not reuse or change is not None
        if written:
            lake.put_file(target, local)
        summary = _summarise(local, lake.version(target) or "", fingerprint, digest, raw_posts)
    _write_summary(lake, day, summary)
    return DayRefresh(summary, written=written, removed=n_removed)


def resummarise(
    lake: Lake, day: date, target: str, path: Path, removed: Collection[str]
) -> None:
    """Describe the file just published at ``target`` from its local copy ``path`` (after a
    compliance rewrite): its own input fingerprint, the removals applied, and what the
    previous summary knew of the raw files."""
    try:
        previous = json.loads(lake.read_bytes(layout.tweets_summary_key(day)))
        raw_posts = {str(k): int(v) for k, v in (previous.get("raw_posts") or {}).items()}
    except (LakeError, ValueError, TypeError, AttributeError):
        raw_posts = {}
    fingerprint = _stored_fingerprint(path)
    if fingerprint is None:
        return  # nothing to tie the summary to: the next refresh reads the file
    summary = _summarise(path, lake.version(target) or "", fingerprint,
                         removed_digest(removed), raw_posts)
    _write_summary(lake, day, summary)


def _summarise(
    path: Path, version: str, fingerprint: str, digest: str, raw_posts: dict[str, int]
) -> DaySummary:
    rows, per_candidate, preview = local_tweets_summary(path)
    raw = pl.read_parquet_metadata(path).get(ACCOUNTING_KEY)
    return DaySummary(
        version, fingerprint, digest, rows, per_candidate, markdown_table(preview),
        json.loads(raw) if raw else None, raw_posts, footer_digest(path) or "",
    )


def _write_summary(lake: Lake, day: date, summary: DaySummary) -> None:
    body = json.dumps(summary.to_json(), ensure_ascii=False, sort_keys=True)
    lake.write_bytes(layout.tweets_summary_key(day), body.encode())


def _raw_posts(lake: Lake, keys: Sequence[str], known: dict[str, int]) -> dict[str, int]:
    """Posts per raw file, from its manifest; only files not seen before are read.

    A file whose manifest is missing or unreadable is left out (counted as holding posts).
    """
    out = {k: known[k] for k in keys if k in known}
    for key in keys:
        if key in out:
            continue
        try:
            manifest = json.loads(lake.read_bytes(manifest_key(key)))
            out[key] = int(manifest["posts"])
        except (LakeError, ValueError, KeyError, TypeError):
            continue
    return out
