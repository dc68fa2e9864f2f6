"""What the refresh schedules of X and Trends share: UTC ticks, on from the start, and
which daily partitions a tick refreshes.

Each schedule keeps its own run keys: the daemon de-duplicates runs on them (and
refuses a tick of several requests without them), so their format is each
schedule's contract.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dagster as dg


def utc_schedule(
    name: str, cron_schedule: str, job: Any, description: str | None = None
) -> Callable[[Callable[..., Any]], dg.ScheduleDefinition]:
    """``@dg.schedule`` on UTC, running as soon as the code loads (as every elex schedule)."""
    return dg.schedule(
        name=name,
        cron_schedule=cron_schedule,
        execution_timezone="UTC",
        job=job,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=description,
    )


def tick_time(context: dg.ScheduleEvaluationContext) -> datetime:
    """When the tick was due (now, for a tick evaluated by hand), in UTC."""
    return (context.scheduled_execution_time or datetime.now(UTC)).astimezone(UTC)


def yesterday_within(now: datetime, grace: timedelta) -> date | None:
    """Yesterday while ``now`` is less than ``grace`` past midnight (UTC): the refreshes
    before midnight could not ask for its last moments, so a tick just after does."""
    midnight = datetime(now.year, now.month, now.day, tzinfo=UTC)
    return now.date() - timedelta(days=1) if now - midnight < grace else None


def in_partitions(
    partitions_def: dg.PartitionsDefinition, requests: Sequence[dg.RunRequest], today: date
) -> list[dg.RunRequest] | dg.SkipReason:
    """The requests whose partition exists (the election's days); a skip naming ``today``
    when none does."""
    kept = [r for r in requests if partitions_def.has_partition_key(str(r.partition_key))]
    return kept or dg.SkipReason(f"{today} is outside the election's partitions")
