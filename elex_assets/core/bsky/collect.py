"""Collect one day of Bluesky posts into the raw lake, every window read to its end.

searchPosts' cursor is an offset that stops near 10,000 results (``SEARCH_CAP``)
however many more match, and a page is cut from the hits before the posts it cannot
show are removed: a short or even empty page may still carry a cursor. So a day is
cut into time windows (``window_minutes``), each read newest first (``sort=latest``)
page by page, following the cursor until it is absent whatever the page holds
(bounded: a cursor handed back or still going after the cap's pages stops the sweep
with a counted reason, ``STOP_REASONS``, recorded in the manifest); when the cursor
stops, a probe asks for what is older than the oldest post read in the window. Nothing older: the window is read to its end. Something older: the
cursor had stopped early, so what is left of the window is split in halves and
each half is read the same way, down to one-second windows.

Each run writes ``raw/bsky_posts/date=D/<collected-at>-<run>.jsonl.gz`` (one line
per XRPC page: the request, when, and the response as returned) and a
``.manifest.json`` beside it recording the time intervals each query covered.
Coverage makes runs resumable: a run asks only for what no earlier run covered
(today: what is newer than the last run's end; any day: the holes an interrupted
run left), so an interrupted day resumes without loss and without re-reading.
``mode="full"`` re-reads the whole day and, once complete, replaces the older
files. Whatever happens, the pages fetched are landed before the error propagates.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from elex_assets.core import layout
from elex_assets.core.bsky.api import PAGE_LIMIT, BskyRateLimited
from elex_assets.core.bsky.query import BskyQuery
from elex_assets.core.lake import Lake
from elex_assets.core.raw_pages import DamagedRawFile, RawPageWriter, manifest_key, raw_records
from elex_assets.core.windows import day_window, parse_utc

if TYPE_CHECKING:  # atproto loads only when a run builds a client
    from elex_assets.core.bsky.client import BskyClient

MODES = ("auto", "full")
SAFETY_LAG = timedelta(seconds=60)  # posts are searchable a few seconds after indexing
DEFAULT_WINDOW_MINUTES = 360
MIN_SPLIT_MS = 1000
# searchPosts pages through about this many results of one query, then the cursor stops
# (an offset: "25", "50", ...), however many more match: the window is split instead.
SEARCH_CAP = 10_000
# Pages without posts that may still carry a cursor, beyond the cap's pages, before a sweep
# gives up on a cursor that never ends.
EMPTY_PAGE_SLACK = 20
# service_cap: the cursor ended at the service's cap (the window is then split and re-read);
# page_bound: elex stopped a cursor that was still present after the cap's pages and the slack;
# cursor_repeat: the service sent back a cursor already followed (it would loop).
STOP_REASONS = ("service_cap", "page_bound", "cursor_repeat")
INCOMPLETE_STOPS = ("page_bound", "cursor_repeat")  # what was left unread is unknown
ROLLOVER_POSTS = 50_000

Interval = tuple[int, int]  # [lo, hi) in epoch milliseconds


class BskyCollectError(RuntimeError):
    """Collection cannot proceed as configured."""

    transient = False  # final: see core.retrying.is_deterministic


def to_ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def iso(ms: int) -> str:
    """Epoch ms as the lexicon's datetime (UTC, milliseconds, ``Z``)."""
    when = datetime.fromtimestamp(ms / 1000, UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def parse_time(value: str | None) -> int | None:
    parsed = parse_utc(value)
    return None if parsed is None else to_ms(parsed)


def subtract(window: Interval, covered: Sequence[Interval]) -> list[Interval]:
    """Parts of ``window`` not in ``covered``, oldest first."""
    gaps = []
    cursor = window[0]
    for lo, hi in sorted(covered):
        if lo >= window[1]:
            break
        if hi <= cursor:
            continue
        if lo > cursor:
            gaps.append((cursor, lo))
        cursor = max(cursor, hi)
    if cursor < window[1]:
        gaps.append((cursor, window[1]))
    return gaps


@dataclass
class PageSummary:
    """What a raw line tells about coverage (kept in the manifest and in the line)."""

    key: str
    window: Interval
    posts: int
    oldest: int | None
    newest: int | None
    last: bool
    stop: str | None = None  # why elex stopped following the cursor (STOP_REASONS), if not its end

    def to_json(self) -> dict[str, Any]:
        out = {"key": self.key, "window": list(self.window), "posts": self.posts,
               "oldest": self.oldest, "newest": self.newest, "last": self.last}
        if self.stop:
            out["stop"] = self.stop
        return out

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> PageSummary:
        return cls(raw["key"], (int(raw["window"][0]), int(raw["window"][1])), int(raw["posts"]),
                   raw.get("oldest"), raw.get("newest"), bool(raw["last"]), raw.get("stop"))


def coverage(pages: Sequence[PageSummary]) -> dict[str, list[Interval]]:
    """Intervals covered per query by a run's pages (consecutive pages of a window form a sweep).

    Results come newest first, so a sweep that read posts covers from its oldest
    post to the window's top, whether it ended or was interrupted; a sweep that
    ended without any post covers its whole window.
    """
    out: dict[str, list[Interval]] = {}
    groups: list[list[PageSummary]] = []
    for page in pages:
        prev = groups[-1][-1] if groups else None
        if prev and prev.key == page.key and prev.window == page.window and not prev.last:
            groups[-1].append(page)
        else:
            groups.append([page])
    for group in groups:
        lo, hi = group[0].window
        oldest = min((p.oldest for p in group if p.oldest is not None), default=None)
        if oldest is not None:
            out.setdefault(group[0].key, []).append((max(lo, oldest), hi))
        elif group[-1].last:
            out.setdefault(group[0].key, []).append((lo, hi))
    return out


@dataclass
class Manifest:
    run_id: str
    refresh_id: str | None
    day: str
    collected_at: str
    raw_key: str
    pages: list[PageSummary]
    complete: bool
    calls: int = 0

    @property
    def posts(self) -> int:
        return sum(p.posts for p in self.pages)

    def to_json(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "refresh_id": self.refresh_id, "day": self.day,
                "collected_at": self.collected_at, "raw_key": self.raw_key,
                "complete": self.complete, "posts": self.posts, "calls": self.calls,
                "pages": [p.to_json() for p in self.pages]}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Manifest:
        return cls(raw["run_id"], raw.get("refresh_id"), raw["day"], raw["collected_at"],
                   raw["raw_key"], [PageSummary.from_json(p) for p in raw["pages"]],
                   bool(raw["complete"]), int(raw.get("calls", 0)))


def raw_keys(lake: Lake, day: date) -> list[str]:
    return sorted(k for k in lake.list(layout.raw_bsky_prefix(day)) if k.endswith(".jsonl.gz"))


HEAL = ("The raw file is damaged; re-fetch the day with raw_bsky_posts run config mode: full "
        "(it replaces the day's raw files)")


def read_manifests(lake: Lake, day: date, strict: bool = True) -> list[Manifest]:
    """Manifests of the day's raw files, rebuilt from the raw lines when one is missing
    or unreadable.

    A raw file that cannot be read either raises an error naming it, unless ``not
    strict`` (a full refresh replaces it anyway): then it counts as covering nothing."""
    keys = set(lake.list(layout.raw_bsky_prefix(day)))
    out = []
    for key in sorted(k for k in keys if k.endswith(".jsonl.gz")):
        if manifest_key(key) in keys:
            try:  # a broken manifest is rebuilt from its raw file, as X's are
                out.append(Manifest.from_json(json.loads(lake.read_bytes(manifest_key(key)))))
                continue
            except (ValueError, KeyError, TypeError, IndexError, AttributeError):
                pass
        pages, first = [], {}
        try:
            records = raw_records(lake, key, HEAL)
        except DamagedRawFile:
            if strict:
                raise
            records = []
        for rec in records:
            first = first or rec
            pages.append(PageSummary.from_json(rec["summary"]))
        out.append(Manifest(first.get("run_id", key), first.get("refresh_id"), day.isoformat(),
                            first.get("collected_at", ""), key, pages, False))
    return sorted(out, key=lambda m: m.collected_at)


def incomplete_windows(lake: Lake, day: date) -> list[str]:
    """The day's windows elex left unread, each as ``query [since..until): reason``.

    A sweep stopped while its cursor still went on (:data:`INCOMPLETE_STOPS`) after
    reading posts is followed by a probe for what is older, which reads the rest; one
    stopped before reading any post leaves its whole window unknown."""
    out = []
    for manifest in read_manifests(lake, day):
        sweep: list[PageSummary] = []
        for page in manifest.pages:
            if sweep and (sweep[-1].key, sweep[-1].window) == (page.key, page.window) \
                    and not sweep[-1].last and not sweep[-1].stop:
                sweep.append(page)
            else:
                sweep = [page]
            if page.stop in INCOMPLETE_STOPS and not any(p.posts for p in sweep):
                out.append(f"{page.key} [{iso(page.window[0])}..{iso(page.window[1])}): "
                           f"{page.stop}")
    return out


@dataclass
class CollectResult:
    day: date
    mode: str
    window: tuple[str, str] | None
    pages: int = 0
    posts: int = 0
    calls: int = 0
    splits: int = 0
    empty_pages_with_cursor: int = 0
    stops: dict[str, int] = field(default_factory=dict)  # STOP_REASONS -> sweeps
    posts_per_query: dict[str, int] = field(default_factory=dict)
    landed: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def collect_day(
    client: BskyClient,
    lake: Lake,
    queries: Sequence[BskyQuery],
    day: date,
    *,
    run_id: str | None = None,
    now: datetime | None = None,
    mode: str = "auto",
    window_minutes: int = DEFAULT_WINDOW_MINUTES,
    page_size: int = PAGE_LIMIT,
    rollover_posts: int = ROLLOVER_POSTS,
    log: Callable[[str], None] = lambda _msg: None,
) -> CollectResult:
    """Read what ``day`` still lacks for every query and land it; see the module doc."""
    if mode not in MODES:
        raise BskyCollectError(f"mode {mode!r}: expected one of {MODES}")
    if window_minutes < 1:
        raise BskyCollectError(f"BSKY_WINDOW_MINUTES={window_minutes}: expected 1 or more")
    run_id = run_id or uuid.uuid4().hex[:12]
    now = (now or datetime.now(UTC)).astimezone(UTC)
    start, end = (to_ms(t) for t in day_window(day, now, SAFETY_LAG))
    result = CollectResult(day, mode, None)
    if end <= start:
        result.notes.append(f"{day} has not started yet (or started less than {SAFETY_LAG} ago)")
        return result
    window = (start, end)
    result.window = (iso(start), iso(end))
    until = cooldown_until(lake)
    if until is not None and until > now:
        result.notes.append(
            f"Bluesky rate limit: cooling down until {until.isoformat(timespec='seconds')} "
            "(its ratelimit-reset); nothing asked, the next run after it catches up")
        return result
    manifests = read_manifests(lake, day, strict=mode != "full")
    refresh_id = run_id if mode == "full" else None
    covered: dict[str, list[Interval]] = {}
    if mode != "full":
        for m in manifests:
            for key, ivs in coverage(m.pages).items():
                covered.setdefault(key, []).extend(ivs)
    writer = _RawWriter(lake, day, run_id, refresh_id, rollover_posts, log)
    reader = _Reader(client, writer, page_size, result)
    calls_before = client.calls
    error: BaseException | None = None
    try:
        for query in queries:
            for gap in reversed(subtract(window, covered.get(query.key, []))):
                for lo, hi in reversed(_chunks(gap, window_minutes * 60_000)):
                    reader.read(query, lo, hi)
    except BaseException as exc:  # land what was fetched, then fail
        error = exc
        if isinstance(exc, BskyRateLimited):  # no run asks again before the reset
            record_cooldown(lake, exc, run_id)
    result.calls = client.calls - calls_before
    writer.close(error is None, result.calls)
    result.landed = list(writer.landed)
    result.pages = len(writer.summaries)
    result.posts = sum(s.posts for s in writer.summaries)
    if error is None and refresh_id is not None:
        keep = set(writer.landed)
        for key in raw_keys(lake, day):
            if key not in keep:
                lake.delete(manifest_key(key))
                lake.delete(key)
                result.replaced.append(key)
    if error is not None:
        if writer.summaries:
            error.add_note(
                f"{result.pages} pages ({result.posts} posts) read before the failure were landed "
                f"in {', '.join(writer.landed)}; the next run continues from there"
            )
        raise error
    return result


def record_cooldown(lake: Lake, exc: BskyRateLimited, run_id: str) -> None:
    """No run asks Bluesky again before ``exc.reset_at`` (a rate limit, a refused login)."""
    reset = datetime.fromtimestamp(exc.reset_at, UTC).isoformat(timespec="seconds")
    lake.write_bytes(layout.bsky_cooldown_key(), json.dumps(
        {"until": reset, "run_id": run_id, "reason": type(exc).__name__,
         "message": str(exc)}).encode())


def cooldown_until(lake: Lake) -> datetime | None:
    """The end of the current rate-limit cool-down, if one was recorded."""
    if not lake.exists(layout.bsky_cooldown_key()):
        return None
    raw = json.loads(lake.read_bytes(layout.bsky_cooldown_key()))
    return datetime.fromisoformat(raw["until"])


def _chunks(gap: Interval, size: int) -> list[Interval]:
    """``gap`` cut at multiples of ``size`` (since the epoch; on midnight when it divides a
    day): windows line up across runs."""
    out = []
    lo = gap[0]
    while lo < gap[1]:
        hi = min(gap[1], (lo // size + 1) * size)
        out.append((lo, hi))
        lo = hi
    return out


class _Reader:
    """Reads a window to its end (sweep, probe, split); see the module doc."""

    def __init__(self, client: BskyClient, writer: _RawWriter, page_size: int,
                 result: CollectResult) -> None:
        self.client, self.writer, self.page_size, self.result = client, writer, page_size, result

    def read(self, query: BskyQuery, lo: int, hi: int) -> None:
        oldest = self._sweep(query, lo, hi)
        while oldest is not None and oldest > lo:
            # The cursor stopped after posts were read: is anything older left in the window?
            probe = self._sweep(query, lo, oldest, probe=True)
            if probe is None:
                return  # nothing older: the window was read to its end
            more = not self.writer.summaries[-1].last
            if more and oldest - lo >= 2 * MIN_SPLIT_MS:
                # More than a page was left: the cursor had stopped early. Split, re-read.
                self.result.splits += 1
                mid = lo + (oldest - lo) // 2
                self.read(query, mid, oldest)
                self.read(query, lo, mid)
                return
            oldest = self._sweep(query, lo, probe) if more else probe

    def _sweep(self, query: BskyQuery, lo: int, hi: int, probe: bool = False) -> int | None:
        """Every page of ``query`` over [lo, hi) (``probe``: up to the first page that holds
        a post); the oldest post read.

        The cursor is followed until it is absent, whatever the page holds: the service
        filters a page after cutting it, so a short or empty page may still carry a cursor.
        A cursor that ends at the service's cap, one that comes back, or one still present
        after the cap's pages and :data:`EMPTY_PAGE_SLACK` stops the sweep with a counted
        reason (:data:`STOP_REASONS`), recorded on the sweep's last page."""
        cursor: str | None = None
        oldest: int | None = None
        pages = 0
        seen: set[str] = set()
        bound = -(-SEARCH_CAP // self.page_size) + EMPTY_PAGE_SLACK
        while True:
            request = {"q": query.q, "since": iso(lo), "until": iso(hi), "sort": "latest",
                       "limit": self.page_size}
            if query.lang:
                request["lang"] = query.lang
            if cursor:
                request["cursor"] = cursor
            page = self.client.search(query.q, since=iso(lo), until=iso(hi), lang=query.lang,
                                      limit=self.page_size, cursor=cursor)
            pages += 1
            stop = None
            if page.cursor is None:
                if _offset(cursor) + self.page_size >= SEARCH_CAP:
                    stop = "service_cap"
            elif page.cursor in seen or page.cursor == cursor:
                stop = "cursor_repeat"
            elif pages >= bound:
                stop = "page_bound"
            times = [_position(p, lo, hi) for p in page.posts]
            summary = PageSummary(query.key, (lo, hi), len(page.posts),
                                  min(times) if times else None, max(times) if times else None,
                                  page.cursor is None, stop)
            self.writer.write(
                {"collected_at": datetime.now(UTC).isoformat(), "request": request,
                 "candidates": list(query.candidate_ids), "hits_total": page.hits_total},
                summary, page.raw)
            self.result.posts_per_query[query.key] = (
                self.result.posts_per_query.get(query.key, 0) + len(page.posts))
            if not page.posts and page.cursor is not None:
                self.result.empty_pages_with_cursor += 1
            if times:
                oldest = min(times) if oldest is None else min(oldest, min(times))
            if stop is not None:
                self.result.stops[stop] = self.result.stops.get(stop, 0) + 1
            if cursor:
                seen.add(cursor)
            cursor = page.cursor
            if cursor is None or stop is not None or (probe and page.posts):
                return oldest


def _offset(cursor: str | None) -> int:
    """The offset an offset cursor stands for (0: none, or not a number)."""
    return int(cursor) if cursor and cursor.isdigit() else 0


def _position(post: dict[str, Any], lo: int, hi: int) -> int:
    """Where searchPosts placed a post: its ``sortAt`` (createdAt, else indexedAt) in [lo, hi)."""
    record = post.get("record") or {}
    for value in (record.get("createdAt"), post.get("indexedAt")):
        ms = parse_time(value)
        if ms is not None and lo <= ms < hi:
            return ms
    return lo


class _RawWriter(RawPageWriter[PageSummary]):
    """searchPosts pages to the raw lake (see :class:`RawPageWriter`); the last manifest
    records the run's calls."""

    tmp_prefix = "elex-bsky-"

    def __init__(self, lake: Lake, day: date, run_id: str, refresh_id: str | None,
                 rollover_posts: int, log: Callable[[str], None]) -> None:
        self.calls = 0
        header = {"run_id": run_id, "refresh_id": refresh_id, "day": day.isoformat()}
        super().__init__(lake, day, run_id, refresh_id, header, layout.raw_bsky_key,
                         rollover_posts, log)

    def posts_of(self, summary: PageSummary) -> int:
        return summary.posts

    def manifest(self, key: str, complete: bool) -> dict[str, Any]:
        return Manifest(self.run_id, self.refresh_id, self.day.isoformat(),
                        self.collected_at.isoformat(), key, self.pages, complete,
                        self.calls).to_json()

    def write(self, meta: dict[str, Any], summary: PageSummary, response: bytes) -> None:
        raw = response.strip()
        if b"\n" in raw:  # one line per page: re-encode a pretty-printed body
            raw = json.dumps(json.loads(raw), ensure_ascii=False).encode()
        super().write(meta, summary, raw)

    def close(self, complete: bool, calls: int = 0) -> None:
        self.calls = calls
        super().close(complete)
