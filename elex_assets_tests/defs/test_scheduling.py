from datetime import UTC, date, datetime, timedelta

import dagster as dg

from elex_assets.defs.scheduling import in_partitions, yesterday_within


def test_yesterday_is_refreshed_only_within_the_grace_after_midnight():
    grace = timedelta(minutes=15)
    assert yesterday_within(datetime(2027, 3, 1, 0, 14, 59, tzinfo=UTC), grace) == date(2027, 2, 28)
    assert yesterday_within(datetime(2027, 3, 1, 0, 15, tzinfo=UTC), grace) is None
    assert yesterday_within(datetime(2027, 3, 1, 12, 0, tzinfo=UTC), timedelta(hours=1)) is None


def test_requests_outside_the_partitions_are_dropped_and_none_left_is_a_skip():
    # (a time-window partition exists only once its day has begun: past days here)
    days = dg.DailyPartitionsDefinition(start_date="2026-03-01", end_date="2026-03-10")
    inside = dg.RunRequest(run_key="a", partition_key="2026-03-02")
    outside = dg.RunRequest(run_key="b", partition_key="2026-02-28")
    assert in_partitions(days, [outside, inside], date(2026, 3, 2)) == [inside]
    skipped = in_partitions(days, [outside], date(2026, 2, 28))
    assert isinstance(skipped, dg.SkipReason)
    assert skipped.skip_message == "2026-02-28 is outside the election's partitions"
