"""What the official backend asks each day, derived from the daily request budget.

Google's data runs to about two days ago and is daily, so hourly refreshes
would only spend the ~100 requests a day early users are granted (16
candidates x 2 areas x 2 tables x 24 hours is over 1,500 fetches). Once a day
the schedule asks for the newest day with data (``today - OFFICIAL_LAG_DAYS``):
one DAY-resolution series per candidate and area over a 7-day window (which
re-fetches the days still partial), then one geo breakdown per candidate and
area, in that order, as far as the budget left today allows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

OFFICIAL_LAG_DAYS = 2  # Google's data runs to about two days ago
OFFICIAL_HOUR = 6  # UTC hour of the daily run (the schedule ticks at :05)
PRIORITY = (  # what is asked first when the budget is short
    ("interest_over_time", "fr"),
    ("interest_over_time", "world"),
    ("interest_by_region", "fr"),
    ("interest_by_region", "world"),
)


@dataclass(frozen=True)
class OfficialPlan:
    day: date
    kinds: dict[str, list[str]] = field(default_factory=dict)  # area -> official kinds asked
    requests: int = 0  # fetches the plan will send
    left_out: list[tuple[str, str]] = field(default_factory=list)  # (kind, area) not affordable

    def summary(self, remaining: int) -> str:
        skipped = ", ".join(f"{k} {a}" for k, a in self.left_out) or "nothing"
        return (f"official Trends plan for {self.day}: {self.requests} requests of the "
                f"{remaining} left today; left out: {skipped}")


def plan_day(now: datetime, terms: int, remaining: int) -> OfficialPlan:
    """The day to ask and, per area, the kinds whose ``terms`` fetches fit in ``remaining``."""
    plan = OfficialPlan(now.date() - timedelta(days=OFFICIAL_LAG_DAYS))
    spent = 0
    for kind, area in PRIORITY:
        if terms and spent + terms <= remaining:
            plan.kinds.setdefault(area, []).append(kind)
            spent += terms
        else:
            plan.left_out.append((kind, area))
    return OfficialPlan(plan.day, plan.kinds, spent, plan.left_out)
