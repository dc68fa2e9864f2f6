"""How precise is ``value_comparable`` for small candidates? Before/after chaining anchors.

Google Trends returns integers scaled on each request's maximum. Beside an anchor
reading 100, a candidate at 1/100 of its interest reads 0 or 1, so its
``value_comparable`` is mostly rounding. This bench places candidates at 1/10,
1/100 and 1/1000 of the anchor in the sandbox (``trends_data.set_popularity``),
collects them through the real client over loopback HTTP, and compares each
candidate's mean ``value_comparable`` over the day with the truth
(``100 x true mean volume of the candidate / true mean volume of the anchor``):

* **before**: one anchor (``TRENDS_ANCHOR``), as elex did;
* **after**: the same anchor chained to smaller anchors (``TRENDS_SECOND_ANCHOR``,
  gtab-style), at 1/10 and 1/100 of it.

Both resolutions elex collects are measured: 8-minute points (a day of the last
week) and one daily point (older days). Figures are the mean absolute relative
error over ``--days`` days, per candidate size.

    .venv/bin/python bench/trends_precision.py [--days 7]
"""

from __future__ import annotations

import argparse
import random
import statistics
from datetime import UTC, date, datetime, timedelta

from elex_assets.core.trends.client import Politeness, Transport, TrendsClient, day_timeframe
from elex_assets.core.trends.collect import Term, interest_over_time
from elex_assets.sandbox import trends_data as truth
from elex_assets.sandbox.trends_server import TrendsSandbox

ANCHOR = "Anchor Main"
SMALLER = ["Anchor Tenth", "Anchor Hundredth"]
SIZES = {"1/10": 0.1, "1/100": 0.01, "1/1000": 0.001}
ANCHOR_WEIGHT = 1000.0
AREA = "fr"


def true_comparable(keyword: str, day: date, sub_daily: bool) -> float:
    """100 x the candidate's mean volume over the day / the anchor's, at the asked resolution."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    if sub_daily:
        slots = truth.slots(start, start + timedelta(days=1))
        cand = statistics.fmean(truth.volume(keyword, AREA, t) for t in slots)
        anchor = statistics.fmean(truth.volume(ANCHOR, AREA, t) for t in slots)
    else:
        cand = truth.day_volume(keyword, AREA, day)
        anchor = truth.day_volume(ANCHOR, AREA, day)
    return 100.0 * cand / anchor


def measure(client: TrendsClient, days: list[date], now: datetime, chain: list[str] | None):
    errors: dict[str, list[float]] = {size: [] for size in SIZES}
    requests_before = client.transport.requests_made
    terms = [Term(size, f"Candidate {size}") for size in SIZES]
    for day in days:
        sub_daily = "T" in day_timeframe(day, now)
        rows = interest_over_time(client, terms, day, ANCHOR, now, now, smaller_anchors=chain)
        for size in SIZES:
            got = rows.filter(rows["candidate_id"] == size)["value_comparable"].mean() or 0.0
            want = true_comparable(f"Candidate {size}", day, sub_daily)
            errors[size].append(abs(got - want) / want)
    used = client.transport.requests_made - requests_before
    return {size: 100 * statistics.fmean(e) for size, e in errors.items()}, used / len(days)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=7, help="days per resolution (default 7)")
    args = parser.parse_args()
    truth.set_popularity(ANCHOR, ANCHOR_WEIGHT)
    for i, name in enumerate(SMALLER, start=1):
        truth.set_popularity(name, ANCHOR_WEIGHT / 10**i)
    for size, fraction in SIZES.items():
        truth.set_popularity(f"Candidate {size}", ANCHOR_WEIGHT * fraction)
    now = datetime.now(UTC)
    today = now.date()
    recent = [today - timedelta(days=n) for n in range(1, min(args.days, 6) + 1)]
    older = [today - timedelta(days=30 + n) for n in range(args.days)]
    with TrendsSandbox() as sandbox:
        transport = Transport(base_url=sandbox.base_url, politeness=Politeness(min_interval=0.0),
                              hl="fr-FR", rng=random.Random(0))
        client = TrendsClient(AREA, transport)
        print(f"sandbox Trends, area {AREA}, anchor {ANCHOR!r} (weight {ANCHOR_WEIGHT:g}); "
              f"smaller anchors {SMALLER} at 1/10 and 1/100")
        print("| resolution | candidate | error before (one anchor) | error after (chained) "
              "| requests/day before | after |")
        print("|---|---|---|---|---|---|")
        for label, days in (("8-minute (last week)", recent), ("daily (older days)", older)):
            before, req_before = measure(client, days, now, None)
            after, req_after = measure(client, days, now, SMALLER)
            for size in SIZES:
                print(f"| {label} | {size} of the anchor | {before[size]:.1f}% | {after[size]:.1f}% "
                      f"| {req_before:.0f} | {req_after:.0f} |")


if __name__ == "__main__":
    main()
