"""Honouring deletions on X: the compliance log, and its application to raw, clean and exports.

X's terms require stored post content to follow deletions (and suspensions,
protections, deactivations). A batch compliance job (``x_compliance_client``)
says which stored ids changed; this module applies the answer:

- the **log** first (``state/compliance/``): one JSON-lines file of removed ids per
  job and a summary per job (range, ids submitted, removals by reason and
  where). Written before anything else, so a crash mid-way leaves the log
  ahead of the files and the next run (or normalisation) finishes the job;
- **raw** files: each removed post (as a result, or as a referenced post in
  ``includes``) becomes a tombstone ``{"id", "created_at", "elex_compliance":
  {action, reason, redacted_at, applied_at, job_id}}``; pages keep their
  summaries and post counts, so coverage and accounting stay true;
- **clean** ``tweets`` files: the post's row goes, and the text it lent as
  ``referenced_text`` to the posts that quote or retweet it;
- **exports**: every weekly ``tweets`` file of an affected week is written again.

Normalisation consults the log (:func:`drop_removed`), and newly landed raw
files are tombstoned (:func:`tombstone_raw`), so a deleted post never comes
back through a refresh or a re-normalisation.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from elex_assets.core.lake import Lake
from elex_assets.core.layout import (
    RAW_TWEETS,
    clean_tweets_key,
    clean_tweets_prefix,
    raw_tweets_prefix,
)
from elex_assets.core.x.compliance_client import ComplianceEvent

STATE = "state/compliance"
TOMBSTONE = "elex_compliance"
NO_CONTENT_ACTIONS = {"scrub_geo"}  # elex stores no geo: nothing to remove for these


def removed_key(applied_at: str, job_id: str) -> str:
    return f"{STATE}/removed/{applied_at}-{job_id}.jsonl"


def job_key(applied_at: str, job_id: str) -> str:
    return f"{STATE}/jobs/{applied_at}-{job_id}.json"


# ---- the log --------------------------------------------------------------------


def removed_ids(lake: Lake) -> dict[str, dict[str, Any]]:
    """Every id the log says to remove, with its first logged event (action, reason, dates)."""
    out: dict[str, dict[str, Any]] = {}
    for key in sorted(lake.list(f"{STATE}/removed/")):
        if not key.endswith(".jsonl"):
            continue
        for line in lake.read_bytes(key).decode().splitlines():
            if line.strip():
                event = json.loads(line)
                out.setdefault(event["id"], event)
    return out


def log_events(
    lake: Lake, job: dict[str, Any], events: Sequence[ComplianceEvent], applied_at: str
) -> dict[str, dict[str, Any]]:
    """Append a job's removals to the log (idempotent per job); returns them by id."""
    entries = {
        e.id: {**asdict(e), "job_id": str(job["id"]), "applied_at": applied_at}
        for e in events
        if e.action not in NO_CONTENT_ACTIONS
    }
    body = "".join(json.dumps(v, sort_keys=True) + "\n" for v in entries.values())
    lake.write_bytes(removed_key(applied_at, str(job["id"])), body.encode())
    return entries


# ---- which ids a range holds ------------------------------------------------------


def raw_days(lake: Lake) -> list[date]:
    """Days that have raw posts in the lake."""
    days = set()
    for key in lake.list(f"{RAW_TWEETS}/"):
        part = key.split("/")[2] if key.count("/") >= 3 else ""
        if part.startswith("date=") and key.endswith(".jsonl.gz"):
            days.add(date.fromisoformat(part.removeprefix("date=")))
    return sorted(days)


def day_range(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _pages(lake: Lake, key: str) -> Iterable[dict[str, Any]]:
    with lake.local_copy(key) as path, gzip.open(path, "rb") as handle:
        for line in handle:  # every gzip member, line by line
            if line.strip():
                yield json.loads(line)


def _posts_of(record: dict[str, Any]) -> list[list[dict[str, Any]]]:
    response = record.get("response") or {}
    lists = [response.get("data") or []]
    lists.append((response.get("includes") or {}).get("tweets") or [])
    return lists


def stored_ids(lake: Lake, days: Iterable[date], already: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """Ids with content stored for ``days``: results and referenced posts in raw, clean ids.

    Ids already removed (``already``) are not submitted again.
    """
    ids: set[str] = set()
    for day in days:
        for key in lake.list(raw_tweets_prefix(day)):
            if key.endswith(".jsonl.gz"):
                for record in _pages(lake, key):
                    for posts in _posts_of(record):
                        ids.update(str(p["id"]) for p in posts if "id" in p and TOMBSTONE not in p)
        for key in lake.list(clean_tweets_prefix(day)):
            if key.endswith(".parquet"):
                ids.update(lake.read_parquet(key)["id"].drop_nulls().to_list())
    return sorted(ids - set(already))


# ---- applying the log -------------------------------------------------------------


def tombstone_raw(lake: Lake, key: str, removed: dict[str, dict[str, Any]]) -> int:
    """Replace removed posts of a raw file by tombstones; rewrite it (atomically) if any."""
    if not removed:
        return 0
    changed = 0
    records = []
    for record in _pages(lake, key):
        for posts in _posts_of(record):
            for i, post in enumerate(posts):
                pid = str(post.get("id"))
                if pid in removed and TOMBSTONE not in post:
                    event = removed[pid]
                    posts[i] = {
                        "id": pid,
                        "created_at": post.get("created_at"),
                        TOMBSTONE: {
                            k: event.get(k)
                            for k in ("action", "reason", "redacted_at", "applied_at", "job_id")
                        },
                    }
                    changed += 1
        records.append(record)
    if changed:
        body = "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in records)
        with lake.writing(key, ".jsonl.gz") as path:
            path.write_bytes(gzip.compress(body.encode(), compresslevel=6))
    return changed


# The drop reason of a post X reported deleted, suspended or protected.
REMOVED_REASON = "removed_by_compliance"


def drop_removed(
    lake: Lake, key: str, removed: dict[str, dict[str, Any]] | set[str],
    on_written: Callable[[Path], None] | None = None,
) -> int:
    """Remove logged posts from a clean ``tweets`` file, and the text they lent to others.

    Returns the rows removed; the file is rewritten (atomically) only when it changes,
    then ``on_written`` is given the local copy of what was published.
    """
    if not removed or not lake.exists(key):
        return 0
    with lake.local_copy(key) as path:  # one download: the rows and the metadata
        change = removal(path, removed)
    if change is None:
        return 0
    out, metadata, n_gone = change
    with tempfile.TemporaryDirectory(prefix="elex-removed-") as tmp:
        path = Path(tmp) / "part.parquet"
        out.write_parquet(path, compression="zstd", statistics=True, metadata=metadata or None)
        lake.put_file(key, path)
        if on_written is not None:
            on_written(path)
    return n_gone


def removal(
    path: str | os.PathLike[str], removed: dict[str, dict[str, Any]] | set[str]
) -> tuple[pl.DataFrame, dict[str, str], int] | None:
    """What :func:`drop_removed` would write for the local ``tweets`` file ``path``: the
    rows, the metadata and the rows removed; ``None`` when nothing changes."""
    if not removed:
        return None
    ids = pl.Series(list(removed), dtype=pl.String).implode()  # one list: the ids to match
    df = pl.read_parquet(path)
    gone = df["id"].is_in(ids)
    lent = df["referenced_id"].is_in(ids) & df["referenced_text"].is_not_null()
    n_gone, n_lent = int(gone.sum()), int(lent.sum())
    if not n_gone and not n_lent:
        return None
    out = df.filter(~gone).with_columns(
        pl.when(pl.col("referenced_id").is_in(ids)).then(None)
        .otherwise(pl.col("referenced_text")).alias("referenced_text")
    )
    metadata = pl.read_parquet_metadata(path)  # keeps the normaliser's input fingerprint
    return out, _account_removals(metadata, n_gone), n_gone


def _account_removals(metadata: dict[str, str], n_gone: int) -> dict[str, str]:
    """The day's accounting (``core.x.accounting``) with the removed posts as a drop reason,
    so ``tweets_accounted`` still finds every raw post a row or a counted drop."""
    from elex_assets.core.x.accounting import ACCOUNTING_KEY

    raw = metadata.get(ACCOUNTING_KEY)
    if not raw or not n_gone:
        return metadata
    acc = json.loads(raw)
    acc["rows"] = int(acc.get("rows", 0)) - n_gone
    dropped = acc.setdefault("dropped", {})
    dropped[REMOVED_REASON] = int(dropped.get(REMOVED_REASON, 0)) + n_gone
    return {**metadata, ACCOUNTING_KEY: json.dumps(acc)}


@dataclass
class ComplianceReport:
    job_id: str
    status: str
    start: str
    end: str
    applied_at: str
    submitted: int
    events: int
    by_reason: dict[str, int]
    raw_tombstones: int = 0
    raw_files_rewritten: int = 0
    rows_removed_by_day: dict[str, int] = field(default_factory=dict)
    weeks_reexported: list[str] = field(default_factory=list)

    @property
    def rows_removed(self) -> int:
        return sum(self.rows_removed_by_day.values())


def apply_removals(
    lake: Lake, days: Sequence[date], removed: dict[str, dict[str, Any]]
) -> tuple[int, int, dict[str, int]]:
    """Tombstone raw files and drop clean rows of ``days``: (tombstones, files, rows by day)."""
    tombstones = files = 0
    rows: dict[str, int] = {}
    for day in days:
        for key in lake.list(raw_tweets_prefix(day)):
            if key.endswith(".jsonl.gz"):
                n = tombstone_raw(lake, key, removed)
                tombstones += n
                files += bool(n)
        for key in lake.list(clean_tweets_prefix(day)):
            if key.endswith(".parquet"):
                n = drop_removed(lake, key, removed, _resummarise(lake, day, key, removed))
                if n:
                    rows[day.isoformat()] = rows.get(day.isoformat(), 0) + n
    return tombstones, files, rows


def _resummarise(
    lake: Lake, day: date, key: str, removed: dict[str, dict[str, Any]]
) -> Callable[[Path], None] | None:
    """Keep the live file's summary (``core.x.tweets_day``) true after a rewrite, so the
    next refresh need not download the file to learn what it holds."""
    if key != clean_tweets_key(day):
        return None
    from elex_assets.core.x.tweets_day import resummarise  # it builds on this module

    return lambda path: resummarise(lake, day, key, path, removed)


def record_job(lake: Lake, report: ComplianceReport, job: dict[str, Any]) -> str:
    key = job_key(report.applied_at, report.job_id)
    body = {**asdict(report), "rows_removed": report.rows_removed, "job": job}
    lake.write_bytes(key, (json.dumps(body, indent=2, sort_keys=True) + "\n").encode())
    return key


def reasons(events: Sequence[ComplianceEvent]) -> dict[str, int]:
    return dict(Counter(e.reason for e in events).most_common())


def now_stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
