"""A day range of pageviews for every candidate's articles, checked, then split into days.

One request per article covers the whole range (a backfill of a campaign asks
for months in a few dozen requests). Each answer is checked against its request
before anything lands: project, article (compared decoded), granularity, agent,
access and the timestamp of every item; a mismatch is :class:`WikimediaMismatch`.
Items of days outside the asked range (an answer may cover more) are dropped and
counted. A day with no item for an article is stored as 0 views (``zero_filled``)
only once the day is known to be loaded: some answer of the same project holds a
row for that day or a later one (Wikimedia loads a project's day at once). Days
not known to be loaded do not land: they are reported, and asked again later.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import polars as pl

from elex_assets.core.registry import Candidate
from elex_assets.core.schemas import WIKI_PAGEVIEWS
from elex_assets.core.wiki.api import (
    ACCESS,
    AGENT,
    DATA_START,
    GRANULARITY,
    Answer,
    WikimediaError,
    WikimediaMismatch,
)
from elex_assets.core.wiki.client import WikiClient
from elex_assets.core.wiki.titles import project_of, same_title

DEFAULT_LANGUAGES = ("fr", "en")
DROP_REASONS = ("outside_asked_days",)


@dataclass(frozen=True)
class Target:
    """One article to collect: whose, on which project, under which title."""

    candidate_id: str
    project: str
    article: str


def build_targets(candidates: Sequence[Candidate], languages: Sequence[str]) -> list[Target]:
    """Every candidate's article in each of ``languages`` (candidates without one: none)."""
    out = []
    for lang in languages:
        for cand in candidates:
            titles = dict(cand.wikipedia)
            if lang in titles:
                out.append(Target(cand.id, project_of(lang), titles[lang]))
    return out


@dataclass
class DayAccounting:
    """What a day's file holds: targets asked, rows from answers, rows filled with 0."""

    targets: int = 0
    answered: int = 0
    zero_filled: int = 0

    @property
    def rows(self) -> int:
        return self.answered + self.zero_filled

    def to_json(self) -> dict[str, int]:
        return {"targets": self.targets, "answered": self.answered,
                "zero_filled": self.zero_filled, "rows": self.rows}


@dataclass
class RangeResult:
    frames: dict[date, pl.DataFrame]  # the loaded days, one frame each
    accounting: dict[date, DayAccounting]
    not_loaded: list[date]  # asked days Wikimedia has not loaded yet (not landed)
    requests: int = 0  # answers received (one per article)
    not_found: int = 0  # 404 answers: no data for the article in the range
    items_read: int = 0
    dropped: dict[str, int] = field(default_factory=dict)


def askable_last(last: date, now: datetime) -> date:
    """The last day worth asking: a day is never loaded before it ends (UTC)."""
    return min(last, now.astimezone(UTC).date() - timedelta(days=1))


def _day_of(stamp: object, answer: Answer) -> date:
    text = str(stamp)
    try:
        if len(text) != 10 or not text.isdigit():
            raise ValueError
        day = datetime.strptime(text[:8], "%Y%m%d").date()
    except ValueError:
        raise WikimediaMismatch(
            f"{answer.project} {answer.article!r}: item timestamp {text!r} is not YYYYMMDDHH "
            f"({answer.url})") from None
    if text[8:] != "00":
        raise WikimediaMismatch(
            f"{answer.project} {answer.article!r}: timestamp {text!r} is not a day (daily "
            f"items end in 00; {answer.url})")
    return day


def check_answer(answer: Answer) -> dict[date, int]:
    """The views per day of an answer, after checking every item against the request."""
    views: dict[date, int] = {}
    expect = {"project": answer.project, "granularity": GRANULARITY, "agent": AGENT,
              "access": ACCESS}
    for item in answer.items:
        if not isinstance(item, dict):
            raise WikimediaMismatch(f"{answer.project} {answer.article!r}: an item is not an "
                                    f"object ({answer.url})")
        for key, wanted in expect.items():
            if key in item and item[key] != wanted or key in ("project", "granularity") \
                    and key not in item:
                raise WikimediaMismatch(
                    f"asked {key} {wanted!r} for {answer.article!r}, the answer holds "
                    f"{item.get(key)!r} ({answer.url})")
        if not same_title(str(item.get("article", "")), answer.article):
            raise WikimediaMismatch(
                f"asked {answer.project} article {answer.article!r}, the answer is about "
                f"{item.get('article')!r} ({answer.url})")
        day = _day_of(item.get("timestamp"), answer)
        count = item.get("views")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise WikimediaMismatch(f"{answer.project} {answer.article!r} {day}: views "
                                    f"{count!r} is not a count ({answer.url})")
        if day in views:
            raise WikimediaMismatch(f"{answer.project} {answer.article!r}: {day} appears twice "
                                    f"({answer.url})")
        views[day] = count
    return views


def _fetch_all(client: WikiClient, targets: Sequence[Target], first: date,
               last: date) -> list[Answer]:
    """Every target's answer, at most ``client.max_concurrent`` at once. The first error
    stops the rest: requests not sent yet are cancelled (a refusal or a long Retry-After
    must not be met by the remaining requests)."""
    stop = threading.Event()

    def fetch(target: Target) -> Answer:
        if stop.is_set():
            raise _Cancelled
        try:
            return client.daily(target.project, target.article, first, last)
        except BaseException:
            stop.set()  # before this worker (or another) takes the next target
            raise

    pool = ThreadPoolExecutor(max_workers=client.max_concurrent, thread_name_prefix="wikimedia")
    try:
        futures = [pool.submit(fetch, t) for t in targets]
        for done in as_completed(futures):
            error = done.exception()
            if error is not None and not isinstance(error, _Cancelled):
                stop.set()
                pool.shutdown(wait=True, cancel_futures=True)
                raise error
        return [f.result() for f in futures]
    finally:
        pool.shutdown(wait=True)


class _Cancelled(Exception):
    """A request not sent because an earlier one failed."""


def collect_range(
    client: WikiClient,
    targets: Sequence[Target],
    first: date,
    last: date,
    *,
    now: datetime,
    log: Callable[[str], None] = lambda _m: None,
) -> RangeResult:
    """Views of every target for each day of ``first``..``last`` that Wikimedia has loaded."""
    if first > last:
        raise ValueError(f"empty day range {first}..{last}")
    if first < DATA_START:
        raise WikimediaError(
            f"{first} is before {DATA_START}, the first day of Wikimedia's pageviews: "
            "nothing can be collected for it")
    collected_at = now.astimezone(UTC)
    asked = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    ask_last = askable_last(last, now)
    if not targets:
        return RangeResult({}, {}, [])  # nothing to ask: no day is missing for lack of data
    if ask_last < first:
        return RangeResult({}, {}, asked)  # today (or later): never loaded yet

    answers = _fetch_all(client, targets, first, ask_last)
    series = [check_answer(a) for a in answers]
    loaded_through: dict[str, date] = {}
    for target, views in zip(targets, series, strict=True):
        if views:
            newest = max(views)
            if newest > loaded_through.get(target.project, date.min):
                loaded_through[target.project] = newest
    dropped = sum(1 for views in series for d in views if not first <= d <= ask_last)
    result = RangeResult({}, {}, [], requests=len(answers),
                         not_found=sum(a.status == 404 for a in answers),
                         items_read=sum(len(v) for v in series),
                         dropped={"outside_asked_days": dropped} if dropped else {})
    for day in asked:
        rows = []
        acc = DayAccounting(targets=len(targets))
        for target, views in zip(targets, series, strict=True):
            if day > loaded_through.get(target.project, date.min):
                continue
            filled = day not in views
            acc.zero_filled += filled
            acc.answered += not filled
            rows.append((day, target.candidate_id, target.project, target.article,
                         views.get(day, 0), AGENT, ACCESS, filled, collected_at))
        if acc.rows < len(targets):  # a project without the day: the day waits for it
            result.not_loaded.append(day)
            continue
        frame = pl.DataFrame(rows, schema=WIKI_PAGEVIEWS.polars, orient="row")
        result.frames[day] = frame
        result.accounting[day] = acc
    if result.not_loaded:
        log(f"not loaded by Wikimedia yet: {result.not_loaded[0]} .. {result.not_loaded[-1]} "
            f"({len(result.not_loaded)} days)")
    return result
