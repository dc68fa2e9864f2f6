"""Official-backend days keep every distinct revision; the clean table holds the newest."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl

from elex_assets.core.lake import Lake
from elex_assets.core.layout import clean_trends_key, trends_revisions_key
from elex_assets.core.schemas import TRENDS
from elex_assets.core.trends.revisions import land_day

DAY = date(2026, 11, 17)
KIND = "interest_over_time"


def fetch(at: int, shares: dict[str, float], partial: bool = False) -> pl.DataFrame:
    rows = pl.DataFrame({
        "candidate_id": list(shares), "keyword": list(shares),
        "timestamp": [datetime(2026, 11, 17, tzinfo=UTC)] * len(shares),
        "value": [int(v / 1000) for v in shares.values()],
        "search_interest_share": list(shares.values()),
        "is_partial": [partial] * len(shares),
        "collected_at": [datetime(2026, 11, 20, at, tzinfo=UTC)] * len(shares),
    }).with_columns(pl.lit(DAY).alias("date"), pl.lit("fr").alias("area"),
                    pl.lit("official").alias("backend"))
    return TRENDS[KIND].conform(rows)


def test_an_identical_refetch_adds_no_revision_a_different_one_does(tmp_path) -> None:
    lake = Lake.from_url(str(tmp_path))
    first = land_day(lake, KIND, "fr", DAY, fetch(1, {"a": 81000.0, "b": 12000.0}, True))
    assert (first.new_revisions, first.revised) == (2, 0)
    same = land_day(lake, KIND, "fr", DAY, fetch(2, {"a": 81000.0, "b": 12000.0}, True))
    assert (same.new_revisions, same.revised) == (0, 0)
    final = land_day(lake, KIND, "fr", DAY, fetch(3, {"a": 89000.0, "b": 12000.0}, False))
    assert (final.new_revisions, final.revised) == (2, 2)  # a's value and both partial flags

    clean = lake.read_parquet(clean_trends_key(KIND, "fr", DAY)).sort("candidate_id")
    assert clean["search_interest_share"].to_list() == [89000.0, 12000.0]  # the newest
    assert not clean["is_partial"].any()
    history = lake.read_parquet(trends_revisions_key(KIND, "fr", DAY))
    a = history.filter(pl.col("candidate_id") == "a").sort("collected_at")
    assert a["search_interest_share"].to_list() == [81000.0, 89000.0]
    assert [t.hour for t in a["collected_at"]] == [1, 3]


def test_a_refetch_missing_a_candidate_keeps_its_landed_row(tmp_path) -> None:
    lake = Lake.from_url(str(tmp_path))
    land_day(lake, KIND, "fr", DAY, fetch(1, {"a": 81000.0, "b": 12000.0}))
    land_day(lake, KIND, "fr", DAY, fetch(2, {"a": 80000.0}))
    clean = lake.read_parquet(clean_trends_key(KIND, "fr", DAY)).sort("candidate_id")
    assert clean["search_interest_share"].to_list() == [80000.0, 12000.0]
