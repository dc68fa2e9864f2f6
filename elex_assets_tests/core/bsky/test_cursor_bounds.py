"""The cursor's bounds, on a scripted client (a narrow unit test of the sweep): the service's
cap is a counted stop the window recovers from by splitting; a cursor that never ends is
stopped after the cap's pages plus a slack, counted, and named as a window left unread."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from elex_assets.core.bsky.api import SearchPage
from elex_assets.core.bsky.collect import (
    EMPTY_PAGE_SLACK,
    SEARCH_CAP,
    collect_day,
    incomplete_windows,
    parse_time,
    raw_keys,
)
from elex_assets.core.bsky.normalise import iter_raw
from elex_assets.core.bsky.query import BskyQuery
from elex_assets.core.lake import Lake

DAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 21, 6, tzinfo=UTC)
QUERY = BskyQuery('"Jordan Bardella"', None, ("bardella",))


def _post(ms: int) -> dict[str, Any]:
    when = datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{ms % 1000:03d}Z"
    return {"uri": f"at://did:plc:a/app.bsky.feed.post/{ms}", "indexedAt": when,
            "record": {"createdAt": when, "text": "Jordan Bardella"}}


class ScriptedClient:
    """Answers searchPosts from ``hits`` (epoch ms, newest first) with an offset cursor that
    ends at ``cap`` results; ``endless``: every page is empty and the cursor never ends."""

    def __init__(self, hits: list[int], cap: int = SEARCH_CAP, endless: bool = False) -> None:
        self.hits, self.cap, self.endless = sorted(hits, reverse=True), cap, endless
        self.calls = 0

    def search(self, q: str, *, since: str, until: str, lang: str | None = None,
               limit: int = 100, cursor: str | None = None) -> SearchPage:
        self.calls += 1
        offset = int(cursor or 0)
        if self.endless:
            body: dict[str, Any] = {"posts": [], "cursor": str(offset + limit)}
        else:
            lo, hi = parse_time(since), parse_time(until)
            hits = [h for h in self.hits if lo <= h < hi]
            reach = min(len(hits), self.cap)
            body = {"posts": [_post(h) for h in hits[offset:min(offset + limit, reach)]]}
            if offset + limit < reach:
                body["cursor"] = str(offset + limit)
        raw = json.dumps(body).encode()
        return SearchPage(raw, body["posts"], body.get("cursor"), None)


def test_the_service_cap_is_a_counted_stop_and_the_window_is_split_and_read(
    tmp_path: Path,
) -> None:
    start = int(datetime(2026, 11, 20, tzinfo=UTC).timestamp() * 1000)
    hits = [start + i * 6_000 for i in range(SEARCH_CAP + 2_000)]  # 12,000 posts, 6 s apart
    client = ScriptedClient(hits)
    lake = Lake(str(tmp_path))
    result = collect_day(client, lake, [QUERY], DAY, now=NOW, window_minutes=1440)  # type: ignore[arg-type]
    assert result.stops["service_cap"] >= 1 and result.splits >= 1
    landed = {post["uri"] for _, post in iter_raw(lake, raw_keys(lake, DAY))}
    assert len(landed) == len(hits)  # the cap lost nothing
    assert incomplete_windows(lake, DAY) == []


def test_a_cursor_that_never_ends_is_bounded_counted_and_named(tmp_path: Path) -> None:
    client = ScriptedClient([], endless=True)
    lake = Lake(str(tmp_path))
    result = collect_day(client, lake, [QUERY], DAY, now=NOW, window_minutes=1440, page_size=100)  # type: ignore[arg-type]
    assert client.calls == SEARCH_CAP // 100 + EMPTY_PAGE_SLACK
    assert result.stops == {"page_bound": 1} and result.empty_pages_with_cursor == client.calls
    left = incomplete_windows(lake, DAY)
    assert left == ['*|"Jordan Bardella" [2026-11-20T00:00:00.000Z..2026-11-21T00:00:00.000Z): '
                    "page_bound"]
