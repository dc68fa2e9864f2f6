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

from elex_assets.core import shared_state
from elex_assets.core.lake import Lake
from elex_assets.core.trends.errors import TrendsBudgetExceeded

BUDGET_KEY = "state/trends_official_requests.json"
KEEP_DAYS = 14  # days of counts kept in the state file (for the reader, not the budget)
KINDS = ("fetches", "polls", "points")


class TrendsBudgetDamaged(TrendsBudgetExceeded):
    """The request counter cannot be read: no fetch is sent until it is repaired."""


@dataclass
class RequestBudget:
    """At most ``per_day`` fetches per UTC day, across runs (the lake holds the count)."""

    lake: Lake
    per_day: int = 100
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def _parse(self, stored: shared_state.Stored | None) -> dict[str, dict[str, int]]:
        if stored is None:
            return {}
        try:
            days = json.loads(stored.data)["days"]
            return {str(d): {k: int(v) for k, v in counts.items() if k in KINDS}
                    for d, counts in days.items()}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise TrendsBudgetDamaged(
                f"the official Trends request counter {self.lake.uri(BUDGET_KEY)} is "
                f"unreadable ({type(exc).__name__}: {exc}); no request is sent until it is "
                "repaired or deleted (deleted, today's count starts from zero: check Google's "
                "quota first)"
            ) from None

    def _update(self, change: Callable[[dict[str, int], str], None]) -> None:
        today = self.clock().astimezone(UTC).date().isoformat()

        def apply(stored: shared_state.Stored | None) -> tuple[bytes, None]:
            days = self._parse(stored)
            change(days.setdefault(today, {"fetches": 0, "polls": 0}), today)
            kept = dict(sorted(days.items())[-KEEP_DAYS:])
            return json.dumps({"days": kept}, sort_keys=True).encode(), None

        shared_state.update(self.lake, BUDGET_KEY, apply)

    def used(self, day: date | None = None) -> dict[str, int]:
        """``{"fetches", "polls", "points"}`` counted for ``day`` (today, UTC, by default)."""
        key = (day or self.clock().astimezone(UTC).date()).isoformat()
        counts: dict[str, Any] = self._parse(shared_state.read(self.lake, BUDGET_KEY)).get(key, {})
        return {k: int(counts.get(k, 0)) for k in KINDS}

    def remaining(self) -> int:
        return max(0, self.per_day - self.used()["fetches"])

    def charge_fetch(self, what: str) -> None:
        """Reserve one fetch, or raise :class:`TrendsBudgetExceeded` (nothing is sent)."""

        def change(counts: dict[str, int], today: str) -> None:
            if counts.get("fetches", 0) + 1 > self.per_day:
                raise TrendsBudgetExceeded(
                    f"the official Trends API budget of {self.per_day} requests for {today} "
                    f"(UTC) is spent ({counts.get('fetches', 0)} sent by every process sharing "
                    f"the lake); {what} was not sent. Raise TRENDS_OFFICIAL_MAX_REQUESTS_PER_DAY "
                    "only if Google granted more."
                )
            counts["fetches"] = counts.get("fetches", 0) + 1

        self._update(change)

    def count(self, what: str, n: int = 1) -> None:
        """Count ``polls`` or ``points`` (reported beside the budget, not charged to it)."""

        def change(counts: dict[str, int], _today: str) -> None:
            counts[what] = counts.get(what, 0) + n

        self._update(change)
