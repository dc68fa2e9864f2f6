"""The optional filtered-stream collector: posts as they are published, into the raw layout.

For accounts with stream access. Stream rules are synchronised with the queries
(one rule per query, tagged with its candidates); the stream runs for a fixed
duration and every ``flush_seconds`` the posts received are landed as raw files
of their day, in the same page shape as search (``endpoint: "stream"``), so the
``tweets`` normaliser reads them like any other page.
"""

from __future__ import annotations

import gzip
import io
import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import requests
import tweepy

from elex_assets.core import layout
from elex_assets.core.lake import Lake
from elex_assets.core.x.client import XApiError, XAuthError, _redirect_session_class
from elex_assets.core.x.collect import Manifest, manifest_key
from elex_assets.core.x.query import XQuery


@dataclass
class StreamResult:
    posts: int = 0
    files: list[str] = field(default_factory=list)
    days: set[date] = field(default_factory=set)
    rules: int = 0


class _Stream(tweepy.StreamingClient):
    def __init__(self, token: str, on_line: Callable[[bytes], None], **kwargs: object) -> None:
        super().__init__(token, return_type=requests.Response, **kwargs)
        self._on_line = on_line
        self.failure: str | None = None

    def on_data(self, raw_data: bytes) -> None:
        self._on_line(raw_data)

    def on_request_error(self, status_code: int) -> None:
        if status_code in (401, 403, 429):
            self.failure = f"X stream refused the connection (HTTP {status_code})"
            self.disconnect()

    def on_exception(self, exception: Exception) -> None:
        self.failure = f"X stream failed: {type(exception).__name__}: {exception}"


def sync_rules(stream: tweepy.StreamingClient, queries: Sequence[XQuery]) -> int:
    """Make the stream's rules exactly one per query (tagged with its candidates)."""
    try:
        existing = stream.get_rules().json().get("data", [])
        wanted = {q.text: ",".join(q.candidate_ids)[:128] for q in queries}
        stale = [r["id"] for r in existing if r["value"] not in wanted]
        if stale:
            stream.delete_rules(stale)
        have = {r["value"] for r in existing}
        add = [tweepy.StreamRule(value=v, tag=t) for v, t in wanted.items() if v not in have]
        if add:
            stream.add_rules(add)
    except (tweepy.Unauthorized, tweepy.Forbidden) as exc:
        raise XAuthError(
            f"X stream rules refused (HTTP {exc.response.status_code}): the filtered stream "
            "needs an app with stream access; check X_BEARER_TOKEN"
        ) from None
    except tweepy.HTTPException as exc:
        raise XApiError(f"X stream rules failed (HTTP {exc.response.status_code})") from None
    return len(queries)


def landed_line(
    raw: bytes, run_id: str, rules_by_id: dict[str, str]
) -> tuple[date, dict[str, Any]] | None:
    """One stream message as the raw line it lands as (the search pages' shape), with its
    day; None for a keep-alive or anything without a dated post."""
    try:
        msg = json.loads(raw)
    except ValueError:
        return None
    data = msg.get("data")
    if not isinstance(data, dict) or "created_at" not in data:
        return None
    created = datetime.fromisoformat(data["created_at"].replace("Z", "+00:00"))
    rules = [r.get("id") for r in msg.get("matching_rules", [])]
    query = " OR ".join(rules_by_id.get(r, r) for r in rules if r)
    return created.date(), {
        "run_id": run_id, "refresh_id": None, "day": created.date().isoformat(),
        "endpoint": "stream", "open_end": True,
        "collected_at": datetime.now(UTC).isoformat(),
        "request": {"endpoint": "stream", "query": query},
        "summary": None,
        "response": {"data": [data], "includes": msg.get("includes", {}),
                     # X's partial errors (an expansion it could not deliver): counted
                     # by type when the day is normalised, as for search pages.
                     **({"errors": msg["errors"]} if msg.get("errors") else {})},
    }


def stream_to_lake(
    token: str,
    base_url: str,
    lake: Lake,
    queries: Sequence[XQuery],
    duration_seconds: float,
    run_id: str,
    flush_seconds: float = 60.0,
    log: Callable[[str], None] = lambda _m: None,
) -> StreamResult:
    """Stream for ``duration_seconds``, landing received posts every ``flush_seconds``."""
    result = StreamResult()
    lock = threading.Lock()
    buffer: dict[date, list[bytes]] = {}
    rules_by_id: dict[str, str] = {}

    def on_line(raw: bytes) -> None:
        landed = landed_line(raw, run_id, rules_by_id)
        if landed is None:
            return
        day, line = landed
        with lock:
            buffer.setdefault(day, []).append(json.dumps(line, ensure_ascii=False).encode())

    def flush() -> None:
        with lock:
            pending = {d: lines for d, lines in buffer.items() if lines}
            buffer.clear()
        for day, lines in pending.items():
            collected = datetime.now(UTC)
            key = layout.raw_tweets_key(day, collected, f"{run_id}-stream")
            out = io.BytesIO()
            with gzip.GzipFile(fileobj=out, mode="wb") as gz:
                gz.write(b"\n".join(lines) + b"\n")
            lake.write_bytes(key, out.getvalue())
            manifest = Manifest(run_id, None, day.isoformat(), "stream", collected.isoformat(),
                                key, [], True, True)
            lake.write_bytes(manifest_key(key), json.dumps(manifest.to_json()).encode())
            result.posts += len(lines)
            result.files.append(key)
            result.days.add(day)
            log(f"landed {len(lines)} streamed posts -> {lake.uri(key)}")

    stream = _Stream(token, on_line, max_retries=5)
    stream.session = _redirect_session_class()(base_url, timeout=30)
    result.rules = sync_rules(stream, queries)
    rules_by_id.update({r["id"]: r["value"] for r in stream.get_rules().json().get("data", [])})
    from elex_assets.core.x.client import EXPANSIONS, TWEET_FIELDS, USER_FIELDS

    thread = threading.Thread(
        target=stream.filter, name="x-stream", daemon=True,
        kwargs={"tweet_fields": TWEET_FIELDS, "expansions": EXPANSIONS,
                "user_fields": USER_FIELDS},
    )
    thread.start()
    deadline = time.monotonic() + duration_seconds
    try:
        while time.monotonic() < deadline and thread.is_alive():
            time.sleep(min(flush_seconds, max(0.05, deadline - time.monotonic())))
            flush()
    finally:
        stream.disconnect()
        thread.join(timeout=30)
        flush()
    if stream.failure:
        raise XApiError(stream.failure + f" ({result.posts} posts landed before)")
    return result
