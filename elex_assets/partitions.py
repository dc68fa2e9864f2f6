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
