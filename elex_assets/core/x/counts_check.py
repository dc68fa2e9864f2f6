"""Every counts answer is checked against its request before a row of it lands.

``GET /2/tweets/counts/{recent,all}`` answers buckets ``{start, end, tweet_count}``
and ``meta.total_tweet_count`` (plus ``meta.next_token`` when there is more). A
replayed, cached or proxied answer to another request looks just as valid: an
answer of hourly buckets from another week, or of daily buckets from another year,
would otherwise land as the partition's hours. What real answers always hold
(X's API reference; every real answer seen): buckets ascending, contiguous, zero
buckets included; the first starts at the asked ``start_time`` and the last ends
at the asked ``end_time``; the others start and end on the granularity's
boundaries (UTC); one page's buckets sum to its ``total_tweet_count``. So:

- every bucket lies inside the asked window, is at most one granularity wide and
  starts and ends on a boundary, except where the asked window cuts it;
- the buckets of all pages tile the window exactly: no gap, no overlap;
- each page's ``total_tweet_count`` equals the sum of its buckets;
- the request tweepy sent is the one asked (query, granularity, window, token);
  a ``next_token`` is a non-empty string and never comes back twice.

A mismatch is :class:`CountsMismatch`: deterministic (asking again gets the same
answer), never retried, and nothing of the request lands.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from elex_assets.core.x.collect import XCollectError

GRANULARITY = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1),
               "day": timedelta(days=1)}
MAX_COUNTS_PAGES = 40  # a day of hours is one page; 40 pages is 40 months of days


class CountsMismatch(XCollectError):
    """A counts answer that is not the answer to its request (window, granularity,
    totals, pagination); the message says what was asked and what came back."""


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class CountsRequest:
    """What one counts request asked for."""

    endpoint: str
    query: str
    granularity: str
    start: datetime
    end: datetime

    @property
    def width(self) -> timedelta:
        return GRANULARITY[self.granularity]

    def describe(self) -> str:
        query = self.query if len(self.query) <= 60 else self.query[:57] + "..."
        return (f"{self.granularity} counts ({self.endpoint}) of {query!r} over "
                f"{_iso(self.start)}..{_iso(self.end)}")

    def params(self) -> dict[str, str]:
        """The request's parameters as sent on the wire."""
        return {"query": self.query, "granularity": self.granularity,
                "start_time": _iso(self.start), "end_time": _iso(self.end)}


@dataclass(frozen=True)
class Bucket:
    start: datetime
    end: datetime
    count: int

    def describe(self) -> str:
        return f"{_iso(self.start)}..{_iso(self.end)}"


def _mismatch(request: CountsRequest, what: str) -> CountsMismatch:
    return CountsMismatch(
        f"X counts answer does not match its request: asked {request.describe()}; "
        f"{what}. Nothing of it was landed (a stale cache, a proxy or a replay answering "
        "another request?); asking again gets the same answer, so it is not retried"
    )


def _time(request: CountsRequest, value: Any, field: str, index: int) -> datetime:
    if not isinstance(value, str):
        raise _mismatch(request, f"bucket {index} has no readable {field} ({value!r})")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _mismatch(request, f"bucket {index} has no readable {field} ({value!r})") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def _on_boundary(when: datetime, width: timedelta) -> bool:
    return (when - datetime(1970, 1, 1, tzinfo=UTC)) % width == timedelta(0)


def check_sent(request: CountsRequest, sent: Mapping[str, str], token: str | None) -> None:
    """The request that went out (as the answer's URL shows) is the one asked."""
    if not sent:
        return  # no URL to compare (a client that does not report it)
    wanted = request.params()
    if token:
        wanted["next_token"] = token
    for name, value in wanted.items():
        got = sent.get(name) if name != "next_token" else (
            sent.get("next_token") or sent.get("pagination_token"))
        if got != value:
            raise _mismatch(request, f"the request sent {name}={got!r}, not {value!r}")


def page_buckets(request: CountsRequest, body: Mapping[str, Any]) -> list[Bucket]:
    """One page's buckets, each inside the window, of the asked width and on its
    boundaries; the page's total equal to their sum."""
    data = body.get("data", [])
    meta = body.get("meta")
    if not isinstance(data, list) or not isinstance(meta, Mapping):
        raise _mismatch(request, "the answer has no data list or no meta object")
    width = request.width
    buckets: list[Bucket] = []
    outside: list[str] = []
    for i, raw in enumerate(data):
        if not isinstance(raw, Mapping):
            raise _mismatch(request, f"bucket {i} is not an object ({raw!r})")
        start = _time(request, raw.get("start"), "start", i)
        end = _time(request, raw.get("end"), "end", i)
        count = raw.get("tweet_count")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise _mismatch(request, f"bucket {i} ({_iso(start)}) has tweet_count {count!r}, "
                                     "not a count")
        bucket = Bucket(start, end, count)
        if start < request.start or end > request.end or end <= start:
            outside.append(bucket.describe())
            continue
        if end - start > width:
            raise _mismatch(request, f"bucket {bucket.describe()} is {end - start} wide, not "
                                     f"{request.granularity} ({width}): another granularity")
        if (start != request.start and not _on_boundary(start, width)) or (
                end != request.end and not _on_boundary(end, width)):
            raise _mismatch(request, f"bucket {bucket.describe()} does not start and end on "
                                     f"{request.granularity} boundaries")
        buckets.append(bucket)
    if outside:
        raise _mismatch(request, f"{len(outside)} of {len(data)} buckets lie outside the asked "
                                 f"window (first: {outside[0]}, last: {outside[-1]})")
    total = meta.get("total_tweet_count")
    counted = sum(b.count for b in buckets)
    if total is None and not data:
        raise _mismatch(request, "the answer has neither buckets nor a total_tweet_count")
    if total != counted:
        raise _mismatch(request, f"meta.total_tweet_count is {total!r} but its {len(buckets)} "
                                 f"buckets sum to {counted}")
    return buckets


def next_token(request: CountsRequest, body: Mapping[str, Any], seen: set[str],
               pages: int) -> str | None:
    """The page's ``next_token``, refused when it is not a token, comes back, or pages
    run past :data:`MAX_COUNTS_PAGES`."""
    token = (body.get("meta") or {}).get("next_token")
    if token is None:
        return None
    if not isinstance(token, str) or not token:
        raise _mismatch(request, f"meta.next_token is {token!r}, not a token")
    if token in seen:
        raise _mismatch(request, f"meta.next_token {token!r} came back a second time: the "
                                 "pages would loop")
    if pages >= MAX_COUNTS_PAGES:
        raise _mismatch(request, f"more than {MAX_COUNTS_PAGES} pages for one request")
    seen.add(token)
    return token


def check_coverage(request: CountsRequest, buckets: Sequence[Bucket]) -> None:
    """The buckets of every page tile the asked window exactly (an answer with no bucket
    at all and totals of 0 is accepted: nothing was counted)."""
    if not buckets:
        return
    ordered = sorted(buckets, key=lambda b: b.start)
    if ordered[0].start != request.start:
        raise _mismatch(request, f"the first bucket starts at {_iso(ordered[0].start)}, not "
                                 "at the asked start_time")
    if ordered[-1].end != request.end:
        raise _mismatch(request, f"the last bucket ends at {_iso(ordered[-1].end)}, not at the "
                                 "asked end_time")
    for before, after in zip(ordered, ordered[1:], strict=False):
        if after.start < before.end:
            raise _mismatch(request, f"buckets {before.describe()} and {after.describe()} "
                                     "overlap (a page answered twice?)")
        if after.start > before.end:
            raise _mismatch(request, f"no bucket covers {_iso(before.end)}..{_iso(after.start)}")
