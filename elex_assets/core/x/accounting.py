"""Every raw post accounted for: a row in ``tweets`` or a drop counted by reason.

The normaliser records, in the metadata of the day's parquet file, how many
unique posts it read, how many became rows and how many it dropped and why
(``outside_day``: created on another UTC day; ``unparsable``: no creation time
and an id that is not a snowflake; ``no_id``: an entry without an id). The
``tweets_accounted`` check recounts the raw posts on its own (a narrow decode
of the raw files, sharing no code with the normaliser) and compares.

A post's creation time is in its snowflake id: ``(id >> 22) + 1288834974657`` ms
since the Unix epoch, so a page recorded without ``tweet.fields`` (only ``id`` and
``text``) loses no post.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import polars as pl

from elex_assets.core.lake import Lake

TWITTER_EPOCH_MS = 1288834974657
ACCOUNTING_KEY = "elex_accounting"
DROP_REASONS = ("outside_day", "unparsable", "no_id", "removed_by_compliance")
# Snowflake ids exist since 2010-11-04; anything dating after 2100 is not one.
_LATEST_MS = int(datetime(2100, 1, 1, tzinfo=UTC).timestamp() * 1000)


def snowflake_time(id_expr: pl.Expr) -> pl.Expr:
    """Creation time (µs, UTC) of a post from its snowflake id; null when not a snowflake."""
    as_int = id_expr.str.strip_chars().cast(pl.UInt64, strict=False)
    ms = (as_int.cast(pl.Int64, strict=False) // (1 << 22)) + TWITTER_EPOCH_MS
    return (
        pl.when(as_int.is_not_null() & (as_int > 0) & (ms < _LATEST_MS))
        .then((ms * 1000).cast(pl.Datetime("us", "UTC")))
        .otherwise(None)
    )


def snowflake_datetime(post_id: str) -> datetime:
    """The same rule for one id (tests, the CLI)."""
    return datetime.fromtimestamp(((int(post_id) >> 22) + TWITTER_EPOCH_MS) / 1000, UTC)


def error_type(expr: pl.Expr) -> pl.Expr:
    """``https://api.twitter.com/2/problems/resource-not-found`` -> ``resource-not-found``."""
    return expr.str.split("/").list.last()


@dataclass
class Accounting:
    """What the normaliser did with a day's unique raw posts (and X's partial errors)."""

    raw_unique: int = 0
    rows: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    created_at_from_id: int = 0
    from_note_tweet: int = 0
    api_errors: dict[str, int] = field(default_factory=dict)

    @property
    def dropped_total(self) -> int:
        return sum(self.dropped.values())

    @property
    def balanced(self) -> bool:
        return self.raw_unique == self.rows + self.dropped_total

    def to_json(self) -> dict[str, Any]:
        return {
            "raw_unique": self.raw_unique, "rows": self.rows, "dropped": self.dropped,
            "created_at_from_id": self.created_at_from_id,
            "from_note_tweet": self.from_note_tweet, "api_errors": self.api_errors,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Accounting:
        return cls(
            int(raw.get("raw_unique", 0)), int(raw.get("rows", 0)),
            {k: int(v) for k, v in (raw.get("dropped") or {}).items()},
            int(raw.get("created_at_from_id", 0)), int(raw.get("from_note_tweet", 0)),
            {k: int(v) for k, v in (raw.get("api_errors") or {}).items()},
        )

    def summary(self) -> str:
        drops = ", ".join(f"{n} {r}" for r, n in sorted(self.dropped.items()) if n) or "none"
        errors = ", ".join(f"{n} {t}" for t, n in sorted(self.api_errors.items())) or "none"
        return (
            f"{self.raw_unique} unique raw posts -> {self.rows} rows; dropped: {drops}; "
            f"creation time from the id: {self.created_at_from_id}; "
            f"full text from note_tweet: {self.from_note_tweet}; X partial errors: {errors}"
        )


def read_accounting(lake: Lake, key: str) -> Accounting | None:
    """The accounting the normaliser stored in a ``tweets`` file (None: written before it)."""
    if not lake.exists(key):
        return None
    with lake.local_copy(key) as path:
        raw = pl.read_parquet_metadata(path).get(ACCOUNTING_KEY)
    return Accounting.from_json(json.loads(raw)) if raw else None


def read_rows_and_accounting(lake: Lake, key: str) -> tuple[int, Accounting | None]:
    """Rows and stored accounting of a clean file, from one download (0, None: no file)."""
    if not lake.exists(key):
        return 0, None
    with lake.local_copy(key) as path:
        rows = pl.scan_parquet(path).select(pl.len()).collect().item()
        raw = pl.read_parquet_metadata(path).get(ACCOUNTING_KEY)
    return rows, Accounting.from_json(json.loads(raw)) if raw else None


# --- the independent recount --------------------------------------------------------------


def _lines(path: str | os.PathLike[str]) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        data = handle.read()
    if data[:2] == b"\x1f\x8b":
        out, rest = [], data
        while rest:
            d = zlib.decompressobj(31)
            out.append(d.decompress(rest))
            rest = d.unused_data
        data = b"".join(out)
    yield from (line for line in data.split(b"\n") if line.strip())


_RECOUNT = pl.Struct({"response": pl.Struct({
    "data": pl.List(pl.Struct({"id": pl.String})),
})})


@dataclass
class RawCount:
    unique_ids: int
    without_id: int

    @property
    def posts(self) -> int:
        return self.unique_ids + self.without_id


def recount_raw(lake: Lake, keys: Sequence[str], entries_field: str = "data",
                id_field: str = "id") -> RawCount:
    """Unique post ids (and id-less entries) in the raw files, decoded only for ``data[].id``
    (Bluesky's pages: ``posts[].uri``)."""
    schema = _RECOUNT if (entries_field, id_field) == ("data", "id") else pl.Struct(
        {"response": pl.Struct({entries_field: pl.List(pl.Struct({id_field: pl.String}))})})
    ids: list[pl.Series] = []
    without = 0
    for key in keys:
        with lake.local_copy(key) as path:
            lines = list(_lines(path))
        if not lines:
            continue
        entries = (
            pl.Series("l", lines, dtype=pl.Binary).cast(pl.String)
            .str.json_decode(schema).struct.field("response").struct.field(entries_field)
            .explode().drop_nulls().struct.field(id_field)
        )
        without += entries.null_count()
        ids.append(entries.drop_nulls().unique())
    unique = pl.concat(ids).n_unique() if ids else 0
    return RawCount(unique, without)


def check_accounting(
    count: RawCount, rows: int, acc: Accounting | None, table: str = "tweets",
    unreadable: str = "no creation time and no snowflake id",
    failing: Sequence[str] = ("unparsable", "no_id"),
) -> tuple[bool, str]:
    """The check's verdict: raw posts == rows + counted drops, and no drop of a ``failing``
    reason (X: a post without a time is a fault of elex, its id always carries one).

    ``table``, ``unreadable`` (why a post cannot become a row) and ``failing`` word it for
    Bluesky, where a post whose times cannot be read is the author's record, not a fault:
    it is a counted drop and the balance holds."""
    if acc is None and count.posts == 0:
        return True, "no raw post for the day: nothing to account for"
    if acc is None:
        return False, (
            f"the {table} file carries no accounting (written by an older elex): "
            "re-materialise the partition"
        )
    counted = rows + acc.dropped_total
    if count.posts != counted:
        return False, (
            f"{count.posts} unique raw posts but {rows} rows + {acc.dropped_total} counted "
            f"drops = {counted}: {count.posts - counted} posts are unaccounted for"
        )
    bad = {r: acc.dropped.get(r, 0) for r in failing if acc.dropped.get(r)}
    if bad:
        what = ", ".join(f"{n} {r}" for r, n in bad.items())
        return False, (
            f"{what} post(s) among {count.posts} raw posts could not become rows "
            f"({unreadable}): look at the raw files of the day"
        )
    drops = ", ".join(f"{n} {r}" for r, n in sorted(acc.dropped.items()) if n)
    return True, (f"{count.posts} unique raw posts = {rows} rows + {acc.dropped_total} counted "
                  f"drops" + (f" ({drops})" if drops else ""))
