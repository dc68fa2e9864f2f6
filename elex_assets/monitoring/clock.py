"""The monitors' clock: one function, so tests can move time for checks and sensor alike."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)
