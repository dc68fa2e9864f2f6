"""One day of Google Trends for every candidate of an area, as the clean tables.

The four reports (docs/architecture.md, the `trends_*` assets), each conforming to ``schemas.TRENDS[kind]``:
interest over time (batched with the anchor and rescaled, see
:mod:`elex_assets.core.trends.scale`), and, with one-term payloads (Google
serves related topics only for those), interest by region and related
topics and queries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar

import polars as pl

from elex_assets.core.lake import Lake
from elex_assets.core.layout import clean_trends_key
from elex_assets.core.registry import Candidate
from elex_assets.core.schemas import TRENDS
from elex_assets.core.trends.client import TrendsClient, day_timeframe
from elex_assets.core.trends.official import OfficialClient
from elex_assets.core.trends.scale import make_batches, rescale_on_anchor


@dataclass(frozen=True)
class Term:
    """What is searched for a candidate: the full name, as people type it."""

    candidate_id: str
    keyword: str


def candidate_terms(candidates: Iterable[Candidate]) -> list[Term]:
    return [Term(c.id, c.name) for c in candidates]


def _terms_frame(terms: list[Term]) -> pl.DataFrame:
    return pl.DataFrame(
        {"candidate_id": [t.candidate_id for t in terms], "keyword": [t.keyword for t in terms]},
        schema={"candidate_id": pl.String, "keyword": pl.String},
    )


def _finish(kind: str, rows: pl.DataFrame, day: date, area: str, collected_at: datetime,
            sort: list[str]) -> pl.DataFrame:
    table = rows.with_columns(
        pl.lit(day, pl.Date).alias("date"),
        pl.lit(area).alias("area"),
        pl.lit(collected_at).cast(pl.Datetime("us", "UTC")).alias("collected_at"),
    )
    return TRENDS[kind].conform(table).sort(sort)


def anchored_series(
    client: TrendsClient, keywords: list[str], day: date, anchor: str, now: datetime | None = None
) -> pl.DataFrame:
    """Every keyword's series for the day, batched with the anchor and rescaled on it.

    The anchor's own rows are kept (one set per batch): they are the unit.
    """
    timeframe = day_timeframe(day, now)
    parts = []
    for number, batch in enumerate(make_batches(keywords, anchor)):
        series = client.interest_over_time(batch, timeframe)
        parts.append(series.with_columns(pl.lit(number, pl.Int64).alias("batch")))
    series = pl.concat(parts).filter(pl.col("timestamp").dt.date() == day)
    return rescale_on_anchor(series, anchor)


SMALL_VALUE = 10  # a term whose largest value is below this reads too coarsely (integers)


def chained_series(
    client: TrendsClient,
    keywords: list[str],
    day: date,
    anchors: list[str],
    now: datetime | None = None,
) -> pl.DataFrame:
    """``anchored_series`` on ``anchors[0]``, with small terms re-read on smaller anchors.

    Google returns integers scaled on the request's maximum: beside an anchor at
    100, a term at 1/100 of it reads 0 or 1. As gtab does (West, CIKM 2020),
    each smaller anchor ``anchors[k]`` is calibrated against the previous one in
    a two-term request, and the terms still below :data:`SMALL_VALUE` are asked
    again beside it; their ``value_comparable`` is converted back to the unit of
    ``anchors[0]`` through the chain of ratios. ``anchor`` says which anchor a
    row was read beside.
    """
    main = anchors[0]
    series = anchored_series(client, keywords, day, main, now).with_columns(
        pl.lit(main).alias("anchor")
    )
    timeframe = day_timeframe(day, now)
    unit = 1.0  # mean interest of the current anchor, in units of the main anchor's mean
    for upper, lower in zip(anchors, anchors[1:], strict=False):
        peaks = (
            series.filter(~pl.col("keyword").is_in(anchors))
            .group_by("keyword")
            .agg(pl.col("value").max().alias("peak"), pl.col("anchor").first())
        )
        small = peaks.filter((pl.col("peak") < SMALL_VALUE) & (pl.col("anchor") == upper))
        if small.height == 0:
            break
        pair = client.interest_over_time([upper, lower], timeframe)
        pair = pair.filter(pl.col("timestamp").dt.date() == day)
        means = dict(pair.group_by("keyword").agg(pl.col("value").cast(pl.Float64).mean()).iter_rows())
        if not means.get(upper) or not means.get(lower):
            break  # a chain link reads 0: no usable ratio, keep what we have
        unit *= means[lower] / means[upper]
        again = anchored_series(client, small["keyword"].to_list(), day, lower, now)
        again = again.filter(pl.col("keyword") != lower).with_columns(
            (pl.col("value_comparable") * unit).alias("value_comparable"),
            pl.lit(lower).alias("anchor"),
            pl.col("batch") + 1000 * (anchors.index(lower)),
        )
        series = pl.concat(
            [series.filter(~pl.col("keyword").is_in(again["keyword"].unique().implode())), again],
            how="vertical_relaxed",
        )
    return series


def interest_over_time(
    client: TrendsClient,
    terms: list[Term],
    day: date,
    anchor: str,
    collected_at: datetime,
    now: datetime | None = None,
    smaller_anchors: list[str] | None = None,
) -> pl.DataFrame:
    """Every candidate's interest during the day, comparable across candidates."""
    keywords = [t.keyword for t in terms]
    if smaller_anchors:
        series = chained_series(client, keywords, day, [anchor, *smaller_anchors], now)
    else:
        series = anchored_series(client, keywords, day, anchor, now).with_columns(
            pl.lit(anchor).alias("anchor")
        )
    # A candidate whose term is the anchor is read from the first batch only.
    series = series.filter((pl.col("keyword") != anchor) | (pl.col("batch") == 0))
    rows = series.join(_terms_frame(terms), on="keyword", how="inner").with_columns(
        pl.lit("web").alias("backend")
    )
    return _finish("interest_over_time", rows, day, client.area.code, collected_at,
                   ["candidate_id", "timestamp"])


When = TypeVar("When", str, date)  # what a request covers: a timeframe (web) or a day (official)


def _per_term(
    fetch: Callable[[str, When], pl.DataFrame], terms: list[Term], when: When
) -> pl.DataFrame:
    """``fetch`` once per distinct keyword, its rows joined to every term using it."""
    frames = [fetch(keyword, when) for keyword in dict.fromkeys(t.keyword for t in terms)]
    return pl.concat(frames).join(_terms_frame(terms), on="keyword", how="inner")


def interest_by_region(
    client: TrendsClient, terms: list[Term], day: date, collected_at: datetime,
    now: datetime | None = None,
) -> pl.DataFrame:
    rows = _per_term(client.interest_by_region, terms, day_timeframe(day, now)).with_columns(
        pl.lit("web").alias("backend")
    )
    return _finish("interest_by_region", rows, day, client.area.code, collected_at,
                   ["candidate_id", "geo_code"])


def related_topics(
    client: TrendsClient, terms: list[Term], day: date, collected_at: datetime,
    now: datetime | None = None,
) -> pl.DataFrame:
    rows = _per_term(client.related_topics, terms, day_timeframe(day, now))
    return _finish("related_topics", rows, day, client.area.code, collected_at,
                   ["candidate_id", "ranking", "rank"])


def related_queries(
    client: TrendsClient, terms: list[Term], day: date, collected_at: datetime,
    now: datetime | None = None,
) -> pl.DataFrame:
    rows = _per_term(client.related_queries, terms, day_timeframe(day, now))
    return _finish("related_queries", rows, day, client.area.code, collected_at,
                   ["candidate_id", "ranking", "rank"])


OFFICIAL_WINDOW_DAYS = 7  # one request per candidate covers the day and the 6 before it


def official_window(day: date, days: int = OFFICIAL_WINDOW_DAYS) -> tuple[date, date]:
    """The window a partition's official series request covers: ``day`` and the days before
    it, so the days Google still flags partial (or revises) are fetched again for free."""
    return day - timedelta(days=days - 1), day


def official_interest_over_time(
    client: OfficialClient, terms: list[Term], day: date, collected_at: datetime,
    window_days: int = OFFICIAL_WINDOW_DAYS,
) -> dict[date, pl.DataFrame]:
    """Official API: one DAY-resolution request per term over ``official_window(day)``.

    Returns the rows of every day the answers hold, by day (the partition's day may be
    absent: Google's data runs to about two days ago). ``value`` is
    ``scaledSearchInterest``, ``search_interest_share`` is ``searchInterest``;
    ``value_comparable`` (the web backend's anchor unit) stays null.
    """
    first, last = official_window(day, window_days)
    rows = _per_term(lambda kw, _: client.time_series(kw, first, last), terms, day)
    rows = rows.with_columns(
        pl.lit("official").alias("backend"),
        pl.col("timestamp").dt.date().alias("date"),
        pl.lit(client.area.code).alias("area"),
        pl.lit(collected_at).cast(pl.Datetime("us", "UTC")).alias("collected_at"),
    )
    out = {}
    for (when,), part in rows.partition_by("date", as_dict=True, maintain_order=True).items():
        out[when] = TRENDS["interest_over_time"].conform(part).sort(["candidate_id", "timestamp"])
    return out


def official_interest_by_region(
    client: OfficialClient, terms: list[Term], day: date, collected_at: datetime
) -> dict[date, pl.DataFrame]:
    """Official API: one geo breakdown per term over the day (``geo_name`` null: codes only)."""
    rows = _per_term(client.geo_breakdown, terms, day).with_columns(
        pl.lit("official").alias("backend")
    )
    return {day: _finish("interest_by_region", rows, day, client.area.code, collected_at,
                         ["candidate_id", "geo_code"])}


def days_with_partial_points(lake: Lake, area: str, days: Iterable[date]) -> list[date]:
    """Days whose landed interest over time still holds points Google flagged partial.

    A later run re-fetches them (the hourly schedule asks), until Google's data
    for the day is complete.
    """
    out = []
    for day in days:
        key = clean_trends_key("interest_over_time", area, day)
        if not lake.exists(key):
            continue
        flags = lake.read_parquet(key).get_column("is_partial")
        if bool(flags.fill_null(False).any()):
            out.append(day)
    return out
