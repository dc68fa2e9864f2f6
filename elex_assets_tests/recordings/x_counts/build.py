"""Writes the counts answers of this folder (run once; the output is committed).

No real counts exchange is in the project's recordings. These answers follow X's API
reference for ``GET /2/tweets/counts/recent`` and ``/2/tweets/counts/all`` and the
structure real answers show (PROVENANCE.md): compact JSON, buckets ``end, start,
tweet_count`` ascending and contiguous with zero buckets kept, the first and last
cut by the window, ``meta.total_tweet_count`` the sum of the page, ``next_token``
only when there is more. The counts themselves are invented (seeded).
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).parent
WIDTH = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def buckets(start: datetime, end: datetime, granularity: str, seed: int) -> list[dict]:
    rng = random.Random(seed)
    width = WIDTH[granularity]
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    out = []
    lo = start
    while lo < end:
        hi = min(end, epoch + ((lo - epoch) // width + 1) * width)
        n = 0 if rng.random() < 0.05 else rng.randrange(0, 40 if granularity == "hour" else 900)
        out.append({"end": _iso(hi), "start": _iso(lo), "tweet_count": n})
        lo = hi
    return out


def page(data: list[dict], token: str | None = None) -> bytes:
    meta: dict = {"total_tweet_count": sum(b["tweet_count"] for b in data)}
    if token:
        meta["next_token"] = token
    return json.dumps({"data": data, "meta": meta}, separators=(",", ":")).encode()


def headers(reset: int, date: str, version: str) -> dict[str, str]:
    return {"content-type": "application/json; charset=utf-8", "api-version": version,
            "x-access-level": "read", "x-rate-limit-limit": "300",
            "x-rate-limit-remaining": "299", "x-rate-limit-reset": str(reset), "date": date}


def main() -> None:
    t = lambda *a: datetime(*a, tzinfo=UTC)  # noqa: E731
    exchanges = []

    def add(name: str, endpoint: str, params: dict, start: datetime, end: datetime,
            granularity: str, seed: int, asked_at: datetime, pages: int = 1) -> None:
        data = buckets(start, end, granularity, seed)
        size = -(-len(data) // pages)
        chunks = [data[i:i + size] for i in range(0, len(data), size)]
        for n, chunk in enumerate(chunks):
            token = f"1jzu9lk96gu5npw2{name[:6]}{n:02d}xfvnsjvd4wq3k" if n + 1 < len(chunks) \
                else None
            body_file = f"{name}.json" if pages == 1 else f"{name}_{n}.json"
            (HERE / body_file).write_bytes(page(chunk, token))
            exchanges.append({
                "name": name, "endpoint": endpoint, "method": "GET", "query": params,
                "status": 200, "granularity": granularity,
                "window": [_iso(start), _iso(end)],
                "headers": headers(int(asked_at.timestamp()) + 900,
                                   asked_at.strftime("%a, %d %b %Y %H:%M:%S UTC"), "2.26"),
                "body_file": body_file, "buckets": len(chunk), "page_order": n,
                "next_token": token,
            })

    # Recent, hourly (the default granularity), no window asked: the last 7 days, the
    # first and last buckets cut at the request time less ~10 s.
    asked = t(2021, 10, 23, 14, 50, 26)
    add("recent_hour_week", "/2/tweets/counts/recent", {"query": "Tweepy"},
        asked - timedelta(days=7, seconds=10), asked - timedelta(seconds=10), "hour", 1, asked)
    # Full archive, daily, a window of January 2021 asked.
    add("all_day_january_2021", "/2/tweets/counts/all",
        {"query": "Tweepy", "granularity": "day", "start_time": "2021-01-01T00:00:00Z",
         "end_time": "2021-01-31T00:00:00Z"},
        t(2021, 1, 1), t(2021, 1, 31), "day", 2, t(2021, 10, 20, 9, 12, 3))
    # Full archive, hourly, no window asked: 30 days back from midnight, to now less ~10 s.
    asked = t(2021, 9, 27, 18, 58, 44)
    add("all_hour_month", "/2/tweets/counts/all", {"query": "Tweepy", "granularity": "hour"},
        t(2021, 8, 28), asked - timedelta(seconds=10), "hour", 3, asked)
    # Full archive, daily over more than 31 days: two pages joined by next_token.
    add("all_day_paginated", "/2/tweets/counts/all",
        {"query": "Tweepy", "granularity": "day", "start_time": "2021-03-01T00:00:00Z",
         "end_time": "2021-05-15T00:00:00Z"},
        t(2021, 3, 1), t(2021, 5, 15), "day", 4, t(2021, 10, 20, 9, 30, 0), pages=2)
    (HERE / "index.json").write_text(json.dumps({"exchanges": exchanges}, indent=2) + "\n")


if __name__ == "__main__":
    main()
