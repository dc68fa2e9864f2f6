"""Raw X pages (jsonl.gz) -> the clean ``tweets`` table, in polars from end to end.

Every raw file of a day is scanned with polars' native ndjson reader (only the
fields the table needs are parsed); posts are exploded out of the pages, joined
to their authors and referenced posts from ``includes``, de-duplicated by id
(the most recently collected version wins, so public metrics are the newest),
matched to candidates with the shared rule of ``matching.py``, and written as
one parquet file. No Python loop touches individual posts.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zlib
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import polars as pl

from elex_assets.core.lake import Lake
from elex_assets.core.matching import match_candidates_expr
from elex_assets.core.registry import Candidate
from elex_assets.core.schemas import TWEETS, UTC_TS
from elex_assets.core.x.accounting import (
    ACCOUNTING_KEY,
    Accounting,
    error_type,
    snowflake_time,
)

_TWEET = pl.Struct({
    "id": pl.String,
    "text": pl.String,
    "created_at": pl.String,
    "author_id": pl.String,
    "conversation_id": pl.String,
    "lang": pl.String,
    "referenced_tweets": pl.List(pl.Struct({"type": pl.String, "id": pl.String})),
    "public_metrics": pl.Struct({
        "retweet_count": pl.Int64, "reply_count": pl.Int64, "like_count": pl.Int64,
        "quote_count": pl.Int64, "impression_count": pl.Int64,
    }),
    "entities": pl.Struct({
        "hashtags": pl.List(pl.Struct({"tag": pl.String})),
        "mentions": pl.List(pl.Struct({"username": pl.String})),
        "urls": pl.List(pl.Struct({"url": pl.String, "expanded_url": pl.String})),
    }),
    "note_tweet": pl.Struct({"text": pl.String}),
    "edit_history_tweet_ids": pl.List(pl.String),
})
_USER = pl.Struct({"id": pl.String, "username": pl.String, "name": pl.String,
                   "location": pl.String})
# Referenced posts only lend their text and author: parsing less is the main saving.
_REF = pl.Struct({"id": pl.String, "text": pl.String, "author_id": pl.String})
RAW_LINE_SCHEMA = pl.Schema({
    "collected_at": pl.String,
    "endpoint": pl.String,
    "request": pl.Struct({"query": pl.String}),
    "response": pl.Struct({
        "data": pl.List(_TWEET),
        "includes": pl.Struct({"users": pl.List(_USER), "tweets": pl.List(_REF)}),
        "errors": pl.List(pl.Struct({"type": pl.String})),
    }),
})
_LINE = pl.Struct(dict(RAW_LINE_SCHEMA))
FINGERPRINT_KEY = "elex_inputs"
NORMALISE_VERSION = "3"  # bump when the output of the same inputs changes
DROP = "_drop"
FROM_ID = "_time_from_id"
SOURCES = {"recent": "x_search_recent", "all": "x_search_all", "stream": "x_stream"}


class RawFileError(ValueError):
    """A raw file that cannot be read whole (truncated or corrupt); names the file."""

    transient = False  # final: see core.retrying.is_deterministic


def _ts(expr: pl.Expr) -> pl.Expr:
    return expr.str.to_datetime(time_zone="UTC", time_unit="us", strict=False).cast(UTC_TS)


def scan_raw(lake: Lake, keys: Sequence[str]) -> pl.LazyFrame:
    """The raw pages of ``keys`` as a lazy frame (only the fields the table needs)."""
    return pl.scan_ndjson(
        [lake.uri(k) for k in keys], schema=RAW_LINE_SCHEMA,
        storage_options=lake.storage_options,
    )


def normalise(
    pages: pl.LazyFrame, candidates: Sequence[Candidate], day: date | None = None
) -> pl.LazyFrame:
    """One row per post, in the ``TWEETS`` schema; see the module doc."""
    table = posts_table(pages, candidates, day)
    if day is not None:
        table = table.filter(pl.col(DROP).is_null())
    return TWEETS.conform(table.sort("id"))  # type: ignore[return-value]


def posts_table(
    pages: pl.LazyFrame, candidates: Sequence[Candidate], day: date | None = None
) -> pl.LazyFrame:
    """Every unique post of ``pages``, with ``_drop`` (the reason it is not a row of ``day``)
    and ``_time_from_id`` (creation time taken from the snowflake id)."""
    pages = pages.select(
        _ts(pl.col("collected_at")).alias("collected_at"),
        pl.col("request").struct.field("query").alias("query"),
        pl.col("endpoint").replace_strict(SOURCES, default=pl.lit("x_search")).alias("source"),
        pl.col("response").struct.field("data").alias("data"),
        pl.col("response").struct.field("includes").alias("includes"),
    )
    posts = (
        pages.select("collected_at", "query", "source", "data")
        .explode("data")
        .filter(pl.col("data").is_not_null())
        .unnest("data")
        .filter(pl.col("id").is_not_null())
        .sort("collected_at")
        .unique(subset="id", keep="last")
    )
    users = (
        pages.select(pl.col("includes").struct.field("users").alias("u"))
        .explode("u")
        .filter(pl.col("u").is_not_null())
        .unnest("u")
        .unique(subset="id", keep="any")
    )
    refs = (
        pages.select(pl.col("includes").struct.field("tweets").alias("t"))
        .explode("t")
        .filter(pl.col("t").is_not_null())
        .select(
            pl.col("t").struct.field("id").alias("referenced_id"),
            pl.col("t").struct.field("text").alias("_ref_text"),
            pl.col("t").struct.field("author_id").alias("_ref_author_id"),
        )
        .unique(subset="referenced_id", keep="any")
    )
    ref_types = pl.col("referenced_tweets").list.eval(pl.element().struct.field("type"))

    def ref_of(kind: str) -> pl.Expr:
        return pl.col("referenced_tweets").list.eval(
            pl.element().filter(pl.element().struct.field("type") == kind).struct.field("id")
        ).list.first()

    has = {k: ref_types.list.contains(k).fill_null(False)
           for k in ("retweeted", "quoted", "replied_to")}
    post_type = (
        pl.when(has["retweeted"]).then(pl.lit("retweet"))
        .when(has["quoted"]).then(pl.lit("quote"))
        .when(has["replied_to"]).then(pl.lit("reply"))
        .otherwise(pl.lit("original"))
    )
    referenced_id = (
        pl.when(has["retweeted"]).then(ref_of("retweeted"))
        .when(has["quoted"]).then(ref_of("quoted"))
        .when(has["replied_to"]).then(ref_of("replied_to"))
    )
    metrics = pl.col("public_metrics")
    ents = pl.col("entities")
    table = (
        posts.with_columns(
            post_type.alias("post_type"),
            referenced_id.alias("referenced_id"),
            pl.coalesce(_ts(pl.col("created_at")), snowflake_time(pl.col("id")))
            .alias("created_at"),
            _ts(pl.col("created_at")).is_null().alias(FROM_ID),
            pl.col("note_tweet").struct.field("text").is_not_null()
            .alias("text_from_note_tweet"),
            pl.coalesce(pl.col("note_tweet").struct.field("text"), pl.col("text")).alias("text"),
        )
        .join(
            users.select(
                pl.col("id").alias("author_id"),
                pl.col("username").alias("author_username"),
                pl.col("name").alias("author_name"),
                pl.col("location").alias("author_location"),
            ),
            on="author_id", how="left",
        )
        .join(refs, on="referenced_id", how="left")
        .join(
            users.select(pl.col("id").alias("_ref_author_id"),
                         pl.col("username").alias("referenced_author_username")),
            on="_ref_author_id", how="left",
        )
        .with_columns(
            pl.when(pl.col("post_type").is_in(["retweet", "quote"]))
            .then(pl.col("_ref_text")).alias("referenced_text"),
            *[metrics.struct.field(f).alias(f) for f in (
                "retweet_count", "reply_count", "like_count", "quote_count", "impression_count")],
            ents.struct.field("hashtags").list.eval(pl.element().struct.field("tag"))
            .fill_null([]).alias("hashtags"),
            ents.struct.field("mentions").list.eval(pl.element().struct.field("username"))
            .fill_null([]).alias("mentions"),
            ents.struct.field("urls").list.eval(
                pl.coalesce(pl.element().struct.field("expanded_url"),
                            pl.element().struct.field("url"))
            ).fill_null([]).alias("urls"),
        )
        .with_columns(
            match_candidates_expr(
                candidates, ["text", "referenced_text"], "author_username"
            ).alias("candidates")
        )
    )
    drop = pl.when(pl.col("created_at").is_null()).then(pl.lit("unparsable"))
    if day is not None:
        start = datetime(day.year, day.month, day.day)
        inside = pl.col("created_at").is_between(
            pl.lit(start).dt.replace_time_zone("UTC"),
            pl.lit(start + timedelta(days=1)).dt.replace_time_zone("UTC"),
            closed="left",
        )
        drop = drop.when(~inside).then(pl.lit("outside_day"))
    return table.with_columns(drop.otherwise(None).cast(pl.String).alias(DROP))


def normalise_day(
    lake: Lake,
    keys: Sequence[str],
    candidates: Sequence[Candidate],
    day: date,
    target_key: str,
    batch_bytes: int = 32 << 20,
    workers: int | None = None,
    tmp_dir: str | os.PathLike[str] | None = None,
) -> int:
    """Normalise the raw files ``keys`` into ``target_key`` (atomically); returns the rows.

    The raw lines (whole API pages, so each carries its own ``includes``) are
    streamed out of the files in batches of about ``batch_bytes`` of JSON;
    ``workers`` batches are normalised at a time (default: one per core, at most
    2; polars releases the GIL) and each is written to a temporary parquet file.
    The batches are then de-duplicated by id across the whole day (newest
    ``collected_at`` wins) and streamed into one file. Peak memory follows the
    batch size and the workers, not the day's volume.
    """
    fingerprint = inputs_fingerprint(lake, keys, candidates, day)
    if lake.exists(target_key):
        with lake.local_copy(target_key) as path:
            if _stored_fingerprint(path) == fingerprint:
                # Nothing new since it was written (the 5-minute refresh's usual case).
                return pl.scan_parquet(path).select(pl.len()).collect().item()
    with lake.writing(target_key, ".parquet") as path:
        normalise_to_file(
            lake, keys, candidates, day, path, fingerprint, batch_bytes, workers, tmp_dir
        )
        return pl.scan_parquet(path).select(pl.len()).collect().item()


def normalise_to_file(
    lake: Lake,
    keys: Sequence[str],
    candidates: Sequence[Candidate],
    day: date,
    path: str | os.PathLike[str],
    fingerprint: str,
    batch_bytes: int = 32 << 20,
    workers: int | None = None,
    tmp_dir: str | os.PathLike[str] | None = None,
) -> Accounting:
    """The work of :func:`normalise_day`, written to the local ``path`` (with ``fingerprint``
    and the accounting in its metadata); returns the accounting."""
    workers = workers or max(1, min(2, os.cpu_count() or 1))
    with tempfile.TemporaryDirectory(prefix="elex-tweets-", dir=tmp_dir) as tmp:
        batches: list[_Batch] = []
        running: deque[Future[_Batch]] = deque()
        with ThreadPoolExecutor(workers) as pool:
            for lines in _line_batches(lake, keys, batch_bytes):
                while len(running) >= workers:  # bounded: at most `workers` batches in memory
                    batches.append(running.popleft().result())
                out = f"{tmp}/part-{len(batches) + len(running):05d}.parquet"
                running.append(pool.submit(_normalise_batch, lines, candidates, day, out))
            while running:
                batches.append(running.popleft().result())
        parts = [b.part for b in batches]
        table = _deduplicated(parts)
        accounting = _account(batches, table)
        table.sink_parquet(
            path, compression="zstd", statistics=True,
            metadata={FINGERPRINT_KEY: fingerprint,
                      ACCOUNTING_KEY: json.dumps(accounting.to_json())},
        )
    return accounting


@dataclass
class _Batch:
    """One batch's part file and what it dropped (accounted once the day is assembled)."""

    part: str
    drops: pl.DataFrame  # id, reason
    from_id: pl.Series  # ids of rows whose time came from the id
    no_id: int
    api_errors: dict[str, int]


def _account(batches: Sequence[_Batch], table: pl.LazyFrame) -> Accounting:
    """Rows + drops by reason for the day; a post that is a row anywhere is not a drop."""
    acc = Accounting()
    stats = table.select(
        pl.len().alias("rows"), pl.col("text_from_note_tweet").sum().alias("notes")
    ).collect()
    acc.rows = int(stats["rows"][0])
    acc.from_note_tweet = int(stats["notes"][0] or 0)
    drops = pl.concat([b.drops for b in batches]) if batches else pl.DataFrame(
        schema={"id": pl.String, "reason": pl.String})
    if not drops.is_empty():
        drops = drops.unique(subset="id", keep="first").join(
            table.select("id").collect(), on="id", how="anti")
    counted = dict(drops.group_by("reason").len().iter_rows()) if not drops.is_empty() else {}
    no_id = sum(b.no_id for b in batches)
    if no_id:
        counted["no_id"] = no_id
    acc.dropped = {r: int(n) for r, n in sorted(counted.items())}
    acc.raw_unique = acc.rows + acc.dropped_total
    from_id = [b.from_id for b in batches if len(b.from_id)]
    acc.created_at_from_id = pl.concat(from_id).n_unique() if from_id else 0
    for b in batches:
        for kind, n in b.api_errors.items():
            acc.api_errors[kind] = acc.api_errors.get(kind, 0) + n
    return acc


def _stored_fingerprint(path: str | os.PathLike[str]) -> str | None:
    """The fingerprint of an existing day file; ``None`` when it cannot be read.

    An unreadable file (cut, overwritten with garbage) is simply replaced: the
    day is recomputed from the raw layer, which is the source of truth.
    """
    try:
        return pl.read_parquet_metadata(path).get(FINGERPRINT_KEY)
    except Exception:  # polars raises ComputeError / OSError variants on a broken file
        return None


def inputs_fingerprint(
    lake: Lake, keys: Sequence[str], candidates: Sequence[Candidate], day: date
) -> str:
    """What a day's table is computed from: raw keys and their times, candidates, day.

    Stored in the parquet file's metadata; an unchanged fingerprint means the
    same output, so a refresh that brought nothing new skips the work.
    """
    inputs = {
        "format": NORMALISE_VERSION,
        "day": day.isoformat(),
        "candidates": [repr(c) for c in candidates],
        "raw": [[k, lake.modified_at(k).isoformat()] for k in sorted(keys)],
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


HEAL = ("The raw file is damaged; re-fetch the day with raw_tweets run config mode: full "
        "(it replaces the day's raw files)")


def damaged_raw_file(uri: str, problem: object) -> RawFileError:
    """The error naming a damaged raw file, and how to heal the day."""
    return RawFileError(f"{uri}: {problem}. {HEAL}")


@dataclass
class _Lines:
    """A batch of raw lines, and where each came from (to name a line that will not parse)."""

    lines: list[bytes] = field(default_factory=list)
    origins: list[tuple[int, str, int]] = field(default_factory=list)  # (index, uri, line no)

    def add(self, line: bytes, uri: str, number: int) -> None:
        if not self.origins or self.origins[-1][1] != uri:
            self.origins.append((len(self.lines), uri, number))
        self.lines.append(line)

    def where(self, index: int) -> tuple[str, int]:
        """The file and line number (1-based) of line ``index`` of the batch."""
        start, uri, first = next(o for o in reversed(self.origins) if o[0] <= index)
        return uri, first + index - start


def _line_batches(lake: Lake, keys: Sequence[str], batch_bytes: int) -> Iterator[_Lines]:
    """The non-empty raw lines of ``keys``, in batches of about ``batch_bytes``."""
    batch = _Lines()
    size = 0
    for key in keys:
        uri = lake.uri(key)
        with lake.local_copy(key) as path:
            try:
                for number, line in enumerate(_raw_lines(path, gzip_only=key.endswith(".gz")), 1):
                    if not line.strip():
                        continue
                    batch.add(line, uri, number)
                    size += len(line)
                    if size >= batch_bytes:
                        yield batch
                        batch, size = _Lines(), 0
            except (RawFileError, zlib.error) as exc:
                raise damaged_raw_file(uri, exc) from None
    if batch.lines:
        yield batch


def _raw_lines(
    path: str | os.PathLike[str], chunk: int = 4 << 20, gzip_only: bool = False
) -> Iterator[bytes]:
    """Lines of a (gzip or plain) file, decompressed in big chunks (zlib releases the GIL).

    ``gzip_only`` (a ``.gz`` raw file): an empty file, or one that is not gzip, is
    damage, not a file without posts (an empty gzip member still has 20 bytes)."""
    with open(path, "rb") as handle:
        gzipped = handle.read(2) == b"\x1f\x8b"
        if gzip_only and not gzipped:
            size = os.fstat(handle.fileno()).st_size
            raise RawFileError("empty file (0 bytes)" if size == 0 else
                               f"not a gzip file ({size} bytes)")
        handle.seek(0)
        inflate = zlib.decompressobj(31) if gzipped else None
        rest = b""
        while data := handle.read(chunk):
            if inflate is not None:
                out = inflate.decompress(data)
                while inflate.eof and inflate.unused_data:  # the next gzip member
                    tail = inflate.unused_data
                    inflate = zlib.decompressobj(31)
                    out += inflate.decompress(tail)
                data = out
            lines = (rest + data).split(b"\n")
            rest = lines.pop()
            yield from lines
        if inflate is not None and not inflate.eof:
            # A gzip member cut short (a partial upload, a copy interrupted at a flush
            # point) decompresses cleanly up to the cut: only the missing end marker
            # and CRC tell that posts are lost.
            raise RawFileError("truncated gzip stream (no end-of-stream marker)")
        if rest:
            yield rest


def read_pages(lines: Sequence[bytes]) -> pl.DataFrame:
    """Raw lines as a frame of pages (``RAW_LINE_SCHEMA``, only the fields the table needs).

    ``str.json_decode`` with the explicit schema takes half the CPU of
    ``read_ndjson`` on these deeply nested pages (measured by ``bench/run.py``).
    """
    if not lines:
        return pl.DataFrame(schema=RAW_LINE_SCHEMA)
    series = pl.Series("line", lines, dtype=pl.Binary).cast(pl.String)
    return series.str.json_decode(_LINE).struct.unnest()


def _pages_of(batch: _Lines) -> pl.DataFrame:
    """:func:`read_pages`; a line that is not JSON (cut, corrupt) names its file and line
    (polars' ``ComputeError`` names neither): looked for only when decoding failed."""
    try:
        return read_pages(batch.lines)
    except (pl.exceptions.ComputeError, pl.exceptions.InvalidOperationError) as exc:
        for index, line in enumerate(batch.lines):
            try:
                json.loads(line)
            except ValueError as bad:
                uri, number = batch.where(index)
                raise damaged_raw_file(
                    uri, f"line {number} is not valid JSON ({bad.msg}, {len(line)} bytes: "
                    "cut or corrupt)") from None
        raise damaged_raw_file(batch.origins[0][1] if batch.origins else "raw files", exc) \
            from None


def _normalise_batch(
    batch: _Lines, candidates: Sequence[Candidate], day: date, out: str
) -> _Batch:
    # Eager: a lazy plan would decode the JSON once per branch (posts, users, refs).
    pages = _pages_of(batch)
    batch.lines.clear()
    entries = pages.select(pl.col("response").struct.field("data").alias("d")).explode("d")
    no_id = entries.filter(
        pl.col("d").is_not_null() & pl.col("d").struct.field("id").is_null()).height
    errors = (
        pages.select(pl.col("response").struct.field("errors").alias("e")).explode("e")
        .drop_nulls().select(error_type(pl.col("e").struct.field("type")).fill_null("unknown"))
        .to_series().value_counts()
    )
    full = posts_table(pages.lazy(), candidates, day).collect(engine="in-memory")
    del pages
    rows = full.filter(pl.col(DROP).is_null())
    # A temporary part: lz4 without statistics is the cheapest to write and read back
    # (the day's file is re-encoded with zstd and statistics by the final sink).
    TWEETS.conform(rows.sort("id")).write_parquet(  # type: ignore[union-attr]
        out, compression="lz4", statistics=False
    )
    return _Batch(
        out,
        full.filter(pl.col(DROP).is_not_null()).select("id", pl.col(DROP).alias("reason")),
        rows.filter(pl.col(FROM_ID))["id"],
        no_id,
        {str(k): int(n) for k, n in errors.iter_rows()},
    )


def _deduplicated(parts: list[str]) -> pl.LazyFrame:
    """The parts as one table with one row per id: the newest ``collected_at`` wins.

    Each part is already unique by id; only ids found in several parts (few: a
    post collected again) are resolved, from a narrow (id, collected_at, part)
    frame, so the wide rows are streamed once.
    """
    if not parts:
        return TWEETS.empty().lazy()
    if len(parts) == 1:
        return pl.scan_parquet(parts[0])
    keys = pl.concat([
        pl.scan_parquet(p).select("id", "collected_at", pl.lit(i, pl.Int32).alias("part"))
        for i, p in enumerate(parts)
    ]).collect()
    dups = keys.filter(pl.col("id").is_duplicated())
    del keys
    if dups.is_empty():
        return pl.concat([pl.scan_parquet(p) for p in parts])
    winners = dups.sort("collected_at", "part").group_by("id").agg(pl.col("part").last())
    losers = dups.join(winners, on=["id", "part"], how="anti")
    return pl.concat([
        pl.scan_parquet(p).join(
            losers.lazy().filter(pl.col("part") == i).select("id"), on="id", how="anti"
        )
        for i, p in enumerate(parts)
    ])


def tweets_summary(lake: Lake, key: str) -> tuple[int, dict[str, int], pl.DataFrame]:
    """Rows, posts per candidate and a 10-row preview of a written ``tweets`` file."""
    with lake.local_copy(key) as path:
        return local_tweets_summary(path)


def local_tweets_summary(
    path: str | os.PathLike[str],
) -> tuple[int, dict[str, int], pl.DataFrame]:
    """:func:`tweets_summary` of a local ``tweets`` file."""
    scan = pl.scan_parquet(path)
    rows = scan.select(pl.len()).collect().item()
    per = (
        scan.select(pl.col("candidates").explode().alias("candidate"))
        .drop_nulls()
        .group_by("candidate")
        .len()
        .sort("len", descending=True)
        .collect()
    )
    preview = scan.select(
        "id", "created_at", "author_username", "post_type", "candidates", "text"
    ).head(10).collect()
    return rows, dict(zip(per["candidate"].to_list(), per["len"].to_list(), strict=True)), preview
