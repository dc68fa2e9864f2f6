"""Partitions of the election being collected.

Daily partitions (UTC) run from the campaign start to a week after the second
round; the current day is included (``end_offset=1``) so that it can be
refreshed incrementally. Trends partitions are day x area; exports are ISO weeks
starting on Monday.
"""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg

from elex_assets.core.elections import Election
from elex_assets.core.kaggle.export import week_of_partition_key
from elex_assets.core.layout import AREAS


def daily_partitions(election: Election) -> dg.DailyPartitionsDefinition:
    return dg.DailyPartitionsDefinition(
        start_date=election.campaign_start.isoformat(),
        end_date=(election.campaign_end + timedelta(days=1)).isoformat(),
        end_offset=1,
        timezone="UTC",
    )


area_partitions = dg.StaticPartitionsDefinition(list(AREAS))


def trends_partitions(election: Election) -> dg.MultiPartitionsDefinition:
    """Day x area; keys look like ``fr|2026-11-20`` (dimensions sorted by name)."""
    return dg.MultiPartitionsDefinition(
        {"date": daily_partitions(election), "area": area_partitions}
    )


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weekly_partitions(election: Election) -> dg.WeeklyPartitionsDefinition:
    """ISO weeks (Monday start, UTC) covering the campaign."""
    return dg.WeeklyPartitionsDefinition(
        start_date=week_start(election.campaign_start).isoformat(),
        end_date=(week_start(election.campaign_end) + timedelta(days=7)).isoformat(),
        day_offset=1,
        timezone="UTC",
    )


# ---- Partition keys: the one place that builds and reads them --------------------------
# A daily key is ``YYYY-MM-DD``; a Trends key is ``area|YYYY-MM-DD`` (Dagster joins the
# dimensions sorted by name: ``area`` before ``date``); a weekly key is its Monday.


def day_key(day: date) -> str:
    """The daily partition key of ``day``."""
    return day.isoformat()


def day_of(key: str) -> date:
    """The day of a daily partition key; a clear error naming the key otherwise."""
    try:
        return date.fromisoformat(str(key))
    except ValueError:
        raise ValueError(f"daily partition key {key!r} is not a date (YYYY-MM-DD)") from None


def day_area_key(area: str, day: date) -> dg.MultiPartitionKey:
    """The Trends (day x area) partition key; ``str()`` of it is ``area|YYYY-MM-DD``."""
    if area not in AREAS:
        raise ValueError(f"unknown area {area!r} in a Trends partition key; expected one of {AREAS}")
    return dg.MultiPartitionKey({"area": area, "date": day_key(day)})


def is_day_area_key(key: str | None) -> bool:
    """Whether ``key`` has the shape of a Trends (day x area) key (only Trends has those)."""
    return isinstance(key, dg.MultiPartitionKey) or "|" in (key or "")


def day_area_of(key: str) -> tuple[str, date]:
    """``(area, day)`` of a Trends partition key, as Dagster hands it or as a string."""
    if isinstance(key, dg.MultiPartitionKey):
        parts = key.keys_by_dimension
        area, day = parts.get("area"), parts.get("date")
    else:
        area, _, day = str(key).partition("|")
    try:
        if area not in AREAS or not day:
            raise ValueError
        return area, date.fromisoformat(day)
    except ValueError:
        raise ValueError(
            f"Trends partition key {str(key)!r} is not area|YYYY-MM-DD (area in {AREAS})"
        ) from None


def week_key(day: date) -> str:
    """The weekly partition key of the ISO week holding ``day`` (its Monday)."""
    return week_start(day).isoformat()


def week_of(key: str) -> tuple[int, int]:
    """ISO ``(year, week)`` of a weekly partition key (must be a Monday)."""
    return week_of_partition_key(str(key))
