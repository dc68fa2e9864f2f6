"""Generated days written straight into the raw layout, without HTTP (benchmarks, big demos).

The lines are exactly what ``core.x_collect`` lands for a full-archive search
of the sandbox: one line per page of ``page_size`` posts, newest first.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from elex_assets.core.x_client import EXPANSIONS, TWEET_FIELDS, USER_FIELDS
from elex_assets.sandbox.x_generator import XGenerator
from elex_assets.sandbox.x_server import render_posts

PARAMS = {"tweet.fields": TWEET_FIELDS, "expansions": EXPANSIONS, "user.fields": USER_FIELDS}


def write_raw_day(
    generator: XGenerator,
    day: date,
    path: str | Path,
    *,
    page_size: int = 500,
    query: str = "(sandbox)",
    collected_at: datetime | None = None,
    compresslevel: int = 5,
) -> int:
    """Every generated post of ``day`` (matched or not) as raw pages in ``path``; returns posts."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    collected_at = collected_at or start + timedelta(days=1, hours=1)
    now_ms = int(collected_at.timestamp() * 1000)
    start_ms = int(start.timestamp() * 1000)
    header = {"run_id": "bench", "refresh_id": "bench", "day": day.isoformat(),
              "endpoint": "all", "open_end": False,
              "collected_at": collected_at.isoformat(), "request": {"endpoint": "all",
                                                                    "query": query}}
    count = 0
    page: list = []
    with gzip.open(path, "wb", compresslevel=compresslevel) as out:
        def flush() -> None:
            body = render_posts(page, PARAMS, now_ms)
            body["meta"] = {"newest_id": page[0].tweet["id"], "oldest_id": page[-1].tweet["id"],
                            "result_count": len(page)}
            out.write(json.dumps({**header, "response": body}, ensure_ascii=False).encode()
                      + b"\n")

        for post in generator.posts_newest_first(start_ms, start_ms + 86_400_000):
            page.append(post)
            count += 1
            if len(page) == page_size:
                flush()
                page = []
        if page:
            flush()
    return count
