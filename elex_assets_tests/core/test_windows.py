from datetime import UTC, date, datetime, timedelta

from elex_assets.core.windows import day_window, parse_utc

LAG = timedelta(seconds=30)


def test_today_stops_the_lag_before_now_in_whole_seconds():
    now = datetime(2026, 12, 1, 10, 0, 0, 700_000, tzinfo=UTC)
    start, end = day_window(date(2026, 12, 1), now, LAG)
    assert start == datetime(2026, 12, 1, tzinfo=UTC)
    assert end == datetime(2026, 12, 1, 9, 59, 30, tzinfo=UTC)


def test_a_past_day_is_whole_and_a_day_not_yet_under_way_is_empty():
    now = datetime(2026, 12, 1, 0, 1, tzinfo=UTC)
    assert day_window(date(2026, 11, 30), now, LAG) == (
        datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    just_after_midnight = datetime(2026, 12, 1, 0, 0, 10, tzinfo=UTC)
    start, end = day_window(date(2026, 12, 1), just_after_midnight, LAG)
    assert end <= start
    assert day_window(date(2026, 11, 30), just_after_midnight, LAG)[1] == datetime(
        2026, 11, 30, 23, 59, 40, tzinfo=UTC)


def test_parse_utc_reads_z_offsets_and_naive_times_and_refuses_garbage():
    assert parse_utc("2026-12-01T10:00:00.123Z") == datetime(2026, 12, 1, 10, 0, 0, 123_000,
                                                             tzinfo=UTC)
    assert parse_utc("2026-12-01T11:00:00+01:00") == datetime(2026, 12, 1, 10, tzinfo=UTC)
    assert parse_utc("2026-12-01T10:00:00") == datetime(2026, 12, 1, 10, tzinfo=UTC)
    assert parse_utc("yesterday") is None
    assert parse_utc(None) is None


def test_the_windows_of_today_and_yesterday_at_each_awkward_instant(calendar_now):
    """The window of the instant's UTC day (not Paris's) stops the lag before it;
    yesterday's is whole; the freshness day is yesterday within the deadline after midnight."""
    from elex_assets.core.quality import current_day

    now = calendar_now
    today = calendar_now.date()
    start, end = day_window(today, now, LAG)
    assert start == datetime(today.year, today.month, today.day, tzinfo=UTC)
    assert end == min(start + timedelta(days=1), (now - LAG).replace(microsecond=0))
    assert (end > start) == (now - start >= LAG)
    y_start, y_end = day_window(today - timedelta(days=1), now, LAG)
    assert (y_start, y_end) == (start - timedelta(days=1), start)
    deadline = timedelta(minutes=30)
    assert current_day(now, deadline) == (today - timedelta(days=1) if now - start < deadline
                                          else today)
