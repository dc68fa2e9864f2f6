"""The demo collects every partition its own freshness checks will judge."""

from datetime import UTC, date, datetime, timedelta

from elex_assets.cli.demo import demo_days
from elex_assets.core.quality import current_day

FIRST, LAST = date(2026, 9, 1), date(2027, 5, 9)


def test_just_after_midnight_the_judged_day_is_collected() -> None:
    # Tuesday 00:30 UTC: the freshness checks judge Monday, which is not in the last
    # complete ISO week (a demo run then failed six partition_fresh checks).
    now = datetime(2026, 12, 1, 0, 30, tzinfo=UTC)
    week, days = demo_days(now.date(), FIRST, LAST)
    assert week[0] == date(2026, 11, 23) and week[-1] == date(2026, 11, 29)
    assert current_day(now, timedelta(minutes=60)) in days
    assert days[-2:] == [date(2026, 11, 30), date(2026, 12, 1)]


def test_monday_adds_no_day_twice() -> None:
    week, days = demo_days(date(2026, 11, 30), FIRST, LAST)
    assert days == [*week, date(2026, 11, 30)]


def test_days_outside_the_campaign_are_not_collected() -> None:
    week, days = demo_days(date(2027, 5, 11), FIRST, LAST)
    assert days == week
