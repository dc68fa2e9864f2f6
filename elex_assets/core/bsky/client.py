"""The Bluesky XRPC client: the atproto SDK's ``Client`` behind one retry layer.

Every call goes through ``_call`` and elex's one retry layer
(:mod:`elex_assets.core.retrying`, policy ``BSKY_RETRY``): a 429 waits until
``ratelimit-reset`` (bounded), 5xx and network errors back off exponentially
with jitter (bounded); an ``ExpiredToken`` renews the session (refresh token, else a new login with the
app password) and repeats the call, so a long run never dies of an expired
session. A wrong app password fails at once naming ``BSKY_APP_PASSWORD``; the
password itself never appears in logs, exceptions or metadata. ``createSession`` is
limited to 10 a day per account: each attempt is counted and bounded by a
:class:`~elex_assets.core.bsky.session.LoginLedger` when one is given, and a 429 on it
is :class:`BskyLoginRateLimited` (a cool-down until its reset), never retried.
getPosts answers are checked against the URIs asked (:class:`BskyAnswerMismatch`).

Raw pages are kept byte for byte: a ``Request`` subclass remembers the body of
the last response before the SDK parses it into models.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import httpx
from atproto import Client, models
from atproto_client.exceptions import (
    AtProtocolError,
    BadRequestError,
    NetworkError,
    RateLimitExceededError,
    RequestException,
    UnauthorizedError,
)
from atproto_client.request import Request

from elex_assets.core.bsky.api import (  # re-exported: the client's own names
    DEFAULT_BASE_URL,
    GET_POSTS_LIMIT,
    LOGIN_LIMIT,
    LOGIN_WINDOW,
    PAGE_LIMIT,
    SANDBOX_APP_PASSWORD,
    SANDBOX_HANDLE,
    BskyAnswerMismatch,
    BskyAuthError,
    BskyError,
    BskyLoginBudgetExhausted,
    BskyLoginCoolDown,
    BskyLoginRateLimited,
    BskyPolicy,
    BskyRateLimited,
    BskyRetriesExhausted,
    SearchPage,
    SessionStore,
)
from elex_assets.core.bsky.session import LoginLedger
from elex_assets.core.retrying import GiveUp, RateLimited, Transient, reset_from_headers, retrying
from elex_assets.core.x.client import is_sandbox_url

T = TypeVar("T")

__all__ = [
    "DEFAULT_BASE_URL",
    "GET_POSTS_LIMIT",
    "PAGE_LIMIT",
    "SANDBOX_APP_PASSWORD",
    "SANDBOX_HANDLE",
    "BskyAnswerMismatch",
    "BskyAuthError",
    "BskyClient",
    "BskyError",
    "BskyLoginBudgetExhausted",
    "BskyLoginCoolDown",
    "BskyLoginRateLimited",
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
    last_headers: dict[str, str] = {}  # replaced on each answer, never mutated

    def _send_request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = super()._send_request(method, url, **kwargs)
        self.last_body = response.content
        self.last_headers = dict(response.headers)
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
        logins: Callable[[str], LoginLedger] | None = None,
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
        self.ledger = logins(handle) if logins else None
        if self._store is not None:
            store = self._store
            self._client.on_session_change(lambda _event, session: store.save(session.export()))

    @property
    def last_headers(self) -> dict[str, str]:
        """The headers of the last answer (``elex doctor`` reads a login's ``ratelimit-*``)."""
        return self._request.last_headers

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
        try:
            self._retrying(self._create_session)
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

    def _create_session(self) -> None:
        """One ``createSession``, counted and bounded by the ledger; a 429 is a named
        cool-down until its reset, never retried (each attempt spends one of the day's 10)."""
        if self.ledger is not None:
            self.ledger.check()
            self.ledger.record()
        self.logins += 1
        try:
            self._client.login(self._handle, self._password, fetch_bsky_profile=False)
        except RateLimitExceededError as exc:
            self.rate_limited += 1
            reset = _reset(exc) or time.time() + LOGIN_WINDOW
            when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(reset))
            raise BskyLoginRateLimited(
                f"Bluesky refused the login of {self._handle!r} ({_describe(exc)}): "
                f"createSession is limited to {LOGIN_LIMIT} a day per account "
                f"(ratelimit-policy {_policy(exc) or f'{LOGIN_LIMIT};w=86400'}); no login "
                f"before {when}, when its window resets", reset) from None

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
            batch = list(uris[i:i + GET_POSTS_LIMIT])
            params = models.AppBskyFeedGetPosts.Params(uris=batch)
            self._call(lambda p=params: self._client.app.bsky.feed.get_posts(p))
            posts = json.loads(self._request.last_body).get("posts", [])
            foreign = [p.get("uri") for p in posts if p.get("uri") not in batch]
            if foreign:  # a missing post means deleted: a foreign answer would delete them all
                raise BskyAnswerMismatch(
                    f"getPosts answered {len(foreign)} post(s) that were not asked (first: "
                    f"{foreign[0]}) for {len(batch)} URIs (first: {batch[0]}): not the answer "
                    "to this request, so no post is judged deleted from it")
            out += posts
        return out

    def _call(self, fn: Callable[[], T]) -> T:
        """``fn`` with retries; an expired or refused session is renewed once, then ``fn``
        asked again (a long run never dies of an expired session)."""
        if not self._logged_in:
            self.login()
        try:
            return self._retrying(fn)
        except (BadRequestError, UnauthorizedError) as exc:
            if isinstance(exc, BadRequestError) and not _expired(exc):
                raise _refused(exc) from None
            if isinstance(exc, BadRequestError):
                self._notify("session expired: renewing it", 1)
            self._renew()
        try:
            return self._retrying(fn)
        except (BadRequestError, UnauthorizedError) as exc:
            raise _refused(exc) from None

    def _retrying(self, fn: Callable[[], T]) -> T:
        """``fn`` under the Bluesky policy (:mod:`elex_assets.core.retrying`)."""

        def attempt() -> T:
            self.calls += 1
            try:
                return fn()
            except RateLimitExceededError as exc:
                self.rate_limited += 1
                raise RateLimited(_describe(exc), _reset(exc)) from None
            except (NetworkError, RequestException) as exc:
                status = _status(exc)
                if isinstance(exc, RequestException) and status is not None and status < 500:
                    raise  # deterministic: the caller names it
                raise Transient(_describe(exc)) from None

        def give_up(stop: GiveUp) -> BskyRetriesExhausted:
            if stop.rate_limited:
                return BskyRateLimited(
                    f"Bluesky rate limit: reset in {stop.wait:.0f}s, beyond the bounds of this "
                    f"run (attempt {stop.attempts}); the next run continues where this one "
                    "stopped", time.time() + stop.wait,
                )
            return BskyRetriesExhausted(
                f"Bluesky kept failing ({stop.last}) after {stop.attempts} attempts")

        retry = retrying(self.policy.retry, what="Bluesky", give_up=give_up, sleep=self.sleep,
                         on_retry=self._notify)
        return retry(attempt)

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


def _reset(exc: AtProtocolError) -> float | None:
    """When the rate-limit window reopens (``ratelimit-reset``, epoch seconds), if said."""
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    return reset_from_headers(headers)


def _policy(exc: AtProtocolError) -> str | None:
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    return {k.lower(): v for k, v in headers.items()}.get("ratelimit-policy")


def _expired(exc: AtProtocolError) -> bool:
    return _error_name(exc) in ("ExpiredToken", "InvalidToken")


def _refused(exc: AtProtocolError) -> BskyError:
    """A refusal that renewing the session did not cure, as elex's error."""
    if isinstance(exc, UnauthorizedError):
        return BskyAuthError(
            f"Bluesky refused the session ({_describe(exc)}): check BSKY_HANDLE and "
            "BSKY_APP_PASSWORD"
        )
    return BskyError(f"Bluesky refused the request: {_describe(exc)}")
