"""Generated days written straight into the raw layout, without HTTP (benchmarks, big demos).

The lines are exactly what ``core.x.collect`` lands for a full-archive search
of the sandbox: one line per page of ``page_size`` posts, newest first.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from elex_assets.core.x.client import EXPANSIONS, TWEET_FIELDS, USER_FIELDS
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
    start_ms = int(start.timestamp() * 1000)
    return write_raw_window(
        generator, day, start_ms, start_ms + 86_400_000, path,
        page_size=page_size, query=query,
        collected_at=collected_at or start + timedelta(days=1, hours=1),
        compresslevel=compresslevel,
    )


def write_raw_window(
    generator: XGenerator,
    day: date,
    start_ms: int,
    end_ms: int,
    path: str | Path,
    *,
    collected_at: datetime,
    run_id: str = "bench",
    page_size: int = 500,
    query: str = "(sandbox)",
    compresslevel: int = 5,
) -> int:
    """The generated posts of [start_ms, end_ms), newest first, as one run lands them."""
    now_ms = int(collected_at.timestamp() * 1000)
    header = {"run_id": run_id, "refresh_id": run_id, "day": day.isoformat(),
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

        for post in generator.posts_newest_first(start_ms, end_ms):
            page.append(post)
            count += 1
            if len(page) == page_size:
                flush()
                page = []
        if page:
            flush()
    return count


def main(argv: list[str] | None = None) -> int:
    """``python -m elex_assets.sandbox.x_raw --posts-per-day N --day D --out FILE``."""
    import argparse

    from elex_assets.core.registry import load_registry

    parser = argparse.ArgumentParser(description="write a generated day of raw X pages")
    parser.add_argument("--election", default="2027")
    parser.add_argument("--day", default="2026-11-20")
    parser.add_argument("--posts-per-day", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    reg = load_registry(args.election)
    gen = XGenerator(reg.selected(), reg.election, posts_per_day=args.posts_per_day)
    n = write_raw_day(gen, date.fromisoformat(args.day), args.out, page_size=args.page_size)
    print(f"{n} posts -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
