"""The Bluesky XRPC client: the atproto SDK's ``Client`` behind one retry layer.

Every call goes through ``_call``: a 429 waits until ``ratelimit-reset``
(bounded), 5xx and network errors back off exponentially with jitter (bounded),
an ``ExpiredToken`` renews the session (refresh token, else a new login with the
app password) and repeats the call, so a long run never dies of an expired
session. A wrong app password fails at once naming ``BSKY_APP_PASSWORD``; the
password itself never appears in logs, exceptions or metadata.

Raw pages are kept byte for byte: a ``Request`` subclass remembers the body of
the last response before the SDK parses it into models.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import httpx
from atproto import Client, models
from atproto_client.exceptions import (
    AtProtocolError,
    BadRequestError,
    InvokeTimeoutError,
    NetworkError,
    RateLimitExceededError,
    RequestException,
    UnauthorizedError,
)
from atproto_client.request import Request

from elex_assets.core.bsky.api import (  # re-exported: the client's own names
    DEFAULT_BASE_URL,
    GET_POSTS_LIMIT,
    PAGE_LIMIT,
    SANDBOX_APP_PASSWORD,
    SANDBOX_HANDLE,
    BskyAuthError,
    BskyError,
    BskyPolicy,
    BskyRateLimited,
    BskyRetriesExhausted,
    SearchPage,
    SessionStore,
)
from elex_assets.core.x_client import is_sandbox_url

T = TypeVar("T")

__all__ = [
    "DEFAULT_BASE_URL",
    "GET_POSTS_LIMIT",
    "PAGE_LIMIT",
    "SANDBOX_APP_PASSWORD",
    "SANDBOX_HANDLE",
    "BskyAuthError",
    "BskyClient",
    "BskyError",
    "BskyPolicy",
    "BskyRateLimited",
    "BskyRetriesExhausted",
    "SearchPage",
    "SessionStore",
    "is_sandbox_url",
]


class _RawRequest(Request):
    """The SDK's HTTP layer, remembering the last response body before it is parsed."""

    last_body: bytes = b""

    def _send_request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = super()._send_request(method, url, **kwargs)
        self.last_body = response.content
        return response


class BskyClient:
    """Logs in with an app password and reads searchPosts / getPosts pages."""

    def __init__(
        self,
        handle: str | None,
        app_password: str | None,
        base_url: str = DEFAULT_BASE_URL,
        policy: BskyPolicy | None = None,
        on_retry: Callable[[str, int], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        sessions: Callable[[str, str], SessionStore] | None = None,
    ) -> None:
        if not handle or not app_password:
            if not is_sandbox_url(base_url):
                missing = "BSKY_HANDLE" if not handle else "BSKY_APP_PASSWORD"
                raise BskyAuthError(
                    f"{missing} is not set: export your Bluesky handle (BSKY_HANDLE) and an app "
                    "password (BSKY_APP_PASSWORD, Settings > Privacy and security > App "
                    f"passwords); BSKY_BASE_URL={base_url} is not a sandbox on this machine"
                )
            handle, app_password = SANDBOX_HANDLE, SANDBOX_APP_PASSWORD
        self._handle = handle
        self._password = app_password
        self.base_url = base_url
        self.policy = policy or BskyPolicy()
        self.on_retry = on_retry
        self.sleep = sleep
        self._request = _RawRequest(timeout=self.policy.timeout)
        self._client = Client(base_url=base_url, request=self._request)
        self.calls = 0
        self.renewals = 0
        self.rate_limited = 0
        self.logins = 0
        self.session_reused = False
        self._logged_in = False
        self._store = sessions(handle, app_password) if sessions else None
        if self._store is not None:
            store = self._store
            self._client.on_session_change(lambda _event, session: store.save(session.export()))

    # ---- session -------------------------------------------------------------
    def login(self, reuse: bool = True) -> None:
        """The stored session when there is one (no request), else ``createSession``."""
        stored = self._store.load() if (reuse and self._store is not None) else None
        if stored:
            try:
                self._client.login(session_string=stored, fetch_bsky_profile=False)
                self._logged_in = self.session_reused = True
                return
            except (AtProtocolError, ValueError):
                pass  # unusable: log in afresh
        self.logins += 1
        try:
            self._retrying(lambda: self._client.login(
                self._handle, self._password, fetch_bsky_profile=False))
        except UnauthorizedError:
            raise BskyAuthError(
                f"Bluesky refused the login of {self._handle!r}: check BSKY_APP_PASSWORD (an "
                "app password of that account, e.g. xxxx-xxxx-xxxx-xxxx) and BSKY_HANDLE"
            ) from None
        except BadRequestError as exc:
            raise BskyAuthError(
                f"Bluesky refused the login of {self._handle!r} ({_error_name(exc)}): check "
                "BSKY_HANDLE and BSKY_APP_PASSWORD"
            ) from None
        self._logged_in = True

    def _renew(self) -> None:
        """A new access token: the refresh token first, a new login if that is refused."""
        self.renewals += 1
        try:
            self._client._refresh_and_set_session()  # the SDK's own refresh (no public name)
        except AtProtocolError:
            self.login(reuse=False)

    # ---- calls ---------------------------------------------------------------
    def search(self, q: str, *, since: str, until: str, lang: str | None = None,
               limit: int = PAGE_LIMIT, cursor: str | None = None) -> SearchPage:
        params = models.AppBskyFeedSearchPosts.Params(
            q=q, since=since, until=until, lang=lang, limit=limit, cursor=cursor, sort="latest")
        result = self._call(lambda: self._client.app.bsky.feed.search_posts(params))
        raw = self._request.last_body
        body = json.loads(raw)
        return SearchPage(raw, body.get("posts", []), result.cursor or None, result.hits_total)

    def get_posts(self, uris: Sequence[str]) -> list[dict[str, Any]]:
        """PostViews of the URIs still visible; a deleted post is simply absent."""
        out: list[dict[str, Any]] = []
        for i in range(0, len(uris), GET_POSTS_LIMIT):
            params = models.AppBskyFeedGetPosts.Params(uris=list(uris[i:i + GET_POSTS_LIMIT]))
            self._call(lambda p=params: self._client.app.bsky.feed.get_posts(p))
            out += json.loads(self._request.last_body).get("posts", [])
        return out

    def _call(self, fn: Callable[[], T]) -> T:
        if not self._logged_in:
            self.login()
        renewed = False
        while True:
            try:
                return self._retrying(fn)
            except BadRequestError as exc:
                if _error_name(exc) in ("ExpiredToken", "InvalidToken") and not renewed:
                    self._notify("session expired: renewing it", 1)
                    self._renew()
                    renewed = True
                    continue
                raise BskyError(f"Bluesky refused the request: {_describe(exc)}") from None
            except UnauthorizedError as exc:
                if not renewed:
                    self._renew()
                    renewed = True
                    continue
                raise BskyAuthError(
                    f"Bluesky refused the session ({_describe(exc)}): check BSKY_HANDLE and "
                    "BSKY_APP_PASSWORD"
                ) from None

    def _retrying(self, fn: Callable[[], T]) -> T:
        policy = self.policy
        for attempt in range(1, policy.max_attempts + 1):
            self.calls += 1
            try:
                return fn()
            except RateLimitExceededError as exc:
                self.rate_limited += 1
                wait = _reset_wait(exc)
                if wait > policy.max_rate_limit_wait or attempt == policy.max_attempts:
                    raise BskyRateLimited(
                        f"Bluesky rate limit: reset in {wait:.0f}s, beyond the bounds of this "
                        f"run (attempt {attempt}); the next run continues where this one stopped",
                        time.time() + wait,
                    ) from None
                self._notify(f"429 rate limited: waiting {wait:.1f}s for ratelimit-reset", attempt)
                self.sleep(wait)
            except (NetworkError, InvokeTimeoutError, RequestException) as exc:
                status = _status(exc)
                if isinstance(exc, RequestException) and status is not None and status < 500:
                    raise
                if attempt == policy.max_attempts:
                    raise BskyRetriesExhausted(
                        f"Bluesky kept failing ({_describe(exc)}) after {attempt} attempts"
                    ) from None
                wait = min(policy.backoff_max, policy.backoff_base ** attempt) * random.uniform(
                    0.5, 1.0)
                self._notify(f"{_describe(exc)}: retrying in {wait:.1f}s", attempt)
                self.sleep(wait)
        raise AssertionError("unreachable")

    def _notify(self, message: str, attempt: int) -> None:
        if self.on_retry:
            self.on_retry(message, attempt)


def _status(exc: AtProtocolError) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def _error_name(exc: AtProtocolError) -> str | None:
    content = getattr(getattr(exc, "response", None), "content", None)
    return getattr(content, "error", None)


def _describe(exc: AtProtocolError) -> str:
    status = _status(exc)
    content = getattr(getattr(exc, "response", None), "content", None)
    name = getattr(content, "error", None)
    message = getattr(content, "message", None)
    if status is None:
        return type(exc).__name__
    return f"HTTP {status} {name or ''} {message or ''}".strip()


def _reset_wait(exc: AtProtocolError) -> float:
    """Seconds until ``ratelimit-reset`` (epoch seconds), at least 1."""
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    try:
        reset = float(headers.get("ratelimit-reset", ""))
    except ValueError:
        return 60.0
    return max(1.0, reset - time.time())
