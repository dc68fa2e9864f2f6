"""The official Trends API's daily request budget, counted in the lake.

Google grants early users about 100 requests a day. Every ``fetchTimeSeries``
or ``fetchGeoBreakdown`` elex sends is counted in ``state/trends_official_requests.json``
(per UTC day, shared by every run and process that uses the lake) *before* it is
sent, so a crash after sending still counts. A request that would go past
``TRENDS_OFFICIAL_MAX_REQUESTS_PER_DAY`` is not sent: :class:`TrendsBudgetExceeded`.

Polls of an operation (``operations.get``) and the points answered are counted
beside, not charged to the budget: Google's quota page is not public, and the
testers' figures (about 100 requests and 10,000 points a day) count fetches.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from elex_assets.core.lake import Lake, LakeError
from elex_assets.core.trends.errors import TrendsBudgetExceeded

BUDGET_KEY = "state/trends_official_requests.json"
KEEP_DAYS = 14  # days of counts kept in the state file (for the reader, not the budget)


@dataclass
class RequestBudget:
    """At most ``per_day`` fetches per UTC day, across runs (the lake holds the count)."""

    lake: Lake
    per_day: int = 100
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def _read(self) -> dict[str, dict[str, int]]:
        try:
            data = json.loads(self.lake.read_bytes(BUDGET_KEY))
        except LakeError:
            return {}
        except ValueError:
            return {}  # an unreadable counter is rewritten; the budget starts again that day
        days = data.get("days") if isinstance(data, dict) else None
        return days if isinstance(days, dict) else {}

    def _write(self, days: dict[str, dict[str, int]]) -> None:
        kept = dict(sorted(days.items())[-KEEP_DAYS:])
        self.lake.write_bytes(BUDGET_KEY, json.dumps({"days": kept}, sort_keys=True).encode())

    def used(self, day: date | None = None) -> dict[str, int]:
        """``{"fetches", "polls", "points"}`` counted for ``day`` (today, UTC, by default)."""
        key = (day or self.clock().astimezone(UTC).date()).isoformat()
        counts: dict[str, Any] = self._read().get(key, {})
        return {k: int(counts.get(k, 0)) for k in ("fetches", "polls", "points")}

    def remaining(self) -> int:
        return max(0, self.per_day - self.used()["fetches"])

    def charge_fetch(self, what: str) -> None:
        """Count one fetch, or raise :class:`TrendsBudgetExceeded` (nothing is sent)."""
        today = self.clock().astimezone(UTC).date().isoformat()
        days = self._read()
        counts = days.setdefault(today, {"fetches": 0, "polls": 0})
        if counts.get("fetches", 0) + 1 > self.per_day:
            raise TrendsBudgetExceeded(
                f"the official Trends API budget of {self.per_day} requests for {today} (UTC) "
                f"is spent ({counts.get('fetches', 0)} sent); {what} was not sent. "
                "Raise TRENDS_OFFICIAL_MAX_REQUESTS_PER_DAY only if Google granted more."
            )
        counts["fetches"] = counts.get("fetches", 0) + 1
        self._write(days)

    def count(self, what: str, n: int = 1) -> None:
        """Count ``polls`` or ``points`` (reported beside the budget, not charged to it)."""
        today = self.clock().astimezone(UTC).date().isoformat()
        days = self._read()
        counts = days.setdefault(today, {"fetches": 0, "polls": 0})
        counts[what] = counts.get(what, 0) + n
        self._write(days)
