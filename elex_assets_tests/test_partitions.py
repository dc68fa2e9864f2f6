"""Partition key codecs: what they build is what Dagster's partitions list, and back."""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg
import pytest

from elex_assets.core.registry import load_registry
from elex_assets.partitions import (
    daily_partitions,
    day_area_key,
    day_area_of,
    day_key,
    day_of,
    is_day_area_key,
    trends_partitions,
    week_key,
    week_of,
    weekly_partitions,
)

ELECTION = load_registry("2027").election
DAY = date(2026, 11, 20)  # a Friday of the 2027 campaign


def test_day_keys_are_the_daily_partitions() -> None:
    assert daily_partitions(ELECTION).has_partition_key(day_key(DAY))
    assert day_of(day_key(DAY)) == DAY
    with pytest.raises(ValueError, match="'fr|2026-11-20'"):
        day_of("fr|2026-11-20")


def test_day_area_keys_are_the_trends_partitions() -> None:
    keys = trends_partitions(ELECTION).get_partition_keys()
    for area in ("fr", "world"):
        key = day_area_key(area, DAY)
        assert key in keys and str(key) == f"{area}|2026-11-20"
        assert f"{key}|x" == f"{area}|2026-11-20|x"  # as run keys embed it
        assert day_area_of(key) == (area, DAY)
        assert day_area_of(str(key)) == (area, DAY)  # as a sensor or a CLI hands it over
        assert is_day_area_key(key) and is_day_area_key(str(key))
    assert not is_day_area_key(day_key(DAY)) and not is_day_area_key(None)
    assert day_area_of(dg.MultiPartitionKey({"date": "2026-11-20", "area": "fr"})) == ("fr", DAY)


@pytest.mark.parametrize("bad", ["2026-11-20", "us|2026-11-20", "fr|", "fr|20-11-2026"])
def test_a_bad_trends_key_names_itself(bad: str) -> None:
    with pytest.raises(ValueError, match=bad.replace("|", r"\|")):
        day_area_of(bad)
    with pytest.raises(ValueError, match="'us'"):
        day_area_key("us", DAY)


def test_week_keys_are_the_weekly_partitions() -> None:
    key = week_key(DAY)
    assert key == "2026-11-16" and weekly_partitions(ELECTION).has_partition_key(key)
    assert week_of(key) == DAY.isocalendar()[:2]
    with pytest.raises(ValueError, match="not a Monday"):
        week_of(day_key(DAY))


def test_today_and_its_week_are_partitions_only_in_the_campaign(calendar_now) -> None:
    """At each awkward instant: today is the newest daily partition (from the campaign's
    first day), its week is the ISO week of its UTC day (2026-W53 included), a partition
    once it is over."""
    today = calendar_now.date()
    in_campaign = ELECTION.campaign_start <= today <= ELECTION.campaign_end
    days = daily_partitions(ELECTION).get_partition_keys()
    assert (day_key(today) in days) is in_campaign
    if in_campaign:
        assert days[-1] == day_key(today)  # nothing from tomorrow
    else:  # no day before the campaign (Dagster lists its first day a day early: harmless,
        # that day's window is empty until it begins)
        assert all(d >= ELECTION.campaign_start.isoformat() for d in days)
    monday = today - timedelta(days=today.weekday())
    assert week_key(today) == monday.isoformat()
    assert week_of(week_key(today)) == today.isocalendar()[:2]
    if today.isocalendar()[:2] == (2026, 53):
        assert week_key(today) == "2026-12-28"
    weeks = weekly_partitions(ELECTION)
    assert not weeks.has_partition_key(week_key(today))  # exported once the week is over
    last_week = monday - timedelta(days=7)
    assert weeks.has_partition_key(last_week.isoformat()) is (
        monday - timedelta(days=1) >= ELECTION.campaign_start)
