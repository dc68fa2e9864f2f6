"""2017 weekly SQLite rows -> ``TWEETS``.

The old script kept no post id, author handle or counts: those stay null. What it
kept maps as: ``user`` -> ``author_name`` (the display name), ``location`` ->
``author_location``, ``timestampms`` -> ``created_at`` (UTC; the ``day``/``hour``
columns are ignored, being derived from it), ``quoted/retweeted user`` ->
``referenced_author_username``, ``quoted/retweeted full_text`` -> ``referenced_text``.
``mention_<Candidate>`` flags -> ``candidates`` (registry ids, registry order).

``post_type``: the old flag does not say which of quote or retweet; a flagged
row whose text starts with ``RT @`` is a retweet (what v1.1 put in a retweet's
text), any other flagged row a quote, an unflagged row an original (replies were
not distinguished). ``collected_at`` is unknown and set to ``created_at`` (the
stream captured posts as they were written), which keeps re-imports identical.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import polars as pl

from elex_assets.core.archive import report as r
from elex_assets.core.archive.report import ArchiveFormatError
from elex_assets.core.archive.sqlite_files import candidate_for, read_table
from elex_assets.core.registry import Registry
from elex_assets.core.schemas import TWEETS, UTC_TS

SOURCE = "archive_2017_sqlite"
TABLE = "data"
REQUIRED = ("text", "timestampms")
FLAG = "quoted/retweeted?"
TRUE = ("1", "true", "True", "TRUE")


def read_tweets_sqlite(
    path: Path, name: str, registry: Registry
) -> tuple[pl.DataFrame, Counter[str]]:
    raw = read_table(path, name, TABLE)
    missing = [c for c in REQUIRED if c not in raw.columns]
    mention_columns = [c for c in raw.columns if c.startswith("mention_")]
    if missing or not mention_columns:
        wanted = missing + ([] if mention_columns else ["mention_<Candidate>"])
        raise ArchiveFormatError(
            name,
            f"table {TABLE!r} lacks column(s) {', '.join(wanted)} "
            f"(found: {', '.join(raw.columns)})",
        )
    flags: dict[str, pl.Expr] = {}
    for column in mention_columns:
        cand = candidate_for(column.removeprefix("mention_"), registry.candidates)
        if cand is None:
            raise ArchiveFormatError(
                name,
                f"column {column!r} names no candidate of the {registry.election.id} registry "
                f"({', '.join(registry.ids)})",
            )
        flags[cand.id] = pl.col(column).is_in(TRUE)
    ordered = [cid for cid in registry.ids if cid in flags]
    candidates = pl.concat_list(
        [
            pl.when(flags[cid]).then(pl.lit(cid)).otherwise(pl.lit(None, pl.String))
            for cid in ordered
        ]
    ).list.drop_nulls()

    millis = pl.col("timestampms").str.strip_chars()
    parsed = millis.cast(pl.Int64, strict=False).fill_null(
        millis.cast(pl.Float64, strict=False).cast(pl.Int64, strict=False)
    )
    df = raw.with_columns(
        _millis=parsed,
        _missing=millis.is_null() | (millis == ""),
        candidates=candidates,
    )
    counts: Counter[str] = Counter()
    counts[r.MISSING_TIMESTAMP] = int(df["_missing"].sum())
    counts[r.BAD_TIMESTAMP] = int((~df["_missing"] & df["_millis"].is_null()).sum())
    df = df.filter(pl.col("_millis").is_not_null())

    def col(name_: str) -> pl.Expr:
        return pl.col(name_) if name_ in raw.columns else pl.lit(None, pl.String)

    flagged = col(FLAG).is_in(TRUE)
    created = pl.from_epoch(pl.col("_millis"), time_unit="ms").cast(UTC_TS)
    out = df.select(
        created_at=created,
        text=col("text"),
        lang=col("lang"),
        author_name=col("user"),
        author_location=col("location"),
        post_type=pl.when(flagged & col("text").str.starts_with("RT @"))
        .then(pl.lit("retweet"))
        .when(flagged)
        .then(pl.lit("quote"))
        .when(col("text").str.starts_with("RT @"))
        .then(pl.lit("retweet"))
        .otherwise(pl.lit("original")),
        referenced_author_username=col("quoted/retweeted user").str.strip_prefix("@"),
        referenced_text=col("quoted/retweeted full_text"),
        candidates=pl.col("candidates"),
        query=pl.lit(f"archive:{name}"),
        collected_at=created,
        source=pl.lit(SOURCE),
    )
    out = out.with_columns(
        [
            pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c)
            for c in (
                "lang",
                "author_name",
                "author_location",
                "referenced_author_username",
                "referenced_text",
            )
        ]
    )
    return TWEETS.conform(out), +counts
