"""2017 weekly SQLite rows -> ``TWEETS``.

The old script kept no post id, author handle or counts: those stay null. What it
kept maps as: ``user`` -> ``author_name`` (the display name), ``location`` ->
``author_location``, ``timestampms`` -> ``created_at`` (UTC, to the millisecond;
the ``day``/``hour`` columns are ignored, being derived from it),
``quoted/retweeted full_text`` -> ``referenced_text``, ``mention_<Candidate>``
flags -> ``candidates`` (registry ids, registry order).

``quoted/retweeted user`` is the shared post author's *display name*
(``user.name``), not a handle, so it never becomes ``referenced_author_username``
(the schema has no display-name column for it: it is counted as set aside). A
retweet's handle is the one in its own text (``RT @handle: ...``, what v1.1 wrote);
a quote's handle is unknown (null).

The script tested ``quoted_status`` before ``retweeted_status``, so for a retweet
of a quote it stored the *quoted* post's author and text. A retweet whose stored
text does not continue its own ``RT @handle:`` text is such a case: its
referenced text is set aside (counted), never attributed to the retweeted post.

``post_type``: the old flag does not say which of quote or retweet; a row whose
text starts with ``RT @`` is a retweet (what v1.1 put in a retweet's text), any
other flagged row a quote, an unflagged row an original (replies were not
distinguished). ``collected_at`` is unknown and set to ``created_at`` (the stream
captured posts as they were written), which keeps re-imports identical.

A ``mention_<Name>`` column for a name the registry lacks means the file was made
with another candidate list: the file is skipped (0 rows) with the column named.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import polars as pl

from elex_assets.core.archive import report as r
from elex_assets.core.archive.report import ArchiveFormatError, FileSkipped
from elex_assets.core.archive.sqlite_files import candidate_for, read_table
from elex_assets.core.registry import Registry
from elex_assets.core.schemas import TWEETS, UTC_TS

SOURCE = "archive_2017_sqlite"
TABLE = "data"
REQUIRED = ("text", "timestampms")
FLAG = "quoted/retweeted?"
TRUE = ("1", "true", "True", "TRUE")
RETWEET_HANDLE = r"^RT @([A-Za-z0-9_]{1,15}):"
PREFIX_CHARS = 30  # of the retweet's own text, compared with the stored shared text


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
    unknown: list[str] = []
    for column in mention_columns:
        cand = candidate_for(column.removeprefix("mention_"), registry.candidates)
        if cand is None:
            unknown.append(column)
            continue
        flags[cand.id] = pl.col(column).is_in(TRUE)
    if unknown:
        raise FileSkipped(
            r.UNKNOWN_MENTION_COLUMN,
            f"column(s) {', '.join(repr(c) for c in unknown)} name no candidate of the "
            f"{registry.election.id} registry ({registry.source or 'built-in'}: "
            f"{', '.join(registry.ids)}); point ELEX_CANDIDATES_FILE at a registry "
            "that has them to import this file",
            rows=raw.height,
        )
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
    text = col("text")
    is_retweet = text.str.starts_with("RT @")
    shared_name = _blank_to_null(col("quoted/retweeted user"))
    shared_text = _blank_to_null(col("quoted/retweeted full_text"))
    # the retweet's own text after "RT @handle: ", without v1.1's truncation mark
    own = _squash(text.str.replace(r"^RT @[A-Za-z0-9_]{1,15}: ?", "").str.strip_suffix("…"))
    of_quote = (
        is_retweet
        & shared_text.is_not_null()
        & ~_squash(shared_text).str.starts_with(own.str.slice(0, PREFIX_CHARS))
    )
    df = df.with_columns(_name=shared_name, _of_quote=of_quote)
    counts[r.DISPLAY_NAME_NOT_HANDLE] = int(df["_name"].is_not_null().sum())
    counts[r.REFERENCED_TEXT_OF_QUOTE] = int(df["_of_quote"].fill_null(False).sum())
    created = pl.from_epoch(pl.col("_millis"), time_unit="ms").cast(UTC_TS)
    out = df.select(
        created_at=created,
        text=text,
        lang=col("lang"),
        author_name=col("user"),
        author_location=col("location"),
        post_type=pl.when(is_retweet)
        .then(pl.lit("retweet"))
        .when(flagged)
        .then(pl.lit("quote"))
        .otherwise(pl.lit("original")),
        referenced_author_username=text.str.extract(RETWEET_HANDLE, 1),
        referenced_text=pl.when(pl.col("_of_quote").fill_null(False))
        .then(pl.lit(None, pl.String))
        .otherwise(shared_text),
        candidates=pl.col("candidates"),
        query=pl.lit(f"archive:{name}"),
        collected_at=created,
        source=pl.lit(SOURCE),
    )
    out = out.with_columns(
        [
            _blank_to_null(pl.col(c)).alias(c)
            for c in ("lang", "author_name", "author_location", "referenced_text")
        ]
    )
    return TWEETS.conform(out), +counts


def _blank_to_null(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr == "").then(None).otherwise(expr)


def _squash(expr: pl.Expr) -> pl.Expr:
    """Whitespace runs as one space, trimmed: v1.1 texts differ only there."""
    return expr.str.replace_all(r"\s+", " ").str.strip_chars()
