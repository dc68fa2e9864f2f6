"""A loopback server speaking Bluesky's XRPC, as the atproto SDK expects it.

Serves what elex uses: ``com.atproto.server.createSession`` / ``refreshSession``
(app-password login, short-lived access tokens as JWTs), ``app.bsky.feed.searchPosts``
(``q`` with quoted phrases, ``from:`` and ``mentions:``; ``since``/``until``,
``lang``, ``sort``, ``limit`` <= 100, an opaque ``cursor``) and
``app.bsky.feed.getPosts`` (at most 25 URIs; deleted posts are simply absent).

Quirks kept from the real service (``recordings/bsky/README``): no ``hitsTotal``;
the cursor is an offset (``"25"``, ``"50"``...) that stops after ``max_depth``
results (about 10,000) even when more match; a page is cut from the hits *before*
posts that cannot be shown (deleted, taken down: ``take_down``) are removed, so a
page may be short or empty and still carry a cursor; ``since``/``until`` must be
full timestamps (a bare date answers 400); every answer carries
``ratelimit-limit/remaining/reset/policy`` headers (``3000;w=300``), except
``createSession``, limited on its own to 10 a day (``10;w=86400``); an over-used or
injected limit answers 429 ``RateLimitExceeded``, an expired access token answers
400 ``ExpiredToken``, a wrong password 401 ``AuthenticationRequired``. Posts are
deleted over time (see ``bsky_data``) or on demand (``sandbox.delete(uri)``).
Faults are injected with ``sandbox.faults.add("429" | "503" | "expire", ...)``.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlparse

from elex_assets.core.registry import Candidate, load_registry
from elex_assets.sandbox.bsky_data import BPost, BskyGenerator, fold
from elex_assets.sandbox.faults import FaultQueue
from elex_assets.sandbox.loopback import LoopbackServer

SANDBOX_IDENTIFIER = "sandbox.bsky.social"
SANDBOX_APP_PASSWORD = "sand-box0-test-pass"  # the sandbox's app password (not a secret)
FAULT_KINDS = ("429", "503", "expire")
RATE_LIMIT = 3000
RATE_WINDOW = 300
LOGIN_LIMIT = 10  # createSession per account and day (ratelimit-policy: 10;w=86400)
LOGIN_WINDOW = 86_400
SEARCH_CAP = 10_000  # results the search cursor pages through
SEARCH = "/xrpc/app.bsky.feed.searchPosts"
GET_POSTS = "/xrpc/app.bsky.feed.getPosts"
CREATE_SESSION = "/xrpc/com.atproto.server.createSession"
REFRESH_SESSION = "/xrpc/com.atproto.server.refreshSession"
_TERM = re.compile(r'"([^"]*)"|(\S+)')


class XrpcError(Exception):
    def __init__(self, status: int, error: str, message: str,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {error}: {message}")
        self.status, self.error, self.message = status, error, message
        self.headers = headers or {}


class Faults(FaultQueue):
    """Faults for the next matching XRPC requests."""

    kinds = FAULT_KINDS
    default_path = SEARCH


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$")


def parse_when(value: str, name: str) -> datetime:
    """A full timestamp with its zone; a bare ``YYYY-MM-DD`` is refused with 400, as the
    service refuses it (whatever the lexicon's prose says)."""
    if not _DATETIME.match(value):
        raise XrpcError(400, "InvalidRequest", f"{name} must be a valid datetime string")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise XrpcError(400, "InvalidRequest",
                        f"{name} must be a valid datetime string") from None
    return parsed.astimezone(UTC)


@dataclass(frozen=True)
class _Hidden:
    """A hit the index still holds but no page shows (a taken-down or deleted post)."""

    uri: str
    created: datetime


@dataclass
class _Token:
    kind: str  # access | refresh
    did: str
    exp: float
    revoked: bool = False


class BskySandbox(LoopbackServer):
    """The sandbox Bluesky XRPC service on 127.0.0.1 (port 0 = a free port)."""

    name = "Bluesky sandbox"

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    def __init__(
        self,
        candidates: Sequence[Candidate] | None = None,
        election: str = "2027",
        posts_per_day: int = 400,
        seed: int = 2027,
        host: str = "127.0.0.1",
        port: int = 0,
        max_depth: int = SEARCH_CAP,
        app_password: str = SANDBOX_APP_PASSWORD,
        access_ttl: float = 7200.0,
        deletion_rate: float = 0.03,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if candidates is None:
            candidates = load_registry(election).selected()
        self.generator = BskyGenerator(candidates, posts_per_day, seed, deletion_rate)
        self.max_depth = max_depth
        self.app_password = app_password
        self.access_ttl = access_ttl
        self.clock = clock or (lambda: datetime.now(UTC))
        self.faults = Faults()
        self.requests: deque[dict[str, Any]] = deque(maxlen=100_000)
        self.deleted: set[str] = set()
        self.hidden: list[_Hidden] = []  # take_down(): hits no page shows
        self.logins: deque[float] = deque()  # createSession times (wall clock), for its limit
        self.account_did = "did:plc:sandboxsandboxsandboxsan"
        self._tokens: dict[str, _Token] = {}
        self._window = (0.0, 0)  # (window start, requests in it)
        self._lock = threading.Lock()
        super().__init__(host, port)

    # ---- data ----------------------------------------------------------------
    def delete(self, uri: str) -> None:
        """Delete a post now (as its author would): search and getPosts stop returning it."""
        self.deleted.add(uri)

    def take_down(self, at: datetime, count: int) -> None:
        """``count`` hits at ``at`` that every query matches and no page shows (a burst of
        posts taken down after indexing): pages cut over them come back short or empty,
        with a cursor."""
        base = len(self.hidden)
        self.hidden += [_Hidden(f"at://did:plc:takendown/app.bsky.feed.post/{base + i}", at)
                        for i in range(count)]

    def visible(self, post: BPost, now: datetime) -> bool:
        return (post.created <= now and post.uri not in self.deleted
                and (post.deleted_at is None or now < post.deleted_at))

    def search(self, params: dict[str, list[str]]) -> dict[str, Any]:
        q = _one(params, "q")
        if not q or not q.strip():
            raise XrpcError(400, "InvalidRequest", 'Error: Params must have the property "q"')
        limit = int(_one(params, "limit") or 25)
        if not 1 <= limit <= 100:
            raise XrpcError(400, "InvalidRequest", "limit must be between 1 and 100")
        sort = _one(params, "sort") or "latest"
        if sort not in ("latest", "top"):
            raise XrpcError(400, "InvalidRequest", "sort must be one of latest, top")
        now = self.clock()
        until = min(parse_when(u, "until"), now) if (u := _one(params, "until")) else now
        since = parse_when(s, "since") if (s := _one(params, "since")) else until - timedelta(days=2)
        lang = _one(params, "lang")
        match = self._matcher(q)
        hits: list[tuple[datetime, str, BPost | None]] = []  # None: a hit no page shows
        day = since.date()
        while day <= until.date():
            for post in self.generator.day(day):
                if since <= post.created < until and post.created <= now \
                        and (lang is None or post.lang == lang) and match(post):
                    hits.append((post.created, post.uri,
                                 post if self.visible(post, now) else None))
            day += timedelta(days=1)
        hits += [(h.created, h.uri, None) for h in self.hidden if since <= h.created < until]
        hits.sort(key=lambda h: (h[0], h[1]), reverse=True)
        cursor = _one(params, "cursor")
        offset = int(cursor) if cursor and cursor.isdigit() else 0
        reach = min(len(hits), self.max_depth)
        page = [p for _, _, p in hits[offset:min(offset + limit, reach)] if p is not None]
        out: dict[str, Any] = {"posts": [p.view() for p in page]}
        if offset + limit < reach:
            out["cursor"] = str(offset + limit)
        return out

    def _matcher(self, q: str) -> Callable[[BPost], bool]:
        phrases, authors, mentions = [], [], []
        for phrase, word in _TERM.findall(q):
            if phrase:
                phrases.append(fold(phrase))
            elif word.startswith("from:"):
                authors.append(word[5:].lower().removeprefix("@"))
            elif word.startswith("mentions:"):
                mentions.append(word[9:].lower().removeprefix("@"))
            else:
                phrases.append(fold(word))
        patterns = [re.compile(rf"(?<!\w){re.escape(p)}(?!\w)") for p in phrases]

        def match(post: BPost) -> bool:
            return (all(p.search(post.folded) for p in patterns)
                    and all(post.author.handle == a for a in authors)
                    and all(m in post.mentions for m in mentions))

        return match

    def get_posts(self, params: dict[str, list[str]]) -> dict[str, Any]:
        uris = params.get("uris", [])
        if len(uris) > 25:
            raise XrpcError(400, "InvalidRequest", "uris must not have more than 25 elements")
        now = self.clock()
        posts = []
        for uri in uris:
            post = self.generator.find(uri)
            if post is not None and self.visible(post, now):
                posts.append(post.view())
        return {"posts": posts}

    # ---- sessions ------------------------------------------------------------
    def _issue(self) -> dict[str, Any]:
        now = time.time()
        access = self._jwt("com.atproto.access", now + self.access_ttl)
        refresh = self._jwt("com.atproto.refresh", now + 90 * 86400)
        self._tokens[access] = _Token("access", self.account_did, now + self.access_ttl)
        self._tokens[refresh] = _Token("refresh", self.account_did, now + 90 * 86400)
        return {"accessJwt": access, "refreshJwt": refresh, "handle": SANDBOX_IDENTIFIER,
                "did": self.account_did, "active": True}

    def _jwt(self, scope: str, exp: float) -> str:
        header = _b64({"typ": "at+jwt" if "access" in scope else "refresh+jwt", "alg": "ES256K"})
        payload = _b64({"scope": scope, "sub": self.account_did, "iat": int(time.time()),
                        "exp": int(exp), "aud": "did:web:sandbox.bsky.invalid",
                        "jti": secrets.token_hex(8)})
        return f"{header}.{payload}.{secrets.token_urlsafe(48)}"

    def login_headers(self) -> tuple[dict[str, str], bool]:
        """createSession's own ``ratelimit-*`` headers (10 a day), and whether this login is
        over the limit (every attempt counts, a wrong password too, as the recorded 401 shows;
        one refused for the limit does not)."""
        now = time.time()
        with self._lock:
            while self.logins and now - self.logins[0] >= LOGIN_WINDOW:
                self.logins.popleft()
            over = len(self.logins) >= LOGIN_LIMIT
            if not over:
                self.logins.append(now)
            reset = int((self.logins[0] if self.logins else now) + LOGIN_WINDOW)
            remaining = max(0, LOGIN_LIMIT - len(self.logins))
        return {"ratelimit-limit": str(LOGIN_LIMIT), "ratelimit-remaining": str(remaining),
                "ratelimit-reset": str(reset),
                "ratelimit-policy": f"{LOGIN_LIMIT};w={LOGIN_WINDOW}"}, over

    def create_session(self, body: dict[str, Any], base_url: str) -> dict[str, Any]:
        if not body.get("identifier") or not body.get("password"):
            raise XrpcError(400, "InvalidRequest", 'Input must have the property "identifier"')
        if body["password"] != self.app_password:
            raise XrpcError(401, "AuthenticationRequired", "Invalid identifier or password")
        tokens = self._issue()
        session = {  # the recorded order of keys
            "did": self.account_did,
            "didDoc": {
                "@context": ["https://www.w3.org/ns/did/v1"],
                "id": self.account_did,
                "alsoKnownAs": [f"at://{SANDBOX_IDENTIFIER}"],
                "verificationMethod": [],
                "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer",
                             "serviceEndpoint": base_url}],
            },
            "handle": SANDBOX_IDENTIFIER, "email": "sandbox@example.invalid",
            "emailConfirmed": True, "emailAuthFactor": False,
            "accessJwt": tokens["accessJwt"], "refreshJwt": tokens["refreshJwt"], "active": True,
        }
        return session

    def refresh_session(self, token: str) -> dict[str, Any]:
        info = self._tokens.get(token)
        if info is None or info.kind != "refresh" or info.revoked:
            raise XrpcError(400, "InvalidToken", "Token has been revoked")
        info.revoked = True  # refresh tokens are single-use
        return self._issue()

    def expire_sessions(self) -> None:
        """Expire every access token now (as if hours had passed)."""
        with self._lock:
            for info in self._tokens.values():
                if info.kind == "access":
                    info.exp = 0

    def authorise(self, header: str) -> None:
        if not header.startswith("Bearer "):
            raise XrpcError(401, "AuthenticationRequired", "Authentication Required")
        info = self._tokens.get(header[7:].strip())
        if info is None or info.kind != "access" or info.revoked:
            raise XrpcError(401, "AuthenticationRequired", "Invalid token")
        if info.exp <= time.time():
            raise XrpcError(400, "ExpiredToken", "Token has expired")

    def rate_headers(self) -> tuple[dict[str, str], bool]:
        """The ``ratelimit-*`` headers of this request, and whether it is over the limit."""
        now = time.time()
        with self._lock:
            start, used = self._window
            if now - start >= RATE_WINDOW:
                start, used = now, 0
            used += 1
            self._window = (start, used)
        headers = {"ratelimit-limit": str(RATE_LIMIT),
                   "ratelimit-remaining": str(max(0, RATE_LIMIT - used)),
                   "ratelimit-reset": str(int(start + RATE_WINDOW)),
                   "ratelimit-policy": f"{RATE_LIMIT};w={RATE_WINDOW}"}
        return headers, used > RATE_LIMIT


def _one(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    return values[-1] if values else None


class _Handler(BaseHTTPRequestHandler):
    sandbox: BskySandbox
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet by default
        pass

    def _send(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
        payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json; charset=utf-8")
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("content-length", str(len(payload)))
        # Headers and body in one write: two small writes on a kept-alive connection
        # meet Nagle's algorithm and delayed ACKs (40 ms per request).
        self._headers_buffer.append(b"\r\n" + payload)  # type: ignore[attr-defined]
        self.flush_headers()

    def _handle(self, method: str) -> None:
        url = urlparse(self.path)
        params = parse_qs(url.query, keep_blank_values=True)
        sandbox = self.sandbox
        with sandbox._lock:
            sandbox.requests.append({"method": method, "path": url.path, "params": params})
        # createSession is limited on its own (10 a day), the other calls together.
        login = url.path == CREATE_SESSION and method == "POST"
        headers, over = sandbox.login_headers() if login else sandbox.rate_headers()
        body: dict[str, Any] = {}
        if method == "POST":
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else {}
            except json.JSONDecodeError:
                body = {}
        try:
            fault = sandbox.faults.take(url.path)
            if (fault is not None and fault.kind == "429") or over:
                if fault is not None or not login:  # an over-used login keeps its own reset
                    window = fault.reset_in if fault else RATE_WINDOW
                    headers["ratelimit-reset"] = str(int(time.time() + window + 0.999))
                headers["ratelimit-remaining"] = "0"
                raise XrpcError(429, "RateLimitExceeded", "Rate Limit Exceeded")
            if fault is not None and fault.kind == "503":
                raise XrpcError(503, "InternalServerError", "Service Unavailable")
            if fault is not None and fault.kind == "expire":
                sandbox.expire_sessions()
            if login:
                host = self.headers.get("Host") or "127.0.0.1"
                self._send(200, sandbox.create_session(body, f"http://{host}"), headers)
            elif url.path == REFRESH_SESSION and method == "POST":
                auth = self.headers.get("Authorization", "")
                self._send(200, sandbox.refresh_session(auth.removeprefix("Bearer ").strip()),
                           headers)
            elif url.path in (SEARCH, GET_POSTS) and method == "GET":
                sandbox.authorise(self.headers.get("Authorization", ""))
                result = sandbox.search(params) if url.path == SEARCH else sandbox.get_posts(params)
                self._send(200, result, headers)
            else:
                raise XrpcError(501, "MethodNotImplemented", "Method Not Implemented")
        except XrpcError as err:
            headers.update(err.headers)
            self._send(err.status, {"error": err.error, "message": err.message}, headers)
        except (ValueError, KeyError) as err:
            self._send(400, {"error": "InvalidRequest", "message": str(err)}, headers)

    def do_GET(self) -> None:  # noqa: N802
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")
