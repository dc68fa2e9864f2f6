"""Data-quality checks on the clean tables: pure polars, no Dagster.

Each check takes a day's table (every ``*.parquet`` of the partition, read by the
caller) and returns a small :class:`CheckOutcome` that the Dagster asset checks
turn into ``AssetCheckResult``s. Keeping them here means the rules can be unit
tested on hand-built frames and reused by the demo's summary.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl

from elex_assets.core.lake import Lake
from elex_assets.core.layout import clean_bsky_prefix, clean_trends_prefix, clean_tweets_prefix

INTEREST_MIN = 0
INTEREST_MAX = 100
SAMPLE = 5  # offending values quoted in a description


@dataclass(frozen=True)
class CheckOutcome:
    """The verdict of one check on one partition: what a user reads in the UI or an alert."""

    passed: bool
    description: str
    metadata: dict[str, Any] = field(default_factory=dict)


def read_day(lake: Lake, prefix: str, schema: pl.Schema | None = None) -> pl.DataFrame:
    """Every ``*.parquet`` under ``prefix`` (live and archived files) as one frame.

    An absent partition reads as an empty frame (with ``schema`` when given), so
    the checks can say "no rows" rather than fail on a missing file.
    """
    keys = sorted(k for k in lake.list(prefix) if k.endswith(".parquet"))
    if not keys:
        return pl.DataFrame(schema=schema) if schema is not None else pl.DataFrame()
    return pl.concat([lake.read_parquet(k) for k in keys], how="diagonal_relaxed")


def read_tweets_day(lake: Lake, day: date, schema: pl.Schema | None = None) -> pl.DataFrame:
    return read_day(lake, clean_tweets_prefix(day), schema)


def read_trends_day(
    lake: Lake, kind: str, area: str, day: date, schema: pl.Schema | None = None
) -> pl.DataFrame:
    return read_day(lake, clean_trends_prefix(kind, area, day), schema)


def _sample(values: Iterable[Any]) -> str:
    items = [str(v) for v in values]
    more = f" (+{len(items) - SAMPLE} more)" if len(items) > SAMPLE else ""
    return ", ".join(items[:SAMPLE]) + more


def no_duplicate_ids(df: pl.DataFrame, column: str = "id") -> CheckOutcome:
    """Post ids are unique within a day (null ids of legacy rows are ignored)."""
    if column not in df.columns:
        return CheckOutcome(False, f"column {column!r} is missing", {"rows": df.height})
    ids = df.get_column(column).drop_nulls()
    dupes = ids.filter(ids.is_duplicated()).unique().sort()
    if dupes.len():
        return CheckOutcome(
            False,
            f"{dupes.len()} duplicated {column} value(s): {_sample(dupes.to_list())}",
            {"rows": df.height, "duplicated_ids": dupes.len()},
        )
    return CheckOutcome(True, f"{ids.len()} ids, all unique", {"rows": df.height})


def required_not_null(df: pl.DataFrame, required: Sequence[str]) -> CheckOutcome:
    """Every column the schema marks required is present and has no null."""
    missing = [c for c in required if c not in df.columns]
    if missing:
        return CheckOutcome(
            False, f"required column(s) missing: {', '.join(missing)}", {"rows": df.height}
        )
    nulls = {c: int(df.get_column(c).null_count()) for c in required}
    bad = {c: n for c, n in nulls.items() if n}
    if bad:
        text = ", ".join(f"{c} ({n} null)" for c, n in bad.items())
        return CheckOutcome(
            False, f"nulls in required column(s): {text}", {"rows": df.height, **_prefix(bad)}
        )
    return CheckOutcome(True, f"{len(required)} required columns complete", {"rows": df.height})


def _prefix(nulls: dict[str, int]) -> dict[str, int]:
    return {f"nulls_{c}": n for c, n in nulls.items()}


def posts_present(
    df: pl.DataFrame,
    day: date,
    now: datetime,
    campaign: tuple[date, date],
    quiet_hours: float,
) -> CheckOutcome:
    """A campaign day with zero posts is a collection failure.

    The current day is given ``quiet_hours`` of grace from midnight UTC (nights
    can be quiet, and the first run of the day may not have landed yet); a past
    day has no grace. Days outside the campaign window are not judged.
    """
    rows = df.height
    start, end = campaign
    if not start <= day <= end:
        return CheckOutcome(True, f"{day} is outside the campaign: not judged", {"rows": rows})
    if rows:
        return CheckOutcome(True, f"{rows} posts on {day}", {"rows": rows})
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    elapsed = now - midnight
    if elapsed < timedelta(hours=quiet_hours):
        return CheckOutcome(
            True,
            f"no posts yet on {day}, within the {quiet_hours:g} h quiet-hours tolerance",
            {"rows": 0},
        )
    hours = elapsed.total_seconds() / 3600
    return CheckOutcome(
        False,
        f"zero posts on campaign day {day} after {hours:.1f} h (tolerance {quiet_hours:g} h)",
        {"rows": 0},
    )


def candidates_present(
    df: pl.DataFrame, expected: Iterable[str], column: str = "candidate_id"
) -> CheckOutcome:
    """Every selected candidate has at least one row in the partition."""
    expected = sorted(set(expected))
    found = set(df.get_column(column).drop_nulls().to_list()) if column in df.columns else set()
    missing = [c for c in expected if c not in found]
    meta = {"rows": df.height, "expected": len(expected), "missing": len(missing)}
    if missing:
        return CheckOutcome(False, f"{len(missing)} candidate(s) absent: {_sample(missing)}", meta)
    return CheckOutcome(True, f"all {len(expected)} candidates present", meta)


def interest_in_range(
    df: pl.DataFrame,
    column: str = "value",
    low: int = INTEREST_MIN,
    high: int = INTEREST_MAX,
    where: pl.Expr | None = None,
) -> CheckOutcome:
    """Google's interest values are scaled 0-100; anything else is a parsing bug.

    ``where`` restricts the rows judged (related lists: only ``top`` values are
    0-100; ``rising`` ones are percentage increases).
    """
    if column not in df.columns:
        return CheckOutcome(False, f"column {column!r} is missing", {"rows": df.height})
    rows = df.filter(where) if where is not None else df
    values = rows.get_column(column).drop_nulls()
    bad = values.filter((values < low) | (values > high))
    meta = {"rows": df.height, "judged": values.len(), "out_of_range": bad.len()}
    if bad.len():
        return CheckOutcome(
            False,
            f"{bad.len()} {column} value(s) outside {low}-{high}: "
            f"{_sample(bad.unique().sort().to_list())}",
            meta,
        )
    return CheckOutcome(True, f"{values.len()} {column} values within {low}-{high}", meta)


def partition_recent(
    day: date,
    last_update: datetime | None,
    latest_any: datetime | None,
    now: datetime,
    max_age: timedelta,
) -> CheckOutcome:
    """The day's partition exists and was updated within ``max_age``.

    Ages are full ``timedelta``s: a silence of several days is several days, not
    the ``.seconds`` remainder the original watcher compared.
    """
    if last_update is None:
        meta: dict[str, Any] = {"partition": day.isoformat()}
        if latest_any is None:
            return CheckOutcome(False, f"partition {day} missing: asset never materialised", meta)
        silence = now - latest_any
        meta["silent_hours"] = round(silence.total_seconds() / 3600, 2)
        return CheckOutcome(
            False,
            f"partition {day} missing; last materialisation of any partition "
            f"{latest_any:%Y-%m-%d %H:%M} UTC, {_age(silence)} ago",
            meta,
        )
    age = now - last_update
    meta = {
        "partition": day.isoformat(),
        "last_update": last_update.isoformat(),
        "age_minutes": round(age.total_seconds() / 60, 1),
        "max_age_minutes": round(max_age.total_seconds() / 60, 1),
    }
    if age > max_age:
        return CheckOutcome(
            False,
            f"partition {day} last updated {_age(age)} ago "
            f"({last_update:%Y-%m-%d %H:%M} UTC), more than {_age(max_age)}",
            meta,
        )
    return CheckOutcome(True, f"partition {day} updated {_age(age)} ago", meta)


def _age(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [f"{days} d"] if days else []
    if hours:
        parts.append(f"{hours} h")
    if minutes or not parts:
        parts.append(f"{minutes} min")
    return " ".join(parts)


def current_day(now: datetime, deadline: timedelta) -> date:
    """The daily partition that must be fresh at ``now``.

    Until ``deadline`` after midnight UTC it is yesterday's (today's first run
    may not have landed); afterwards it is today's.
    """
    now = now.astimezone(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return (now - timedelta(days=1)).date() if now - midnight < deadline else now.date()


def read_bsky_day(lake: Lake, day: date, schema: pl.Schema | None = None) -> pl.DataFrame:
    return read_day(lake, clean_bsky_prefix(day), schema)


def within_day(
    df: pl.DataFrame, day: date, columns: Sequence[str], id_column: str = "id"
) -> CheckOutcome:
    """Every row is on the partition's UTC day by at least one of ``columns``.

    Bluesky places a post by the earlier of its creation and indexing times, so a post
    is on its day when either is; a row on neither belongs to another partition.
    """
    missing = [c for c in (*columns, id_column) if c not in df.columns]
    if missing:
        return CheckOutcome(False, f"column(s) missing: {', '.join(missing)}", {"rows": df.height})
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    on_day = pl.any_horizontal(
        pl.col(c).is_between(pl.lit(start), pl.lit(start + timedelta(days=1)), closed="left")
        .fill_null(False)
        for c in columns
    )
    outside = df.filter(~on_day)
    meta = {"rows": df.height, "outside_day": outside.height}
    if outside.height:
        return CheckOutcome(
            False,
            f"{outside.height} row(s) not on {day} by {' or '.join(columns)}: "
            f"{_sample(outside.get_column(id_column).to_list())}",
            meta,
        )
    return CheckOutcome(True, f"{df.height} rows on {day}", meta)


def candidates_known(
    df: pl.DataFrame, known: Iterable[str], column: str = "candidates"
) -> CheckOutcome:
    """Every candidate id a row names is a candidate of the registry (a list column)."""
    if column not in df.columns:
        return CheckOutcome(False, f"column {column!r} is missing", {"rows": df.height})
    named = df.get_column(column).explode().drop_nulls().unique().sort()
    unknown = [c for c in named.to_list() if c not in set(known)]
    meta = {"rows": df.height, "candidates_named": named.len(), "unknown": len(unknown)}
    if unknown:
        return CheckOutcome(
            False, f"{len(unknown)} id(s) not in the registry: {_sample(unknown)}", meta
        )
    return CheckOutcome(True, f"{named.len()} candidates named, all in the registry", meta)


def rows_name_a_candidate(
    df: pl.DataFrame, where: pl.Expr | None = None, column: str = "candidates",
    id_column: str = "id",
) -> CheckOutcome:
    """Every row (``where`` it applies) names at least one candidate."""
    if column not in df.columns:
        return CheckOutcome(False, f"column {column!r} is missing", {"rows": df.height})
    judged = df.filter(where) if where is not None else df
    unnamed = judged.filter(pl.col(column).list.len().fill_null(0) == 0)
    meta = {"rows": df.height, "judged": judged.height, "unnamed": unnamed.height}
    if unnamed.height:
        return CheckOutcome(
            False,
            f"{unnamed.height} of {judged.height} post(s) name no candidate: "
            f"{_sample(unnamed.get_column(id_column).to_list())}",
            meta,
        )
    return CheckOutcome(True, f"all {judged.height} posts name a candidate", meta)
