"""Official-backend days landed with their revisions, never overwritten silently.

Google revises recent days (the last buckets stay ``isPartial`` for a few days,
and testers see the same past week differ by about 10% between fetches). Each
fetch of a day is compared with the newest revision kept for it: rows that are
new or differ (``value``, ``search_interest_share``, ``is_partial``) are appended
to ``clean/trends_revisions/<kind>/area=…/date=…`` with their ``collected_at``;
the clean table (``clean/trends_<kind>/…/part-0.parquet``, what exports read)
holds the newest revision of every row. Revisions are written before the clean
file, each write whole, so a crash leaves the previous state readable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from elex_assets.core.lake import Lake
from elex_assets.core.layout import clean_trends_key, trends_revisions_key
from elex_assets.core.schemas import TRENDS

ROW_KEYS = {"interest_over_time": ["candidate_id", "timestamp"],
            "interest_by_region": ["candidate_id", "geo_code"]}
MEASURES = ["value", "search_interest_share", "is_partial"]


@dataclass(frozen=True)
class Landed:
    day: date
    rows: int
    new_revisions: int  # rows appended to the revisions table (first fetch included)
    revised: int  # of which rows that changed a value landed before


def _measures(kind: str) -> list[str]:
    return [m for m in MEASURES if m in TRENDS[kind].names]


def land_day(lake: Lake, kind: str, area: str, day: date, fetched: pl.DataFrame) -> Landed:
    """Land ``fetched`` (one day's official rows) as the newest revision of that day."""
    schema = TRENDS[kind]
    keys, measures = ROW_KEYS[kind], _measures(kind)
    clean_key, rev_key = clean_trends_key(kind, area, day), trends_revisions_key(kind, area, day)
    fetched = schema.conform(fetched)
    landed = schema.conform(lake.read_parquet(clean_key)) if lake.exists(clean_key) else None
    if lake.exists(rev_key):
        history = schema.conform(lake.read_parquet(rev_key))
    elif landed is not None:  # landed before revisions were kept: its rows are the first
        history = landed.filter(pl.col("backend") == "official")
    else:
        history = schema.empty()
    newest = history.sort("collected_at").unique(subset=keys, keep="last")
    compared = fetched.join(
        newest.select([*keys, *[pl.col(m).alias(f"{m}_kept") for m in measures]]),
        on=keys, how="left", nulls_equal=True,
    )
    differs = pl.any_horizontal(
        [pl.col(m).ne_missing(pl.col(f"{m}_kept")) for m in measures]
    )
    changed = compared.filter(differs).select(schema.names)
    revised = 0
    if newest.height and changed.height:
        revised = changed.join(newest.select(keys), on=keys, how="semi").height
    if changed.height:
        lake.write_parquet(rev_key, pl.concat([history, changed], how="vertical"))
    # newest revision of every row: the fetch, plus rows landed before that it does not hold
    kept = landed.join(fetched.select(keys), on=keys, how="anti") if landed is not None else None
    table = pl.concat([kept, fetched], how="vertical") if kept is not None else fetched
    lake.write_parquet(clean_key, table.sort(keys))
    return Landed(day, fetched.height, changed.height, revised)
