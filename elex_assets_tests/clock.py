"""The tests' clock: fixed instants, and "now" set for the code and the in-process sandboxes.

No test reads the wall clock. A test either builds its data for a fixed day, or sets "now"
with time-machine (``at(instant)``), which moves ``datetime.now``, ``date.today`` and
``time.time`` for the whole process: the code under test, Dagster, and the sandbox servers
(threads of the test process). ``tick=True`` lets time flow from the instant, so code that
waits on the clock still advances. ``time.monotonic`` is not moved (it measures durations).

Tests whose subject is a calendar (day windows, freshness, schedules, partitions, leases,
the sandboxes' seeded days, exports) take the ``calendar_now`` fixture: they run once per
instant of ``CALENDAR_INSTANTS`` and are marked ``calendar`` (``pytest -m calendar``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import time_machine

# A quiet afternoon mid-campaign (2027 registry: campaign from 2026-09-01, first round
# 2027-04-11): the default "now" of tests that only need some fixed moment.
NOW = datetime(2027, 2, 17, 14, 30, tzinfo=UTC)

# The instants where calendars break (issue 23).
CALENDAR_INSTANTS: dict[str, datetime] = {
    "before-midnight": datetime(2027, 1, 14, 23, 57, tzinfo=UTC),
    "after-midnight": datetime(2027, 1, 15, 0, 3, tzinfo=UTC),
    "iso-week-53": datetime(2026, 12, 31, 12, 0, tzinfo=UTC),  # 2026-W53: Mon 28 Dec .. Sun 3 Jan
    "paris-dst": datetime(2027, 3, 28, 0, 58, tzinfo=UTC),  # 01:58 CET, 03:00 CEST at 01:00 UTC
    "round-eve": datetime(2027, 4, 10, 23, 40, tzinfo=UTC),  # first round 2027-04-11
    "before-campaign": datetime(2026, 8, 31, 12, 0, tzinfo=UTC),  # campaign_start 2026-09-01
}


@contextmanager
def at(instant: datetime, tick: bool = True) -> Iterator[time_machine.Traveller]:
    """Set "now" to ``instant`` for the whole process while the block runs."""
    with time_machine.travel(instant, tick=tick) as traveller:
        yield traveller
