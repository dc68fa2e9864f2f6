"""A loopback server replaying the real recorded Bluesky exchanges (``recordings/bsky/``).

- ``createSession`` answers the recorded exchange (200, or the recorded 401), with its
  headers (``ratelimit-policy: 10;w=86400``); the recorder blanked the tokens, so two
  JWTs stand in for them, and the DID document's PDS endpoint names this server (the SDK
  sends its next calls there). ``refreshSession`` answers new tokens the same way.
- ``searchPosts`` answers from the recorded posts of one exchange: with ``verbatim``, the
  recorded body byte for byte; otherwise the posts within ``since``/``until``, newest
  first, paged by an offset cursor as the service pages them: a page is cut from the
  hits, then the hits it cannot show (``hidden``: a burst of taken-down posts placed
  after the ``hidden_after``-th newest post) are removed, so a page may be short or
  empty and still carry a cursor.
- ``getPosts`` answers the recorded body for the recorded URI (an unknown URI: no post).
"""

from __future__ import annotations

import base64
import json
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from elex_assets.core.windows import parse_utc
from elex_assets.sandbox.loopback import LoopbackServer

RECORDINGS = Path(__file__).parent / "recordings" / "bsky"
_DROP = ("transfer-encoding", "content-encoding", "connection", "date", "content-length", "etag")


def exchange(name: str) -> dict[str, Any]:
    return json.loads((RECORDINGS / f"{name}.json").read_text())


def recorded_posts(name: str) -> list[dict[str, Any]]:
    return json.loads(exchange(name)["body"])["posts"]


def sort_at(post: dict[str, Any]) -> float:
    """Where the service places a post: the earlier of its creation and indexing times."""
    times = [parse_utc((post.get("record") or {}).get("createdAt")),
             parse_utc(post.get("indexedAt"))]
    return min(t.timestamp() for t in times if t is not None)


def _jwt(kind: str, exp: float) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return (f"{part({'typ': kind, 'alg': 'ES256K'})}."
            f"{part({'scope': 'com.atproto.' + kind, 'exp': int(exp), 'iat': int(time.time())})}"
            ".c2lnbmF0dXJl")


class BskyReplay(LoopbackServer):
    name = "bsky-replay"

    def __init__(self, search: str = "bskyr__vcr__f_search", *, verbatim: bool = False,
                 hidden: int = 0, hidden_after: int = 10, stuck_cursor: str | None = None,
                 login: str = "bskyr__vcr__repo_auth_direct",
                 getposts: str = "bskyr__vcr__f_getposts") -> None:
        super().__init__()
        self.search_exchange = exchange(search)
        self.posts = sorted(recorded_posts(search), key=sort_at, reverse=True)
        self.verbatim = verbatim
        self.stuck_cursor = stuck_cursor  # a faulty service: this cursor answers itself again
        self.hidden, self.hidden_after = hidden, hidden_after
        self.login = exchange(login)
        self.getposts = exchange(getposts)
        # The burst lies in time between the hidden_after-th and the next newest post.
        self.burst_at = None if not hidden or len(self.posts) <= hidden_after else (
            sort_at(self.posts[hidden_after - 1]) + sort_at(self.posts[hidden_after])) / 2
        self.requests: list[dict[str, Any]] = []

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    def headers_of(self, ex: dict[str, Any]) -> dict[str, str]:
        return {k: v for k, v in ex["headers"].items() if k.lower() not in _DROP}

    def session(self, base_url: str) -> dict[str, Any]:
        body = json.loads(self.login["body"])
        body["accessJwt"] = _jwt("access", time.time() + 7200)
        body["refreshJwt"] = _jwt("refresh", time.time() + 90 * 86400)
        for service in (body.get("didDoc") or {}).get("service", []):
            service["serviceEndpoint"] = base_url
        return body

    def search(self, params: dict[str, list[str]]) -> tuple[int, dict[str, str], bytes]:
        headers = self.headers_of(self.search_exchange)
        if self.verbatim:
            return 200, headers, self.search_exchange["body"].encode()
        since = parse_utc(params.get("since", [None])[-1])
        until = parse_utc(params.get("until", [None])[-1])
        posts = [p for p in self.posts
                 if (since is None or sort_at(p) >= since.timestamp())
                 and (until is None or sort_at(p) < until.timestamp())]
        hits: list[tuple[float, dict[str, Any] | None]] = [(sort_at(p), p) for p in posts]
        at = self.burst_at
        if at is not None and (since is None or at >= since.timestamp()) and (
                until is None or at < until.timestamp()):
            hits += [(at, None)] * self.hidden
        hits.sort(key=lambda h: h[0], reverse=True)
        limit = int(params.get("limit", ["25"])[-1])
        cursor = params.get("cursor", [""])[-1]
        if self.stuck_cursor is not None and cursor == self.stuck_cursor:
            return 200, headers, json.dumps({"posts": [], "cursor": cursor}).encode()
        offset = int(cursor) if cursor.isdigit() else 0
        body: dict[str, Any] = {"posts": [p for _, p in hits[offset:offset + limit]
                                          if p is not None]}
        if offset + limit < len(hits):
            body["cursor"] = str(offset + limit)
        return 200, headers, json.dumps(body, separators=(",", ":")).encode()

    def get_posts(self, params: dict[str, list[str]]) -> tuple[int, dict[str, str], bytes]:
        ex = self.getposts
        known = ex["params"]["uris"]
        if set(params.get("uris", [])) & set(known):
            return 200, self.headers_of(ex), ex["body"].encode()
        return 200, self.headers_of(ex), b'{"posts":[]}'


class _Handler(BaseHTTPRequestHandler):
    sandbox: BskyReplay

    def log_message(self, *args: object) -> None:
        pass

    def _reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self, method: str) -> None:
        url = urlparse(self.path)
        params = parse_qs(url.query)
        replay = self.sandbox
        replay.requests.append({"method": method, "path": url.path, "params": params})
        if method == "POST":
            self.rfile.read(int(self.headers.get("content-length") or 0))
        if url.path.endswith("com.atproto.server.createSession"):
            login = replay.login
            if login["status"] != 200:
                return self._reply(login["status"], replay.headers_of(login),
                                   login["body"].encode())
            host = self.headers.get("Host") or "127.0.0.1"
            return self._reply(200, replay.headers_of(login),
                               json.dumps(replay.session(f"http://{host}")).encode())
        if url.path.endswith("com.atproto.server.refreshSession"):
            host = self.headers.get("Host") or "127.0.0.1"
            return self._reply(200, {"content-type": "application/json; charset=utf-8"},
                               json.dumps(replay.session(f"http://{host}")).encode())
        if url.path.endswith("app.bsky.feed.searchPosts"):
            return self._reply(*replay.search(params))
        if url.path.endswith("app.bsky.feed.getPosts"):
            return self._reply(*replay.get_posts(params))
        return self._reply(501, {"content-type": "application/json"},
                           b'{"error":"MethodNotImplemented","message":"Method Not Implemented"}')

    def do_GET(self) -> None:  # noqa: N802
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")
