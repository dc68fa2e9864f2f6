"""The pageviews rules on hand-built days: each one fails on the fault it is there for."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl

from elex_assets.core.schemas import WIKI_PAGEVIEWS
from elex_assets.core.wiki import quality as wq

DAY = date(2027, 3, 1)
AT = datetime(2027, 3, 2, 6, tzinfo=UTC)


def frame(rows: list[tuple[str, str, int, bool]], day: date = DAY) -> pl.DataFrame:
    return pl.DataFrame(
        [(day, c, p, f"T_{c}", v, "user", "all-access", z, AT) for c, p, v, z in rows],
        schema=WIKI_PAGEVIEWS.polars, orient="row")


GOOD = frame([("a", "fr.wikipedia", 10, False), ("a", "en.wikipedia", 0, True),
              ("b", "fr.wikipedia", 5, False)])
ACC = {"targets": 3, "answered": 2, "zero_filled": 1, "rows": 3}


def test_a_good_day_passes_every_rule() -> None:
    assert wq.one_row_per_article(GOOD).passed and wq.rows_on_day(GOOD, DAY).passed
    assert wq.views_are_counts(GOOD).passed and wq.accounted(GOOD, ACC).passed
    assert wq.articles_present(GOOD, [("a", "fr.wikipedia"), ("a", "en.wikipedia"),
                                      ("b", "fr.wikipedia")]).passed


def test_each_fault_fails_its_rule() -> None:
    twice = pl.concat([GOOD, GOOD.head(1)])
    assert not wq.one_row_per_article(twice).passed
    assert not wq.rows_on_day(pl.concat([GOOD, frame([("c", "fr.wikipedia", 1, False)],
                                                     DAY + timedelta(days=1))]), DAY).passed
    assert not wq.views_are_counts(frame([("a", "fr.wikipedia", -1, False)])).passed
    missing = wq.articles_present(GOOD, [("b", "en.wikipedia")])
    assert not missing.passed and "b en.wikipedia" in missing.description
    lost = wq.accounted(GOOD.head(2), ACC)  # a row lost after the accounting was written
    assert not lost.passed and "holds 2 rows" in lost.description
    unflagged = wq.accounted(GOOD.with_columns(zero_filled=pl.lit(False)), ACC)
    assert not unflagged.passed and "0 rows flagged" in unflagged.description
    assert not wq.accounted(GOOD, {**ACC, "answered": 1}).passed
    assert not wq.accounted(GOOD, None).passed
    assert wq.accounted(None, None).passed  # no file, nothing to account for


def test_the_day_due_is_the_warn_window_after_it_ends() -> None:
    lag = timedelta(hours=36)
    assert wq.expected_day(datetime(2027, 3, 3, 12, tzinfo=UTC), lag) == date(2027, 3, 1)
    assert wq.expected_day(datetime(2027, 3, 3, 11, 59, tzinfo=UTC), lag) == date(2027, 2, 28)


def test_a_range_passes_only_when_every_day_does_and_names_the_failing_days() -> None:
    from elex_assets.monitoring.content import combine

    ok = wq.accounted(GOOD, ACC)
    bad = wq.accounted(GOOD.head(2), ACC)
    assert combine({"2027-03-01": ok, "2027-03-02": ok}).description == "all 2 days pass"
    verdict = combine({"2027-03-01": ok, "2027-03-02": bad})
    assert not verdict.passed and verdict.description.startswith("1 of 2 days fail: 2027-03-02:")
    assert combine({"2027-03-01": bad}) is bad  # one partition: its own verdict
