"""Collect one day of posts from X search into the raw lake, never losing a fetched page.

Each run writes one ``raw/tweets/date=D/<collected-at>-<run>.jsonl.gz`` file (one
line per API page: the request, when, and the response as X sent it) and a
``.manifest.json`` beside it that records what the run covered, per query, as
intervals of post ids. Coverage is what makes runs resumable:

* today's partition is incremental: a run fetches only the id ranges no earlier
  run covered, i.e. what is newer than the newest landed post (``since_id``), plus
  any hole a failed run left;
* a past partition is fetched whole (a *refresh*); when the refresh is complete
  it replaces every older file of the day. A refresh interrupted by an error
  keeps its pages and the next run continues it instead of starting over;
* ``mode="fill"`` only fills holes, whatever the day (the schedule uses it for
  the end of yesterday just after midnight).

Pages are streamed to a local gzip file as they arrive; whatever happens, the
pages fetched are published to the lake before the error propagates.
"""

from __future__ import annotations

import gzip
import json
import os
import uuid
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from elex_assets.core import layout, shared_state
from elex_assets.core.lake import Lake
from elex_assets.core.raw_pages import RawPageWriter, manifest_key
from elex_assets.core.windows import ONE_DAY, day_window, latest_askable
from elex_assets.core.x.client import Page, XClient
from elex_assets.core.x.query import XQuery
from elex_assets.core.x.spend import MIN_PAGE, SpendGuard, paid_request

TWITTER_EPOCH_MS = 1288834974657
PAGE_SIZE = {"recent": 100, "all": 500}
RECENT_REACH = timedelta(days=7)
SAFETY_LAG = timedelta(seconds=30)  # X refuses end_time less than 10 s ago; index lag
MODES = ("auto", "fill", "full")
ROLLOVER_POSTS = 100_000  # posts per raw file before a run lands it and starts another


PLANS = ("full", "sample", "off")
DEFAULT_SAMPLE_POSTS_PER_DAY = 400


def sample_plan(posts_per_day: int, queries: int, page_max: int) -> tuple[set[tuple[int, int]], int]:
    """Which (hour of day, query index) pairs a sampled day asks, and the page size.

    The budget buys ``R`` pages of at least 10 posts (X's smallest page), at least one
    per hour; they are spread evenly over the 24 x ``queries`` pairs, hour by hour, so
    every hour is sampled and the queries take turns when the budget is small.
    """
    queries = max(1, queries)
    pages = min(24 * queries, max(24, posts_per_day // 10))
    size = max(10, min(page_max, posts_per_day // pages))
    chosen: set[tuple[int, int]] = set()
    turn = 0
    for hour in range(24):
        for _ in range((hour + 1) * pages // 24 - hour * pages // 24):
            chosen.add((hour, turn % queries))
            turn += 1
    return chosen, size


def sample_posts_per_day(posts_per_day: int, queries: int, page_max: int = 100) -> int:
    """The most a sampled day can read: pages x page size."""
    chosen, size = sample_plan(posts_per_day, queries, page_max)
    return len(chosen) * size


def completed_hours(window: Interval, latest: datetime) -> list[Interval]:
    """The UTC hours of ``window`` that have ended, clipped to the window."""
    start = datetime.fromisoformat(window[0].time.replace("Z", "+00:00")) if window[0].time \
        else None
    end = datetime.fromisoformat(window[1].time.replace("Z", "+00:00")) if window[1].time \
        else None
    if start is None or end is None:
        return []
    out = []
    hour = start.replace(minute=0, second=0, microsecond=0)
    while hour < end:
        nxt = hour + timedelta(hours=1)
        if nxt > latest and nxt > end:
            break
        out.append((Bound.at(max(hour, start)), Bound.at(min(nxt, end))))
        hour = nxt
    return out


def recent_earliest(now: datetime) -> datetime:
    """The oldest instant recent search and counts are asked about: 7 days back, with a
    minute's margin (X checks the 7 days when the request arrives, after ``now``), in whole
    seconds."""
    return (now - RECENT_REACH + timedelta(minutes=1)).replace(microsecond=0)


class XCollectError(RuntimeError):
    """Collection cannot proceed as configured (too old for recent search, budget...)."""

    transient = False  # final: see core.retrying.is_deterministic


class XBudgetExceeded(XCollectError):
    """The next page would exceed X_MAX_POSTS_PER_MONTH."""


def id_at(when: datetime) -> int:
    """Smallest snowflake id of a post created at or after ``when``."""
    return (int(when.timestamp() * 1000) - TWITTER_EPOCH_MS) << 22


@dataclass(frozen=True, order=True)
class Bound:
    """A position in id space; ``time`` is set when it came from a time, not a post id."""

    id: int
    time: str | None = field(default=None, compare=False)

    @classmethod
    def at(cls, when: datetime) -> Bound:
        return cls(id_at(when), when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))

    def to_json(self) -> list[Any]:
        return [str(self.id), self.time]

    @classmethod
    def from_json(cls, raw: list[Any]) -> Bound:
        return cls(int(raw[0]), raw[1])


Interval = tuple[Bound, Bound]  # [lo, hi): posts with lo.id <= id < hi.id


def subtract(window: Interval, covered: Sequence[Interval]) -> list[Interval]:
    """Parts of ``window`` not in ``covered``, oldest first."""
    gaps = []
    cursor = window[0]
    for lo, hi in sorted(covered, key=lambda iv: iv[0].id):
        if hi.id <= cursor.id or lo.id >= window[1].id:
            if lo.id >= window[1].id:
                break
            continue
        if lo.id > cursor.id:
            gaps.append((cursor, lo))
        if hi.id > cursor.id:
            cursor = hi
    if cursor.id < window[1].id:
        gaps.append((cursor, window[1]))
    return gaps


def request_bounds(gap: Interval) -> dict[str, Any]:
    """X takes times or ids, never both: times when both ends are times, else ids."""
    lo, hi = gap
    if lo.time and hi.time:
        return {"start_time": lo.time, "end_time": hi.time}
    return {"since_id": str(lo.id - 1), "until_id": str(hi.id)}


@dataclass
class PageSummary:
    """What a raw line tells about coverage (kept in the manifest)."""

    query: str
    sweep: Interval
    result_count: int
    newest_id: int | None
    oldest_id: int | None
    last: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "sweep": [self.sweep[0].to_json(), self.sweep[1].to_json()],
            "result_count": self.result_count,
            "newest_id": str(self.newest_id) if self.newest_id else None,
            "oldest_id": str(self.oldest_id) if self.oldest_id else None,
            "last": self.last,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> PageSummary:
        return cls(
            raw["query"],
            (Bound.from_json(raw["sweep"][0]), Bound.from_json(raw["sweep"][1])),
            int(raw["result_count"]),
            int(raw["newest_id"]) if raw.get("newest_id") else None,
            int(raw["oldest_id"]) if raw.get("oldest_id") else None,
            bool(raw["last"]),
        )


def coverage(pages: Sequence[PageSummary], open_end: bool) -> dict[str, list[Interval]]:
    """Id intervals covered per query by a run's pages (consecutive pages form a sweep).

    A complete sweep covers its whole interval, except that with ``open_end``
    (today) its top is the newest post found, so the next run asks ``since_id``.
    An interrupted sweep covers from its oldest landed post to its top.
    """
    out: dict[str, list[Interval]] = {}
    groups: list[list[PageSummary]] = []
    for page in pages:
        if groups and groups[-1][-1].query == page.query and groups[-1][-1].sweep == page.sweep \
                and not groups[-1][-1].last:
            groups[-1].append(page)
        else:
            groups.append([page])
    for group in groups:
        lo, hi = group[0].sweep
        newest = max((p.newest_id for p in group if p.newest_id), default=None)
        oldest = min((p.oldest_id for p in group if p.oldest_id), default=None)
        if group[-1].last:
            top = Bound(newest + 1) if (open_end and newest and hi.time) else hi
            out.setdefault(group[0].query, []).append((lo, top))
        elif oldest is not None:
            top = Bound(newest + 1) if (open_end and newest and hi.time) else hi
            out.setdefault(group[0].query, []).append((Bound(oldest), top))
    return out


@dataclass
class Manifest:
    run_id: str
    refresh_id: str | None
    day: str
    endpoint: str
    collected_at: str
    raw_key: str
    pages: list[PageSummary]
    complete: bool
    open_end: bool

    @property
    def posts(self) -> int:
        return sum(p.result_count for p in self.pages)

    def coverage(self) -> dict[str, list[Interval]]:
        return coverage(self.pages, self.open_end)

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "refresh_id": self.refresh_id,
            "day": self.day,
            "endpoint": self.endpoint,
            "collected_at": self.collected_at,
            "raw_key": self.raw_key,
            "complete": self.complete,
            "open_end": self.open_end,
            "posts": self.posts,
            "pages": [p.to_json() for p in self.pages],
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Manifest:
        return cls(
            raw["run_id"], raw.get("refresh_id"), raw["day"], raw["endpoint"],
            raw["collected_at"], raw["raw_key"], [PageSummary.from_json(p) for p in raw["pages"]],
            bool(raw["complete"]), bool(raw.get("open_end", False)),
        )


def raw_keys(lake: Lake, day: date) -> list[str]:
    return [k for k in lake.list(layout.raw_tweets_prefix(day)) if k.endswith(".jsonl.gz")]


def read_manifests(lake: Lake, day: date, strict: bool = True) -> list[Manifest]:
    """Manifests of the day's raw files, rebuilt from the raw lines when one is missing
    or unreadable.

    A raw file that cannot be read either (truncated, corrupt) raises an error
    naming it, unless ``not strict`` (a full refresh replaces it anyway): then it
    counts as covering nothing.
    """
    keys = lake.list(layout.raw_tweets_prefix(day))
    present = set(keys)
    out = []
    for key in keys:
        if not key.endswith(".jsonl.gz"):
            continue
        mkey = manifest_key(key)
        manifest = _read_manifest(lake, mkey) if mkey in present else None
        if manifest is None:
            try:
                manifest = _manifest_from_raw(lake, key)
            except RawManifestError:
                if strict:
                    raise
                manifest = Manifest(key, None, day.isoformat(), "", "", key, [], False, False)
        out.append(manifest)
    return sorted(out, key=lambda m: m.collected_at)


class RawManifestError(XCollectError):
    """A raw file whose manifest cannot be rebuilt because the file itself is damaged."""


def _read_manifest(lake: Lake, mkey: str) -> Manifest | None:
    """A manifest as stored; ``None`` when it is not valid JSON of the expected shape."""
    try:
        return Manifest.from_json(json.loads(lake.read_bytes(mkey)))
    except (ValueError, KeyError, TypeError, IndexError):
        return None


def _manifest_from_raw(lake: Lake, key: str) -> Manifest:
    """The manifest of a raw file, rebuilt from its lines (each page carries its summary).

    Stream files (``summary: null``) cover no search interval: they rebuild with no pages.
    """
    pages = []
    first: dict[str, Any] = {}

    def damaged(problem: object) -> RawManifestError:
        return RawManifestError(
            f"{lake.uri(key)}: damaged raw file ({problem}); re-fetch the day with raw_tweets "
            "run config mode: full (it replaces the day's raw files)"
        )

    raw = lake.read_bytes(key)
    if not raw:  # a gzip file without a line still has 20 bytes: this is no empty day
        raise damaged("empty file (0 bytes)")
    try:
        body = gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as exc:
        raise damaged(exc) from None
    for number, line in enumerate(body.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError as exc:
            raise damaged(f"line {number} is not valid JSON: {exc}") from None
        first = first or rec
        if rec.get("summary") is not None:
            pages.append(PageSummary.from_json(rec["summary"]))
    stream = first.get("endpoint") == "stream"
    return Manifest(
        first.get("run_id", key), first.get("refresh_id"), first.get("day", ""),
        first.get("endpoint", ""), first.get("collected_at", ""), key, pages, stream,
        bool(first.get("open_end", False)),
    )


class XUsageDamaged(XBudgetExceeded):
    """The month's post counter cannot be read: no post is read until it is repaired."""


@dataclass
class Usage:
    """Posts read from X in a calendar month (what X bills), kept in the lake.

    ``posts`` includes the pages reserved but not yet answered (see :class:`PostBudget`),
    so it is never below what X served.
    """

    month: str
    posts: int = 0
    runs: int = 0

    @classmethod
    def parse(cls, lake: Lake, month: str, raw: bytes) -> Usage:
        key = layout.x_usage_key(month)
        try:
            data = json.loads(raw)
            posts, runs = int(data.get("posts", 0)), int(data.get("runs", 0))
            if posts < 0 or runs < 0:
                raise ValueError("negative count")
        except (ValueError, TypeError, AttributeError) as exc:
            raise XUsageDamaged(
                f"the post counter {lake.uri(key)} is unreadable ({type(exc).__name__}: {exc}); "
                "X_MAX_POSTS_PER_MONTH cannot be held, so no post is read until it is repaired "
                "(or deleted: the month then counts from zero)"
            ) from None
        return cls(month, posts, runs)

    @classmethod
    def load(cls, lake: Lake, month: str) -> Usage:
        stored = shared_state.read(lake, layout.x_usage_key(month))
        return cls(month) if stored is None else cls.parse(lake, month, stored.data)

    def to_bytes(self) -> bytes:
        return json.dumps({"month": self.month, "posts": self.posts, "runs": self.runs}).encode()


class PostBudget:
    """``X_MAX_POSTS_PER_MONTH`` held by every process and host sharing the lake.

    Before a page is requested its ``max_results`` is **reserved** in the month's
    counter (``state/x_usage/YYYY-MM.json``) by a conditional write
    (:mod:`elex_assets.core.shared_state`); once answered the reservation is settled
    to the posts X returned. Reservations never take the counter past the budget, so
    runs together never read more than it; a run killed between the two keeps its
    reservation (counted as read: an upper bound). Without a budget the posts are
    added once per run, by the same conditional write, so no run's count is lost.
    """

    def __init__(self, lake: Lake, month: str, limit: int | None) -> None:
        self.lake, self.month, self.limit = lake, month, limit
        self.key = layout.x_usage_key(month)
        self._reserved = 0
        self._unbudgeted = 0
        self.read = 0  # posts this run read
        self.month_posts: int | None = None  # the month's counter as last written here

    def _change(self, delta: Callable[[Usage], int | None], runs: int = 0) -> Usage:
        def change(stored: shared_state.Stored | None) -> tuple[bytes, Usage]:
            usage = Usage(self.month) if stored is None else \
                Usage.parse(self.lake, self.month, stored.data)
            add = delta(usage)
            if add is None:
                raise XBudgetExceeded(
                    f"X_MAX_POSTS_PER_MONTH={self.limit}: {usage.posts} posts already read or "
                    f"reserved in {self.month} by every run sharing the lake; the next page "
                    "could exceed the budget, so collection stops here (raise the budget or "
                    "wait for next month)"
                )
            usage.posts = max(0, usage.posts + add)
            usage.runs += runs
            return usage.to_bytes(), usage

        usage = shared_state.update(self.lake, self.key, change)
        self.month_posts = usage.posts
        return usage

    def reserve(self, wanted: int) -> int:
        """The page size to ask (<= ``wanted``), reserved; raises at the budget."""
        self.settle(None)
        if self.limit is None:
            return wanted

        chosen: list[int] = []

        def delta(usage: Usage) -> int | None:
            left = self.limit - usage.posts  # type: ignore[operator]
            chosen[:] = [] if left < MIN_PAGE else [min(wanted, left)]
            return chosen[0] if chosen else None

        self._change(delta)
        self._reserved = chosen[0]
        return self._reserved

    def settle(self, posts: int | None) -> None:
        """Correct the open reservation to the ``posts`` X returned (None: keep it whole)."""
        reserved, self._reserved = self._reserved, 0
        if posts is None:
            return
        self.read += posts
        if self.limit is None:
            self._unbudgeted += posts
        elif posts != reserved:
            self._change(lambda _u: posts - reserved)

    def cancel(self) -> None:
        """The reserved request failed without an answer: X served nothing, free it."""
        self.settle(0)

    def close(self, landed: bool) -> None:
        """End of the run: add the unbudgeted posts and count the run (one write)."""
        if self._unbudgeted or landed:
            unbudgeted, self._unbudgeted = self._unbudgeted, 0
            self._change(lambda _u: unbudgeted, runs=1 if landed else 0)


@dataclass
class CollectResult:
    day: date
    mode: str
    endpoint: str
    raw_key: str | None
    pages: int
    posts: int
    posts_per_query: dict[str, int]
    replaced: list[str]
    window: tuple[str, str] | None
    month_posts: int
    complete: bool
    notes: list[str]
    landed: list[str] = field(default_factory=list)


def collect_day(
    client: XClient,
    lake: Lake,
    queries: Sequence[XQuery],
    day: date,
    *,
    endpoint: str = "recent",
    run_id: str | None = None,
    now: datetime | None = None,
    mode: str = "auto",
    page_size: int | None = None,
    max_posts_per_month: int | None = None,
    rollover_posts: int = ROLLOVER_POSTS,
    log: Callable[[str], None] = lambda _msg: None,
    spend: SpendGuard | None = None,
    plan: str = "full",
    sample_posts_per_day: int = 0,
    before_delete: Callable[[], None] = lambda: None,
    tmp_dir: str | os.PathLike[str] | None = None,
) -> CollectResult:
    """Fetch what ``day`` still lacks for every query and land it; see the module doc.

    ``plan`` (``X_POSTS_PLAN``): ``full`` reads every post; ``sample`` reads about
    ``sample_posts_per_day`` posts spread evenly over the day's completed hours (one
    page per query and hour, so every hour of a debate night is represented);
    ``off`` reads none (``tweet_counts`` still gives the volume).

    ``before_delete`` is called before a complete refresh deletes the files it
    supersedes (the lease check: a writer that lost its lease must not delete).
    """
    if plan not in PLANS:
        raise XCollectError(f"X_POSTS_PLAN={plan!r}: expected one of {', '.join(PLANS)}")
    if endpoint not in PAGE_SIZE:
        raise XCollectError(f"X_SEARCH_ENDPOINT={endpoint!r}: expected 'recent' or 'all'")
    if mode not in MODES:
        raise XCollectError(f"mode {mode!r}: expected one of {MODES}")
    run_id = run_id or uuid.uuid4().hex[:12]
    now = (now or datetime.now(UTC)).astimezone(UTC)
    page_size = page_size or PAGE_SIZE[endpoint]
    notes: list[str] = []
    day_start, end = day_window(day, now, SAFETY_LAG)
    latest = latest_askable(now, SAFETY_LAG)
    month = now.strftime("%Y-%m")
    usage = PostBudget(lake, month, max_posts_per_month)
    empty = CollectResult(day, mode, endpoint, None, 0, 0, {}, [], None,
                          Usage.load(lake, month).posts, True, notes)
    if end <= day_start:
        notes.append(f"{day} has not started yet (or started less than {SAFETY_LAG} ago)")
        return empty
    if plan == "off":
        notes.append("X_POSTS_PLAN=off: no post is read (tweet_counts gives the volume)")
        return empty
    start = day_start
    open_end = end < day_start + ONE_DAY
    if endpoint == "recent":
        earliest = recent_earliest(now)
        if end <= earliest:
            raise XCollectError(
                f"partition {day} is older than 7 days: recent search only reaches back 7 days. "
                "Collecting it needs full-archive access (X Pro or Enterprise): set "
                "X_SEARCH_ENDPOINT=all"
            )
        if start < earliest:
            start = earliest + timedelta(seconds=1)
            notes.append(
                f"recent search reaches back to {start.isoformat()}: the first hours of {day} "
                "are out of reach (X_SEARCH_ENDPOINT=all collects the whole day)"
            )
    window = (Bound.at(start), Bound.at(end))

    manifests = read_manifests(lake, day, strict=mode != "full")
    # Only files present now can be superseded by this run: a file another writer
    # lands meanwhile is not covered by what this run read, so it is never deleted.
    existing = {m.raw_key for m in manifests}
    refresh_id: str | None = None
    if mode == "full" or (mode == "auto" and not open_end):
        refresh_id = run_id
        previous = [m for m in manifests if m.refresh_id]
        if mode == "auto" and previous:
            last = max(previous, key=lambda m: m.collected_at).refresh_id
            same = [m for m in manifests if m.refresh_id == last]
            if not _covers(same, queries, window):
                refresh_id = last  # continue an interrupted refresh
                manifests = same
                notes.append(f"continuing the interrupted refresh {last}")
            else:
                manifests = []
        else:
            manifests = []
    covered: dict[str, list[Interval]] = {}
    for m in manifests:
        for q, ivs in m.coverage().items():
            covered.setdefault(q, []).extend(ivs)

    per_query: dict[str, int] = {}
    sampling = plan == "sample"
    writer = _RawWriter(lake, day, run_id, refresh_id, endpoint, open_end and not sampling,
                        rollover_posts, log, tmp_dir=tmp_dir)
    error: BaseException | None = None
    try:
        chosen, size = sample_plan(sample_posts_per_day, len(queries), PAGE_SIZE[endpoint])
        for index, query in enumerate(queries if sampling else ()):
            for hour in completed_hours(window, latest):
                hour_of_day = int(hour[0].time[11:13]) if hour[0].time else 0
                if (hour_of_day, index) in chosen and subtract(hour, covered.get(query.text, [])):
                    _sweep(client, writer, query, hour, endpoint, size, per_query, usage,
                           spend, pages=1)
        for query in () if sampling else queries:
            gaps = subtract(window, covered.get(query.text, []))
            for gap in reversed(gaps):  # newest first, like X's pagination
                _sweep(client, writer, query, gap, endpoint, page_size, per_query, usage,
                       spend)
    except BaseException as exc:  # land what was fetched, then fail
        error = exc
    replaced: list[str] = []
    complete = error is None
    writer.close(complete)
    summaries = writer.summaries
    usage.close(landed=bool(summaries))
    if complete and refresh_id is not None:
        keep = {m.raw_key for m in read_manifests(lake, day, strict=False)
                if m.refresh_id == refresh_id}
        before_delete()
        for key in raw_keys(lake, day):
            if key not in keep and key in existing:
                lake.delete(manifest_key(key))
                lake.delete(key)
                replaced.append(key)
    if error is not None:
        if summaries:
            fetched = sum(s.result_count for s in summaries)
            error.add_note(
                f"{len(summaries)} pages ({fetched} posts) fetched before the failure were "
                f"landed in {', '.join(writer.landed)}; the next run continues from there"
            )
        raise error
    return CollectResult(
        day, "refresh" if refresh_id else "incremental", endpoint,
        writer.landed[-1] if writer.landed else None, len(summaries),
        sum(s.result_count for s in summaries), per_query, replaced,
        (window[0].time or "", window[1].time or ""),
        Usage.load(lake, month).posts if usage.month_posts is None else usage.month_posts,
        True, notes,
        landed=list(writer.landed),
    )


class _RawWriter(RawPageWriter[PageSummary]):
    """X search pages to the raw lake (see :class:`RawPageWriter`)."""

    def __init__(
        self, lake: Lake, day: date, run_id: str, refresh_id: str | None, endpoint: str,
        open_end: bool, rollover_posts: int, log: Callable[[str], None],
        tmp_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.endpoint, self.open_end = endpoint, open_end
        header = {
            "run_id": run_id, "refresh_id": refresh_id, "day": day.isoformat(),
            "endpoint": endpoint, "open_end": open_end,
        }
        super().__init__(lake, day, run_id, refresh_id, header, layout.raw_tweets_key,
                         rollover_posts, log, tmp_dir)

    def posts_of(self, summary: PageSummary) -> int:
        return summary.result_count

    def manifest(self, key: str, complete: bool) -> dict[str, Any]:
        return Manifest(
            self.run_id, self.refresh_id, self.day.isoformat(), self.endpoint,
            self.collected_at.isoformat(), key, self.pages, complete, self.open_end,
        ).to_json()


def _covers(manifests: Sequence[Manifest], queries: Sequence[XQuery], window: Interval) -> bool:
    covered: dict[str, list[Interval]] = {}
    for m in manifests:
        for q, ivs in m.coverage().items():
            covered.setdefault(q, []).extend(ivs)
    return all(not subtract(window, covered.get(q.text, [])) for q in queries)


def _sweep(
    client: XClient,
    writer: _RawWriter,
    query: XQuery,
    gap: Interval,
    endpoint: str,
    page_size: int,
    per_query: dict[str, int],
    usage: PostBudget,
    spend: SpendGuard | None = None,
    pages: int | None = None,
) -> None:
    """Every page (or the first ``pages``) of ``query`` over ``gap``, each written out as it
    arrives."""
    bounds = request_bounds(gap)
    token: str | None = None
    while True:
        # Reserved before the request, in the lake every run shares: the month's posts
        # (X_MAX_POSTS_PER_MONTH), then the dollars (X_MAX_USD_PER_*).
        size = usage.reserve(page_size)
        try:
            if spend is not None:  # stops before a request that could cross a dollar ceiling
                size = spend.posts_page_size(size)
            params = {"max_results": size, **bounds}
            if token:
                params["next_token"] = token
            with paid_request(spend):  # a request that fails is not billed: released
                page: Page = client.search(endpoint, query.text, **params)
        except BaseException:
            usage.cancel()
            raise
        usage.settle(page.result_count)  # read, whatever happens to it next
        meta = page.meta
        if pages is not None:
            pages -= 1
        summary = PageSummary(
            query.text, gap, page.result_count,
            int(meta["newest_id"]) if meta.get("newest_id") else None,
            int(meta["oldest_id"]) if meta.get("oldest_id") else None,
            page.next_token is None or pages == 0,  # a sample's page closes its sweep
        )
        request = {"endpoint": endpoint, "query": query.text,
                   **{k: str(v) for k, v in params.items()}}
        raw = page.raw.strip()
        if b"\n" in raw:
            raw = json.dumps(page.body, ensure_ascii=False).encode()
        writer.write(
            {"collected_at": datetime.now(UTC).isoformat(),
             "candidates": list(query.candidate_ids), "request": request},
            summary, raw,
        )
        if spend is not None:
            spend.record_posts(page.result_count)
        per_query[query.text] = per_query.get(query.text, 0) + page.result_count
        token = page.next_token
        if token is None or pages == 0:
            return
