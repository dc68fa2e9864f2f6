"""Dollars spent on the X API: prices, ceilings and a ledger that never loses a count.

X bills per use (2026): a post read, a recent-counts request, a full-archive
counts request each have a price (``Prices``). Every run keeps **its own** ledger
file, ``state/x_spend/YYYY-MM-DD/<started>-<run>.json``, rewritten after every
request: a run that crashes has its reads counted up to its last page, and two
runs at once never overwrite each other (no read-modify-write of a shared
counter). Totals are the sum of the files, read back when needed; a day that
has ended is summed once into ``state/x_spend/closed/YYYY-MM-DD.json`` so a
month's total reads one file per past day.

``SpendGuard`` sits in front of every request: it prices the request at its
worst case (a full page of posts, or one counts request) and, when that would
cross ``X_MAX_USD_PER_DAY`` (UTC day) or ``X_MAX_USD_PER_MONTH`` (calendar month),
stops *before* sending it with ``XSpendCeiling``, naming the ceiling and when it
resets. Spend in sandbox mode is kept apart (``sandbox: true``): it says what a
run would have cost live and never counts against live ceilings.

X bills repeat reads of a post within a UTC day once; the ledger counts every
post returned, so it is an upper bound of the bill.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from elex_assets.core.lake import Lake

SPEND_PREFIX = "state/x_spend/"
MIN_PAGE = 10  # X's smallest max_results


class XSpendCeiling(RuntimeError):
    """The next request would cross a dollar ceiling: deterministic, never retried."""

    transient = False  # final: see core.retrying.is_deterministic


@dataclass(frozen=True)
class Prices:
    """USD per unit (X's pay-per-use prices, 2026)."""

    post_read: float = 0.005
    counts_recent: float = 0.005
    counts_all: float = 0.01

    def counts(self, endpoint: str) -> float:
        return self.counts_recent if endpoint == "recent" else self.counts_all


@dataclass(frozen=True)
class Ceilings:
    """USD ceilings; ``0`` or None: no ceiling."""

    per_day: float | None = 5.0
    per_month: float | None = 100.0


CLOSED_PREFIX = f"{SPEND_PREFIX}closed/"


def spend_key(started: datetime, run_id: str) -> str:
    """One file per run, under the UTC day the run started."""
    return f"{SPEND_PREFIX}{started:%Y-%m-%d}/{started:%Y%m%dT%H%M%S%fZ}-{run_id}.json"


@dataclass
class DaySpend:
    posts_read: int = 0
    counts_recent: int = 0
    counts_all: int = 0
    usd: float = 0.0

    def add(self, other: DaySpend) -> None:
        self.posts_read += other.posts_read
        self.counts_recent += other.counts_recent
        self.counts_all += other.counts_all
        self.usd += other.usd

    def to_json(self) -> dict[str, Any]:
        return {"posts_read": self.posts_read, "counts_recent": self.counts_recent,
                "counts_all": self.counts_all, "usd": round(self.usd, 6)}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> DaySpend:
        return cls(int(raw.get("posts_read", 0)), int(raw.get("counts_recent", 0)),
                   int(raw.get("counts_all", 0)), float(raw.get("usd", 0.0)))


@dataclass
class RunLedger:
    """One run's spend, by UTC day of the requests; written whole after every request."""

    run_id: str
    started: datetime
    sandbox: bool
    label: str = ""
    days: dict[str, DaySpend] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return spend_key(self.started, self.run_id)

    def total(self) -> DaySpend:
        out = DaySpend()
        for d in self.days.values():
            out.add(d)
        return out

    def record(self, when: datetime, prices: Prices, *, posts: int = 0,
               counts_endpoint: str | None = None) -> None:
        day = self.days.setdefault(when.astimezone(UTC).date().isoformat(), DaySpend())
        day.posts_read += posts
        day.usd += posts * prices.post_read
        if counts_endpoint == "recent":
            day.counts_recent += 1
        elif counts_endpoint == "all":
            day.counts_all += 1
        if counts_endpoint:
            day.usd += prices.counts(counts_endpoint)

    def to_json(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "started": self.started.isoformat(),
                "sandbox": self.sandbox, "label": self.label,
                "updated": datetime.now(UTC).isoformat(),
                "days": {d: s.to_json() for d, s in sorted(self.days.items())}}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> RunLedger:
        return cls(raw["run_id"], datetime.fromisoformat(raw["started"]),
                   bool(raw.get("sandbox", False)), raw.get("label", ""),
                   {d: DaySpend.from_json(s) for d, s in (raw.get("days") or {}).items()})

    def save(self, lake: Lake) -> None:
        lake.write_bytes(self.key, json.dumps(self.to_json()).encode())


def read_ledgers(lake: Lake, days: list[str] | None = None) -> list[RunLedger]:
    """The ledgers of runs started on ``days`` (``YYYY-MM-DD``), or every ledger."""
    prefixes = [f"{SPEND_PREFIX}{d}/" for d in days] if days else [SPEND_PREFIX]
    out = []
    for prefix in prefixes:
        for key in lake.list(prefix):
            if key.endswith(".json") and not key.startswith(CLOSED_PREFIX):
                out.append(RunLedger.from_json(json.loads(lake.read_bytes(key))))
    return out


def _open_day(lake: Lake, day: date, sandbox: bool, exclude_run: str | None) -> DaySpend:
    """Spend recorded on ``day`` by the runs started that day or the day before."""
    out = DaySpend()
    started = [(day - timedelta(days=1)).isoformat(), day.isoformat()]
    for ledger in read_ledgers(lake, started):
        if ledger.sandbox == sandbox and ledger.run_id != exclude_run:
            out.add(ledger.days.get(day.isoformat(), DaySpend()))
    return out


def _closed_day(lake: Lake, day: date, sandbox: bool) -> DaySpend:
    """A past day's spend, summed once from its run files and kept beside them.

    Once the day has ended no run records spend on it any more, so its sum never
    changes: later totals read one file per past day instead of every run's.
    """
    key = f"{CLOSED_PREFIX}{day.isoformat()}.json"
    if lake.exists(key):
        raw = json.loads(lake.read_bytes(key))
    else:
        raw = {"day": day.isoformat(),
               "live": _open_day(lake, day, False, None).to_json(),
               "sandbox": _open_day(lake, day, True, None).to_json()}
        lake.write_bytes(key, json.dumps(raw).encode())
    return DaySpend.from_json(raw["sandbox" if sandbox else "live"])


def spent(
    lake: Lake, *, sandbox: bool, day: str | None = None, month: str | None = None,
    exclude_run: str | None = None, today: date | None = None,
) -> DaySpend:
    """Summed spend on a UTC ``day``, in a ``month`` (``YYYY-MM``) or in all (live or sandbox).

    ``exclude_run`` leaves a run out of the days still open (``today``), where it
    may be recording; past days count every run.
    """
    today = today or datetime.now(UTC).date()
    if day:
        d = date.fromisoformat(day)
        return _closed_day(lake, d, sandbox) if d < today else \
            _open_day(lake, d, sandbox, exclude_run)
    if month:
        out = DaySpend()
        d = date.fromisoformat(month + "-01")
        while d.strftime("%Y-%m") == month and d <= today:
            out.add(_closed_day(lake, d, sandbox) if d < today else
                    _open_day(lake, d, sandbox, exclude_run))
            d += timedelta(days=1)
        return out
    out = DaySpend()
    for ledger in read_ledgers(lake):
        if ledger.sandbox == sandbox and ledger.run_id != exclude_run:
            out.add(ledger.total())
    return out


def next_midnight(now: datetime) -> datetime:
    return datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)


def next_month(now: datetime) -> datetime:
    return datetime(now.year + now.month // 12, now.month % 12 + 1, 1, tzinfo=UTC)


class SpendGuard:
    """Prices each request before it is sent, stops before a ceiling, records it after."""

    def __init__(
        self, lake: Lake, run_id: str, *, prices: Prices | None = None,
        ceilings: Ceilings | None = None, sandbox: bool = False, label: str = "",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        refresh_seconds: float = 10.0,
    ) -> None:
        self.lake, self.prices = lake, prices or Prices()
        self.ceilings = ceilings or Ceilings()
        self.clock = clock
        self.ledger = RunLedger(run_id, clock(), sandbox, label)
        self.refresh_seconds = refresh_seconds
        self._others = (DaySpend(), DaySpend())
        self._others_when = ("", "")
        self._others_at = -math.inf

    # -- totals ------------------------------------------------------------------------
    def _other_runs(self, now: datetime) -> tuple[DaySpend, DaySpend]:
        """Today's spend of the other runs, and the month's (past days: every run; today:
        the other runs), re-read every few seconds."""
        day, month = now.date().isoformat(), now.strftime("%Y-%m")
        stale = time.monotonic() - self._others_at > self.refresh_seconds
        if stale or (day, month) != self._others_when:
            mine = self.ledger.run_id
            self._others = (
                spent(self.lake, sandbox=self.ledger.sandbox, day=day, exclude_run=mine,
                      today=now.date()),
                spent(self.lake, sandbox=self.ledger.sandbox, month=month, exclude_run=mine,
                      today=now.date()),
            )
            self._others_when = (day, month)
            self._others_at = time.monotonic()
        return self._others

    def totals(self) -> tuple[float, float]:
        """(today, this month) in USD, this run included."""
        now = self.clock()
        other_day, month = self._other_runs(now)
        mine_today = self.ledger.days.get(now.date().isoformat(), DaySpend()).usd
        return other_day.usd + mine_today, month.usd + mine_today

    def headroom(self) -> tuple[float, str, datetime]:
        """USD left before the nearest ceiling, which one, and when it resets."""
        now = self.clock()
        today, month = self.totals()
        options = [(math.inf, "none", now)]
        if self.ceilings.per_day:
            options.append((self.ceilings.per_day - today,
                            f"X_MAX_USD_PER_DAY={self.ceilings.per_day:g}", next_midnight(now)))
        if self.ceilings.per_month:
            options.append((self.ceilings.per_month - month,
                            f"X_MAX_USD_PER_MONTH={self.ceilings.per_month:g}", next_month(now)))
        return min(options, key=lambda o: o[0])

    def _refuse(self, what: str, cost: float) -> XSpendCeiling:
        left, which, resets = self.headroom()
        today, month = self.totals()
        return XSpendCeiling(
            f"{which}: the next request ({what}, up to ${cost:.3f}) would cross the ceiling "
            f"(${today:.3f} spent today, ${month:.3f} this month, ${max(0.0, left):.3f} left); "
            f"collection stops here and keeps what it fetched. The ceiling resets at "
            f"{resets:%Y-%m-%d %H:%M} UTC (or raise it)"
        )

    # -- before / after each request ----------------------------------------------------
    def posts_page_size(self, wanted: int) -> int:
        """The largest page (<= ``wanted``) whose worst-case cost stays under the ceilings."""
        left, _, _ = self.headroom()
        if left == math.inf:
            return wanted
        affordable = int(left / self.prices.post_read + 1e-9) if self.prices.post_read else wanted
        if affordable < MIN_PAGE:
            raise self._refuse(f"a page of {MIN_PAGE}+ posts", MIN_PAGE * self.prices.post_read)
        return min(wanted, affordable)

    def before_counts(self, endpoint: str) -> None:
        cost = self.prices.counts(endpoint)
        left, _, _ = self.headroom()
        if cost > left + 1e-9:
            raise self._refuse(f"a counts/{endpoint} request", cost)

    def record_posts(self, posts: int) -> None:
        self.ledger.record(self.clock(), self.prices, posts=posts)
        self.ledger.save(self.lake)

    def record_counts(self, endpoint: str) -> None:
        self.ledger.record(self.clock(), self.prices, counts_endpoint=endpoint)
        self.ledger.save(self.lake)

    def summary(self) -> dict[str, Any]:
        total = self.ledger.total()
        today, month = self.totals()
        return {
            "spend_run_usd": round(total.usd, 4),
            "spend_today_usd": round(today, 4),
            "spend_month_usd": round(month, 4),
            "posts_read_billed": total.posts_read,
            "counts_requests": total.counts_recent + total.counts_all,
            "ceiling_day_usd": self.ceilings.per_day or "off",
            "ceiling_month_usd": self.ceilings.per_month or "off",
            "spend_ledger": self.lake.uri(self.ledger.key),
        }
