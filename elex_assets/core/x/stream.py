"""The optional filtered-stream collector: posts as they are published, into the raw layout.

For accounts with stream access. Stream rules are synchronised with the queries
(one rule per query, tagged with its candidates); the stream runs for a fixed
duration and every ``flush_seconds`` the posts received are landed as raw files
of their day, in the same page shape as search (``endpoint: "stream"``), so the
``tweets`` normaliser reads them like any other page.

Posts read from the stream are billed like search results, so they are metered
(:class:`StreamMeter`): reserved in blocks, ahead of the posts, in the same shared
counters as search (``X_MAX_POSTS_PER_MONTH``, ``X_MAX_USD_PER_DAY``/``_MONTH``).
When the next block does not fit the stream disconnects and the run fails naming
the ceiling; the few posts already in flight are kept and counted.
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
from elex_assets.core.x.collect import Manifest, PostBudget, manifest_key
from elex_assets.core.x.query import XQuery
from elex_assets.core.x.spend import SpendGuard

STREAM_BLOCK = 100  # posts reserved at a time (a search page's worth)


@dataclass
class StreamResult:
    posts: int = 0
    files: list[str] = field(default_factory=list)
    days: set[date] = field(default_factory=set)
    rules: int = 0


class StreamMeter:
    """Counts the posts the stream delivers against the shared budgets, a block ahead.

    Before connecting, and each time a block is used up, the next ``block`` posts are
    reserved in the month's post counter and the dollar ledger (the same conditional
    writes as a search page). A refusal is kept in ``stopped`` and the caller
    disconnects; posts arriving after it (already sent by X) are still counted.
    """

    def __init__(self, posts: PostBudget | None, spend: SpendGuard | None,
                 block: int = STREAM_BLOCK) -> None:
        self.posts, self.spend, self.block = posts, spend, block
        self.reserved = 0  # posts the open block holds
        self.used = 0  # posts counted into the open block
        self.read = 0  # posts metered in all
        self.stopped: BaseException | None = None

    def _settle(self) -> None:
        used, reserved, self.used, self.reserved = self.used, self.reserved, 0, 0
        if not used and not reserved:
            return
        if self.posts is not None:
            self.posts.settle(used)
        if self.spend is not None:
            self.spend.record_posts(used)

    def reserve(self) -> None:
        """Settle the open block and reserve the next; raises at a ceiling."""
        self._settle()
        size = self.block
        if self.posts is not None:
            size = self.posts.reserve(size)
        try:
            if self.spend is not None:
                size = self.spend.posts_page_size(size)
        except BaseException:
            if self.posts is not None:
                self.posts.cancel()
            raise
        self.reserved = size

    def take(self) -> bool:
        """Count one post; False once a ceiling stopped the stream (disconnect)."""
        self.used += 1
        self.read += 1
        if self.stopped is None and self.used >= self.reserved:
            try:
                self.reserve()
            except Exception as exc:  # XSpendCeiling, XBudgetExceeded, a damaged ledger
                self.stopped = exc
        return self.stopped is None

    def close(self) -> None:
        """End of the stream: the open block is settled to the posts it counted."""
        self._settle()
        if self.posts is not None:
            self.posts.close(landed=self.read > 0)


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
    meter: StreamMeter | None = None,
) -> StreamResult:
    """Stream for ``duration_seconds``, landing received posts every ``flush_seconds``.

    With a ``meter`` every post is counted against the shared budgets; at a ceiling the
    stream stops early and its exception is raised once what was received is landed.
    """
    result = StreamResult()
    meter = meter or StreamMeter(None, None)
    meter.reserve()  # the first block, before connecting: nothing is read past a ceiling
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
        if not meter.take():
            stream.disconnect()

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
        meter.close()
    if meter.stopped is not None:
        meter.stopped.add_note(f"the stream stopped there; {result.posts} posts landed before")
        raise meter.stopped
    if stream.failure:
        raise XApiError(stream.failure + f" ({result.posts} posts landed before)")
    return result
