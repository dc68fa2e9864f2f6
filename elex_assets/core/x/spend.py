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
worst case (a full page of posts, or one counts request) and **reserves** that
price in the lake's shared ledger, ``state/x_spend_ledger/YYYY-MM.json``, by a
conditional write, *before* sending it; once answered, the reservation becomes
the real price. A reservation that would cross ``X_MAX_USD_PER_DAY`` (UTC day) or
``X_MAX_USD_PER_MONTH`` (calendar month) is refused with ``XSpendCeiling``, naming
the ceiling and when it resets. So any number of runs, instances and hosts on one
lake together stay under the ceilings. Spend in sandbox mode is kept apart
(``sandbox: true``): it says what a run would have cost live and never counts
against live ceilings.

X bills repeat reads of a post within a UTC day once; the ledger counts every
post returned, so it is an upper bound of the bill.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from elex_assets.core import shared_state
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
    # A day is closed (summed for good) only once it ended a day ago by this clock: a
    # host whose clock is behind (by less than a day) may still be recording on it.
    closed_before = today - timedelta(days=1)
    if day:
        d = date.fromisoformat(day)
        return _closed_day(lake, d, sandbox) if d < closed_before else \
            _open_day(lake, d, sandbox, exclude_run)
    if month:
        out = DaySpend()
        d = date.fromisoformat(month + "-01")
        while d.strftime("%Y-%m") == month and d <= today:
            out.add(_closed_day(lake, d, sandbox) if d < closed_before else
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


LEDGER_PREFIX = "state/x_spend_ledger/"
EPSILON = 1e-9


class SpendLedgerDamaged(XSpendCeiling):
    """The shared ledger cannot be read: nothing is spent until it is repaired (named)."""


def ledger_key(month: str) -> str:
    """The shared ledger of a calendar month (``YYYY-MM``, UTC): every run's reservations."""
    return f"{LEDGER_PREFIX}{month}.json"


@dataclass
class MonthLedger:
    """USD reserved per UTC day of one month, live and sandbox apart (the ceilings' authority).

    A request is added *before* it is sent (at its worst-case price) by a conditional
    write, and corrected to its real price once answered; so the sum is never below
    what was spent, and two processes can never both take the last dollar.
    """

    month: str
    days: dict[str, dict[str, float]] = field(default_factory=lambda: {"live": {}, "sandbox": {}})

    def day(self, kind: str, day: str) -> float:
        return self.days[kind].get(day, 0.0)

    def total(self, kind: str) -> float:
        return sum(self.days[kind].values())

    def add(self, kind: str, day: str, usd: float) -> None:
        self.days[kind][day] = round(max(0.0, self.day(kind, day) + usd), 9)

    def to_bytes(self) -> bytes:
        return json.dumps({"month": self.month, **{k: dict(sorted(v.items()))
                                                   for k, v in self.days.items()}}).encode()

    @classmethod
    def parse(cls, lake: Lake, key: str, raw: bytes) -> MonthLedger:
        try:
            data = json.loads(raw)
            days = {kind: {str(d): float(v) for d, v in data[kind].items()}
                    for kind in ("live", "sandbox")}
            if any(v < 0 or v != v or v == math.inf for k in days.values() for v in k.values()):
                raise ValueError("negative or non-finite amount")
            return cls(str(data["month"]), days)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise SpendLedgerDamaged(
                f"the spend ledger {lake.uri(key)} is unreadable ({type(exc).__name__}: {exc}); "
                "no paid request is sent until it is repaired or deleted (deleted, it is rebuilt "
                f"from the runs' ledgers under {lake.uri(SPEND_PREFIX)})"
            ) from None

    @classmethod
    def seeded(cls, lake: Lake, month: str, today: date) -> MonthLedger:
        """A new month's ledger: what the runs' own ledgers already recorded this month
        (none, usually; some after an upgrade or a deleted ledger)."""
        ledger = cls(month)
        first = date.fromisoformat(month + "-01")
        started, d = [], first - timedelta(days=1)
        while d <= today and (d < first or d.strftime("%Y-%m") == month):
            started.append(d.isoformat())
            d += timedelta(days=1)
        for run in read_ledgers(lake, started) if started else []:
            for day, amount in run.days.items():
                if day.startswith(month):
                    ledger.add("sandbox" if run.sandbox else "live", day, amount.usd)
        return ledger


@dataclass(frozen=True)
class Reservation:
    month: str
    day: str
    usd: float


class SpendGuard:
    """Reserves each request's price in the shared ledger before it is sent, stops before a
    ceiling, and records what it really cost once answered.

    The reservation is a conditional write (``elex_assets.core.shared_state``) on
    ``state/x_spend_ledger/YYYY-MM.json``: any number of processes and hosts sharing
    the lake together stay under the ceilings. The day and month are the UTC date of
    this process's clock when it asks; another host's clock is never read.
    """

    def __init__(
        self, lake: Lake, run_id: str, *, prices: Prices | None = None,
        ceilings: Ceilings | None = None, sandbox: bool = False, label: str = "",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.lake, self.prices = lake, prices or Prices()
        self.ceilings = ceilings or Ceilings()
        self.clock = clock
        self.ledger = RunLedger(run_id, clock(), sandbox, label)
        self.kind = "sandbox" if sandbox else "live"
        self._pending: Reservation | None = None

    # -- the shared ledger ----------------------------------------------------------
    def _read(self, stored: shared_state.Stored | None, month: str, today: date) -> MonthLedger:
        key = ledger_key(month)
        if stored is None:
            return MonthLedger.seeded(self.lake, month, today)
        return MonthLedger.parse(self.lake, key, stored.data)

    def _left(self, ledger: MonthLedger, day: str) -> float:
        left = math.inf
        if self.ceilings.per_day:
            left = min(left, self.ceilings.per_day - ledger.day(self.kind, day))
        if self.ceilings.per_month:
            left = min(left, self.ceilings.per_month - ledger.total(self.kind))
        return left

    def _reserve(self, price: Callable[[float], tuple[float, Any]], what: str,
                 cost_shown: float) -> Any:
        """Reserve ``price(left)``'s amount; ``price`` raises (via ``_refuse``) when nothing fits."""
        self._settle_pending()
        now = self.clock().astimezone(UTC)
        month, day = now.strftime("%Y-%m"), now.date().isoformat()
        key = ledger_key(month)

        def change(stored: shared_state.Stored | None) -> tuple[bytes, tuple[float, Any]]:
            ledger = self._read(stored, month, now.date())
            left = self._left(ledger, day)
            usd, result = price(left)
            if usd is None:
                raise self._refuse(what, cost_shown, ledger, day, now)
            ledger.add(self.kind, day, usd)
            return ledger.to_bytes(), (usd, result)

        usd, result = shared_state.update(self.lake, key, change)
        self._pending = Reservation(month, day, usd)
        return result

    def _adjust(self, reservation: Reservation, usd: float) -> None:
        if abs(usd) < EPSILON:
            return
        key = ledger_key(reservation.month)

        def change(stored: shared_state.Stored | None) -> tuple[bytes, None]:
            today = date.fromisoformat(reservation.day)
            ledger = self._read(stored, reservation.month, today)
            ledger.add(self.kind, reservation.day, usd)
            return ledger.to_bytes(), None

        shared_state.update(self.lake, key, change)

    def _settle_pending(self, actual: float | None = None) -> None:
        """Correct the open reservation to ``actual`` (None: keep it whole).

        With none open (posts the stream delivered after a ceiling stopped it), the
        amount is added as is: what X served is always in the shared ledger."""
        pending, self._pending = self._pending, None
        if pending is not None and actual is not None:
            self._adjust(pending, actual - pending.usd)
        elif pending is None and actual:
            now = self.clock().astimezone(UTC)
            self._adjust(Reservation(now.strftime("%Y-%m"), now.date().isoformat(), 0.0), actual)

    def cancel(self) -> None:
        """The reserved request failed (no answer, an error): it costs nothing."""
        self._settle_pending(0.0)

    # -- totals ------------------------------------------------------------------------
    def totals(self) -> tuple[float, float]:
        """(today, this month) in USD reserved or spent by every run sharing the lake."""
        now = self.clock().astimezone(UTC)
        month = now.strftime("%Y-%m")
        stored = shared_state.read(self.lake, ledger_key(month))
        ledger = self._read(stored, month, now.date())
        return ledger.day(self.kind, now.date().isoformat()), ledger.total(self.kind)

    def _refuse(self, what: str, cost: float, ledger: MonthLedger, day: str,
                now: datetime) -> XSpendCeiling:
        today, month = ledger.day(self.kind, day), ledger.total(self.kind)
        options = []
        if self.ceilings.per_day:
            options.append((self.ceilings.per_day - today,
                            f"X_MAX_USD_PER_DAY={self.ceilings.per_day:g}", next_midnight(now)))
        if self.ceilings.per_month:
            options.append((self.ceilings.per_month - month,
                            f"X_MAX_USD_PER_MONTH={self.ceilings.per_month:g}", next_month(now)))
        left, which, resets = min(options, key=lambda o: o[0])
        return XSpendCeiling(
            f"{which}: the next request ({what}, up to ${cost:.3f}) would cross the ceiling "
            f"(${today:.3f} spent today, ${month:.3f} this month, ${max(0.0, left):.3f} left, "
            f"every process sharing the lake included); collection stops here and keeps what "
            f"it fetched. The ceiling resets at {resets:%Y-%m-%d %H:%M} UTC (or raise it)"
        )

    # -- before / after each request ----------------------------------------------------
    def posts_page_size(self, wanted: int) -> int:
        """The largest page (<= ``wanted``) whose worst-case cost fits under the ceilings,
        reserved in the shared ledger before the request is sent."""
        unit = self.prices.post_read

        def price(left: float) -> tuple[float | None, int]:
            if left == math.inf or not unit:
                return wanted * unit, wanted
            affordable = int(left / unit + 1e-9)
            if affordable < MIN_PAGE:
                return None, 0
            size = min(wanted, affordable)
            return size * unit, size

        return self._reserve(price, f"a page of {MIN_PAGE}+ posts", MIN_PAGE * unit)

    def before_counts(self, endpoint: str) -> None:
        cost = self.prices.counts(endpoint)
        self._reserve(lambda left: (cost if cost <= left + EPSILON else None, None),
                      f"a counts/{endpoint} request", cost)

    def record_posts(self, posts: int) -> None:
        self._settle_pending(posts * self.prices.post_read)
        self.ledger.record(self.clock(), self.prices, posts=posts)
        self.ledger.save(self.lake)

    def record_counts(self, endpoint: str) -> None:
        self._settle_pending(self.prices.counts(endpoint))
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


@contextlib.contextmanager
def paid_request(spend: SpendGuard | None) -> Iterator[None]:
    """Around a request reserved beforehand: one that raises is not billed, so its
    reservation is released."""
    try:
        yield
    except BaseException:
        if spend is not None:
            spend.cancel()
        raise
