"""A scale on which candidates asked in different Trends requests can be compared.

Google scales every request 0-100 on its own largest value, so two requests
do not share a unit. Every batch therefore carries the same anchor term
(at most 5 terms a request, the anchor included), and each batch is rescaled
onto the anchor: ``value_comparable = 100 * value / mean(anchor's values in
that batch)``. The anchor's true volume is the same in every batch, so the
unit becomes "the anchor's average interest over the window" everywhere, and
ratios between candidates of different batches are preserved up to Google's
integer rounding. Averaging the anchor over the whole window keeps that
rounding error small.
"""

from __future__ import annotations

import polars as pl

MAX_TERMS = 5  # Google Trends compares at most five terms a request


def make_batches(terms: list[str], anchor: str, size: int = MAX_TERMS) -> list[list[str]]:
    """Split terms into requests of at most ``size`` terms, the anchor first in each.

    Duplicates (and the anchor itself, when it is also a term) are asked once.
    """
    if not anchor.strip():
        raise ValueError("the Trends anchor term must not be empty")
    if not 2 <= size <= MAX_TERMS:
        raise ValueError(f"a batch holds 2 to {MAX_TERMS} terms (anchor included), not {size}")
    seen = {anchor.casefold()}
    unique = []
    for term in terms:
        if term.casefold() not in seen:
            seen.add(term.casefold())
            unique.append(term)
    per_batch = size - 1
    chunks = [unique[i : i + per_batch] for i in range(0, len(unique), per_batch)]
    return [[anchor, *chunk] for chunk in chunks] or [[anchor]]


def rescale_on_anchor(series: pl.DataFrame, anchor: str) -> pl.DataFrame:
    """Add ``value_comparable`` to a long table of ``batch, keyword, timestamp, value``.

    A batch where the anchor is 0 throughout (dwarfed by the other terms) has
    no usable unit: its ``value_comparable`` is null rather than a guess.
    """
    anchor_mean = (
        series.filter(pl.col("keyword") == anchor)
        .group_by("batch")
        .agg(pl.col("value").cast(pl.Float64).mean().alias("_anchor_mean"))
    )
    return (
        series.join(anchor_mean, on="batch", how="left")
        .with_columns(
            pl.when(pl.col("_anchor_mean") > 0)
            .then(100.0 * pl.col("value") / pl.col("_anchor_mean"))
            .otherwise(None)
            .alias("value_comparable")
        )
        .drop("_anchor_mean")
    )
