"""2017 Trends SQLite (``interests_over_time``) -> ``trends_interest_over_time``.

Wide rows (``day`` + one column per candidate, named by the lower-case full name
that was sent to Google) become one row per day and candidate, area ``fr``,
``keyword`` = that column name.

``value_comparable`` stays null (as do ``batch`` and ``anchor``): Google compares
at most 5 terms per request, so the 11 candidates of 2017 came from several
requests, each scaled 0-100 on its own, and the old file records neither the
batches nor a shared anchor. Copying ``value`` would claim a comparability the
data does not have. ``collected_at`` is unknown and set to the interval start,
which keeps re-imports identical.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import polars as pl

from elex_assets.core.archive import report as r
from elex_assets.core.archive.report import ArchiveFormatError, FileSkipped
from elex_assets.core.archive.sqlite_files import candidate_for, read_table
from elex_assets.core.registry import Registry
from elex_assets.core.schemas import TRENDS, UTC_TS

SOURCE = "archive_2017_sqlite"
TABLE = "interests_over_time"
AREA = "fr"
NOT_TERMS = ("index", "day", "date", "isPartial")


def read_trends_sqlite(
    path: Path, name: str, registry: Registry
) -> tuple[pl.DataFrame, Counter[str]]:
    raw = read_table(path, name, TABLE)
    if "day" not in raw.columns:
        raise ArchiveFormatError(
            name, f"table {TABLE!r} lacks column 'day' (found: {', '.join(raw.columns)})"
        )
    terms = [c for c in raw.columns if c not in NOT_TERMS]
    ids: dict[str, str] = {}
    unknown = []
    for term in terms:
        cand = candidate_for(term, registry.candidates)
        if cand is None:
            unknown.append(term)
        else:
            ids[term] = cand.id
    if unknown:
        raise FileSkipped(
            r.UNKNOWN_CANDIDATE,
            f"column(s) {', '.join(repr(t) for t in unknown)} name no candidate of the "
            f"{registry.election.id} registry ({registry.source or 'built-in'}); point "
            "ELEX_CANDIDATES_FILE at a registry that has them to import this file",
            rows=raw.height,
        )
    if not terms:
        raise ArchiveFormatError(name, f"table {TABLE!r} has no candidate column")

    day = pl.col("day").str.strip_chars()
    timestamp = pl.coalesce(
        day.str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False),
        day.str.to_datetime("%Y-%m-%dT%H:%M:%S", strict=False),
        day.str.to_date("%Y-%m-%d", strict=False).cast(pl.Datetime("us")),
    ).dt.replace_time_zone("UTC")
    partial = (
        pl.col("isPartial").is_in(("1", "true", "True"))
        if "isPartial" in raw.columns
        else pl.lit(None, pl.Boolean)
    )
    wide = raw.with_columns(timestamp=timestamp, is_partial=partial)
    counts: Counter[str] = Counter()
    counts[r.MISSING_TIMESTAMP] = int(wide["timestamp"].is_null().sum())
    long = (
        wide.filter(pl.col("timestamp").is_not_null())
        .unpivot(index=["timestamp", "is_partial"], on=terms, variable_name="keyword")
        .with_columns(
            value=pl.col("value")
            .cast(pl.Float64, strict=False)
            .round(0)
            .cast(pl.Int64, strict=False)
        )
    )
    counts[r.MISSING_VALUE] = int(long["value"].is_null().sum())
    out = long.filter(pl.col("value").is_not_null()).select(
        date=pl.col("timestamp").dt.date(),
        area=pl.lit(AREA),
        candidate_id=pl.col("keyword").replace_strict(ids, return_dtype=pl.String),
        keyword=pl.col("keyword"),
        timestamp=pl.col("timestamp").cast(UTC_TS),
        value=pl.col("value"),
        is_partial=pl.col("is_partial"),
        collected_at=pl.col("timestamp").cast(UTC_TS),
        source=pl.lit(SOURCE),
    )
    return TRENDS["interest_over_time"].conform(out), +counts
