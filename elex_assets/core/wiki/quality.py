"""Rules on a day of ``wiki_pageviews`` (pure polars): the content and accounting checks.

The accounting of a day's file (``DayAccounting`` in its parquet metadata, key
``elex_accounting``) says how many articles were asked, how many rows came from
Wikimedia's answers and how many were filled with 0; the check re-counts the
file's rows and flags on its own and compares.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime, timedelta

import polars as pl

from elex_assets.core.lake import Lake
from elex_assets.core.layout import clean_wiki_key, clean_wiki_prefix
from elex_assets.core.quality import CheckOutcome, _sample, read_day
from elex_assets.core.x.accounting import ACCOUNTING_KEY


def read_wiki_day(lake: Lake, day: date, schema: pl.Schema | None = None) -> pl.DataFrame:
    return read_day(lake, clean_wiki_prefix(day), schema)


def one_row_per_article(df: pl.DataFrame) -> CheckOutcome:
    """A candidate has one row per project (and day)."""
    dup = df.group_by("day", "candidate_id", "project").len().filter(pl.col("len") > 1)
    meta = {"rows": df.height, "duplicated": dup.height}
    if dup.height:
        pairs = [f"{c} {p}" for c, p in dup.select("candidate_id", "project").iter_rows()]
        return CheckOutcome(False, f"{dup.height} candidate/project pair(s) appear more than "
                            f"once: {_sample(pairs)}", meta)
    return CheckOutcome(True, f"{df.height} rows, one per candidate and project", meta)


def rows_on_day(df: pl.DataFrame, day: date) -> CheckOutcome:
    outside = df.filter(pl.col("day") != day)
    meta = {"rows": df.height, "outside_day": outside.height}
    if outside.height:
        return CheckOutcome(False, f"{outside.height} row(s) of another day: "
                            f"{_sample(sorted(set(outside['day'].to_list())))}", meta)
    return CheckOutcome(True, f"{df.height} rows on {day}", meta)


def views_are_counts(df: pl.DataFrame) -> CheckOutcome:
    bad = df.filter(pl.col("views").is_null() | (pl.col("views") < 0))
    meta = {"rows": df.height, "bad_views": bad.height}
    if bad.height:
        return CheckOutcome(False, f"{bad.height} row(s) without a view count >= 0", meta)
    return CheckOutcome(True, f"{df.height} view counts >= 0", meta)


def articles_present(df: pl.DataFrame, expected: Iterable[tuple[str, str]]) -> CheckOutcome:
    """Every (candidate, project) the registry asks for has its row."""
    expected = sorted(set(expected))
    found = set(df.select("candidate_id", "project").iter_rows()) if df.height else set()
    missing = [f"{c} {p}" for c, p in expected if (c, p) not in found]
    meta = {"rows": df.height, "expected": len(expected), "missing": len(missing)}
    if missing:
        return CheckOutcome(False, f"{len(missing)} article(s) absent: {_sample(missing)}", meta)
    return CheckOutcome(True, f"all {len(expected)} articles present", meta)


def articles_answered(df: pl.DataFrame) -> CheckOutcome:
    """Rows Wikimedia sent nothing for (filled with 0): a wrong title or a redirect looks so."""
    filled = df.filter(pl.col("zero_filled"))
    meta = {"rows": df.height, "zero_filled": filled.height}
    if filled.height:
        names = [f"{c} {p} {a}" for c, p, a in
                 filled.select("candidate_id", "project", "article").iter_rows()]
        return CheckOutcome(False, f"{filled.height} article(s) with no views recorded by "
                            f"Wikimedia that day (0 stored): {_sample(names)}; check the "
                            "title is the article itself, not a redirect", meta)
    return CheckOutcome(True, f"all {df.height} articles had views", meta)


def read_accounting(lake: Lake, day: date) -> tuple[pl.DataFrame | None, dict | None]:
    key = clean_wiki_key(day)
    if not lake.exists(key):
        return None, None
    with lake.local_copy(key) as path:
        frame = pl.read_parquet(path)
        raw = pl.read_parquet_metadata(path).get(ACCOUNTING_KEY)
    return frame, json.loads(raw) if raw else None


def accounted(frame: pl.DataFrame | None, acc: dict | None) -> CheckOutcome:
    """Each article asked is a row, from an answer or filled with 0, and the file says so."""
    if frame is None:
        return CheckOutcome(True, "no file for the day: nothing to account for", {"rows": 0})
    if acc is None:
        return CheckOutcome(False, "the file carries no accounting: re-materialise the day",
                            {"rows": frame.height})
    filled = int(frame["zero_filled"].sum()) if frame.height else 0
    meta = {"rows": frame.height, **{f"stored_{k}": v for k, v in acc.items()},
            "zero_filled_rows": filled}
    problems = []
    if acc["targets"] != acc["answered"] + acc["zero_filled"]:
        problems.append(f"{acc['targets']} articles asked but {acc['answered']} answered + "
                        f"{acc['zero_filled']} filled")
    if frame.height != acc["rows"]:
        problems.append(f"the file holds {frame.height} rows, its accounting {acc['rows']}")
    if filled != acc["zero_filled"]:
        problems.append(f"{filled} rows flagged zero_filled, accounting says {acc['zero_filled']}")
    if problems:
        return CheckOutcome(False, "; ".join(problems), meta)
    return CheckOutcome(True, f"{acc['targets']} articles: {acc['answered']} from Wikimedia's "
                        f"answers, {acc['zero_filled']} filled with 0", meta)


def expected_day(now: datetime, lag: timedelta) -> date:
    """The latest day whose pageviews must have landed by ``now``: a day is expected
    ``lag`` after it ends (UTC)."""
    return (now - lag).date() - timedelta(days=1)
