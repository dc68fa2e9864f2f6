"""The package's clock: what "now" and "today" are, in UTC, in one place.

Everything that asks "what time is it" for a decision (which day to collect, when a
ceiling resets, what is fresh) asks here or takes ``now`` as an argument, so tests
set it: time-machine moves this clock (and the sandboxes, which run in the test's
process) without touching the code. Durations are measured with ``time.monotonic``,
never with this clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime


def utc_now() -> datetime:
    """Now, aware, in UTC."""
    return datetime.now(UTC)


def utc_today() -> date:
    """Today's UTC day."""
    return utc_now().date()
