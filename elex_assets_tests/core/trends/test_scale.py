"""Anchor batching and rescaling; the comparable scale checked against the sandbox truth."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from itertools import combinations

import polars as pl
import pytest

from elex_assets.core.registry import load_registry
from elex_assets.core.trends.client import Politeness, Transport, TrendsClient
from elex_assets.core.trends.collect import (
    anchored_series,
    candidate_terms,
    interest_over_time,
)
from elex_assets.core.trends.scale import make_batches, rescale_on_anchor
from elex_assets.sandbox.trends_server import TrendsSandbox
from elex_assets_tests.clock import NOW

ANCHOR = "Emmanuel Macron"


def test_batches_hold_the_anchor_and_at_most_five_terms() -> None:
    terms = [f"t{i}" for i in range(10)] + ["t3", "emmanuel macron"]
    batches = make_batches(terms, ANCHOR)
    assert all(b[0] == ANCHOR and len(b) <= 5 for b in batches)
    asked = [t for b in batches for t in b[1:]]
    assert asked == [f"t{i}" for i in range(10)]  # each once, the anchor never twice
    assert len(batches) == 3
    assert make_batches([], ANCHOR) == [[ANCHOR]]
    with pytest.raises(ValueError, match="anchor"):
        make_batches(["a"], " ")
    with pytest.raises(ValueError, match="2 to 5"):
        make_batches(["a"], ANCHOR, size=6)


def test_rescale_divides_by_the_anchor_mean_of_each_batch() -> None:
    series = pl.DataFrame(
        {
            "batch": [0, 0, 0, 0, 1, 1, 1, 1],
            "keyword": ["A", "A", "x", "x", "A", "A", "y", "y"],
            "value": [10, 30, 100, 50, 50, 50, 100, 0],
        }
    )
    out = rescale_on_anchor(series, "A")
    assert out.filter(pl.col("keyword") == "x")["value_comparable"].to_list() == [500.0, 250.0]
    assert out.filter(pl.col("keyword") == "y")["value_comparable"].to_list() == [200.0, 0.0]
    dwarfed = rescale_on_anchor(series.with_columns(pl.lit(0).alias("value")), "A")
    assert dwarfed["value_comparable"].null_count() == dwarfed.height


def _bounds(values: list[int], anchor_values: list[int]) -> tuple[float, float]:
    """Range of true volume / true anchor volume that these rounded integers allow."""
    n = len(values)
    s, a = sum(values), sum(anchor_values)
    return max(s - 0.5 * n, 0.0) / (a + 0.5 * n), (s + 0.5 * n) / (a - 0.5 * n)


@pytest.mark.parametrize("area", ["fr", "world"])
def test_comparable_scale_recovers_true_ratios(
    trends_sandbox: TrendsSandbox, area, fixed_now: datetime
) -> None:
    # A fixed day: on it, in both areas, some pair of raw per-batch values misleads.
    day = (NOW - timedelta(days=2)).date()
    reg = load_registry("2027")
    terms = candidate_terms(reg.selected())
    transport = Transport(
        trends_sandbox.base_url, Politeness(min_interval=0), hl="fr-FR", rng=random.Random(0)
    )
    client = TrendsClient(area, transport)
    series = anchored_series(client, [t.keyword for t in terms], day, ANCHOR)
    assert series["batch"].n_unique() == 4  # 16 candidates, 4 a batch beside the anchor
    table = interest_over_time(client, terms, day, ANCHOR, fixed_now)
    assert set(table["candidate_id"]) == {t.candidate_id for t in terms}
    assert table["value_comparable"].null_count() == 0

    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    end = start + timedelta(days=1)
    true = {t.keyword: TrendsSandbox.true_volume(t.keyword, area, start, end) for t in terms}
    comparable = dict(
        series.group_by("keyword").agg(pl.col("value_comparable").sum()).iter_rows()
    )
    raw = dict(series.group_by("keyword").agg(pl.col("value").sum()).iter_rows())
    anchor_values = {
        batch: rows["value"].to_list()
        for (batch,), rows in series.filter(pl.col("keyword") == ANCHOR).group_by("batch")
    }
    bounds = {}
    for keyword in true:
        rows = series.filter(pl.col("keyword") == keyword)
        bounds[keyword] = _bounds(rows["value"].to_list(), anchor_values[rows["batch"][0]])

    naive_outside = 0
    for a, b in combinations(sorted(true), 2):
        truth = true[a] / true[b]
        recovered = comparable[a] / comparable[b]
        low = bounds[a][0] / bounds[b][1]
        high = bounds[a][1] / bounds[b][0]
        assert low <= truth <= high, (a, b, truth, low, high)
        assert low <= recovered <= high
        if not low <= raw[a] / raw[b] <= high:
            naive_outside += 1
    # Google's own per-request values are not comparable across batches.
    assert naive_outside > 0


def test_a_candidate_who_is_the_anchor_is_asked_once(
    trends_sandbox: TrendsSandbox, fixed_now: datetime
) -> None:
    """2022: Emmanuel Macron is both a candidate and the default anchor."""
    from elex_assets.core.trends.collect import Term

    day = (NOW - timedelta(days=2)).date()
    terms = [Term("macron", ANCHOR)] + [Term(f"c{i}", f"Candidate {i}") for i in range(5)]
    transport = Transport(trends_sandbox.base_url, Politeness(min_interval=0), hl="fr-FR")
    table = interest_over_time(TrendsClient("fr", transport), terms, day, ANCHOR, fixed_now)
    macron = table.filter(pl.col("candidate_id") == "macron")
    assert macron.height == 180 and set(macron["batch"]) == {0}
    assert macron["value_comparable"].mean() == pytest.approx(100.0)
    assert table.height == 6 * 180


@pytest.fixture
def popularity():
    """Fix keywords' popularity in the sandbox truth; undone after the test."""
    from elex_assets.sandbox import trends_data

    names: list[str] = []

    def fix(keyword: str, weight: float) -> None:
        names.append(keyword)
        trends_data.set_popularity(keyword, weight)

    yield fix
    for name in names:
        trends_data.set_popularity(name, None)


def test_a_chain_of_smaller_anchors_keeps_tiny_candidates_precise(
    trends_sandbox: TrendsSandbox, popularity, fixed_now: datetime
) -> None:
    """A candidate at 1/1000 of the anchor reads 0 beside it; beside a chained anchor it is
    within 10% of the truth (bench/trends_precision.py measures it over many days)."""
    from elex_assets.core.trends.collect import Term
    from elex_assets.sandbox import trends_data

    popularity("Big Anchor", 1000.0)
    popularity("Mid Anchor", 100.0)
    popularity("Small Anchor", 10.0)
    popularity("Tiny Candidate", 1.0)
    client = TrendsClient(
        "fr", Transport(base_url=trends_sandbox.base_url, politeness=Politeness(min_interval=0.0),
                        hl="fr-FR", rng=random.Random(0)),
    )
    day = (NOW - timedelta(days=40)).date()  # one daily point: the hard case
    truth = 100 * trends_data.day_volume("Tiny Candidate", "fr", day) / trends_data.day_volume(
        "Big Anchor", "fr", day
    )
    terms = [Term("tiny", "Tiny Candidate")]
    now = fixed_now
    alone = interest_over_time(client, terms, day, "Big Anchor", now)
    assert alone["value_comparable"].to_list() == [0.0]  # rounding ate it
    chained = interest_over_time(client, terms, day, "Big Anchor", now,
                                 smaller_anchors=["Mid Anchor", "Small Anchor"])
    assert chained["anchor"].to_list() == ["Small Anchor"]
    assert chained["value_comparable"][0] == pytest.approx(truth, rel=0.10)
