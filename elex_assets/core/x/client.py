"""The X API v2 client: tweepy's ``Client`` behind one retry layer.

tweepy hard-codes ``https://api.twitter.com``; a session subclass sends its
requests to ``X_API_BASE_URL`` instead (the sandbox on loopback, or a proxy).
Every call goes through elex's one retry layer (:mod:`elex_assets.core.retrying`,
policy ``X_RETRY``): a 429 waits until ``x-rate-limit-reset`` (bounded), 5xx,
network errors and truncated bodies back off exponentially with jitter
(bounded), then fail with a clear message; 401/403, 400 and the monthly usage
cap fail at once. The bearer token never appears in logs,
exceptions or metadata.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlparse

from elex_assets.core.retrying import (
    GiveUp,
    RateLimited,
    RetryPolicy,
    Transient,
    on_local_clock,
    past_the_bound,
    retrying,
)

if TYPE_CHECKING:  # tweepy and requests load when a client is built, not with the definitions
    import requests
    import tweepy

X_HOST = "https://api.twitter.com"  # what tweepy hard-codes; redirected to the base URL
DEFAULT_BASE_URL = "https://api.x.com"
SEARCH_ROUTES = {"recent": "/2/tweets/search/recent", "all": "/2/tweets/search/all"}
TWEET_FIELDS = (
    "attachments,author_id,conversation_id,created_at,entities,id,in_reply_to_user_id,"
    "lang,possibly_sensitive,public_metrics,referenced_tweets,reply_settings,text,"
    "edit_history_tweet_ids,note_tweet"
)
COUNTS_ROUTES = {"recent": "/2/tweets/counts/recent", "all": "/2/tweets/counts/all"}
EXPANSIONS = (
    "author_id,referenced_tweets.id,referenced_tweets.id.author_id,in_reply_to_user_id,"
    "entities.mentions.username"
)
USER_FIELDS = "created_at,description,location,name,public_metrics,username,verified"

log = logging.getLogger(__name__)
T = TypeVar("T")


class XApiError(RuntimeError):
    """The X API refused or kept failing; the message says what to do."""

    transient = False  # 401/403 on any endpoint, 400, the usage cap (core.retrying)


class XAuthError(XApiError):
    """401/403: the token is wrong, or the app lacks access to the endpoint."""


class XUsageCapError(XApiError):
    """The account's monthly post cap is reached (429 usage-capped)."""


class XRetriesExhausted(XApiError):
    """Rate limits, server errors or network errors persisted past the retry bounds
    (final, not transient, when a rate limit's reset lies past the wait bound)."""

    transient = True


def is_sandbox_url(base_url: str) -> bool:
    """Sandbox mode: the API base URL points at this machine (loopback)."""
    host = urlparse(base_url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


X_RETRY = RetryPolicy(
    "X API", max_attempts=6, backoff_base=2.0, backoff_max=120.0, max_rate_limit_wait=960.0,
    reset_header="x-rate-limit-reset",
)  # search and counts; defs/x/resources.py narrows it from the settings


@cache
def _redirect_session_class() -> type:
    """A ``requests.Session`` that sends tweepy's ``https://api.twitter.com`` requests to
    another base URL (defined on first use: requests loads with the first client)."""
    import requests

    class RedirectSession(requests.Session):
        def __init__(self, base_url: str, timeout: float) -> None:
            super().__init__()
            self.base_url = base_url.rstrip("/")
            self.timeout = timeout

        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
            if url.startswith(X_HOST):
                url = self.base_url + url[len(X_HOST):]
            kwargs.setdefault("timeout", self.timeout)
            return super().request(method, url, *args, **kwargs)

    return RedirectSession


class _RedactToken(logging.Filter):
    """tweepy logs request headers at DEBUG: blank the bearer token out."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if self.token and self.token in record.getMessage():
            record.msg = record.getMessage().replace(self.token, "***")
            record.args = None
        return True


def _problem(exc: tweepy.HTTPException) -> str:
    """X's problem body in a few words (title/detail/errors), never the request headers."""
    try:
        body = exc.response.json()
    except Exception:
        return f"HTTP {exc.response.status_code}"
    parts = [str(body.get(k)) for k in ("title", "detail") if body.get(k)]
    parts += [e.get("message", "") for e in body.get("errors", []) if isinstance(e, dict)]
    return f"HTTP {exc.response.status_code}: " + "; ".join(dict.fromkeys(p for p in parts if p))


def _is_usage_cap(exc: tweepy.HTTPException) -> bool:
    try:
        return "usage-capped" in str(exc.response.json().get("type", ""))
    except Exception:
        return False


def _attempt(call: Callable[[], T]) -> T:
    """One X API call: transient faults become :class:`Transient`, the others X's errors."""
    import requests
    import tweepy

    try:
        return call()
    except tweepy.TooManyRequests as exc:
        if _is_usage_cap(exc):
            raise XUsageCapError(
                f"X API usage cap reached ({_problem(exc)}): no more posts can be "
                "read this month on this account; collection stops until the cap "
                "resets (see X_MAX_POSTS_PER_MONTH to stop before it)"
            ) from None
        headers = getattr(getattr(exc, "response", None), "headers", None)
        raise RateLimited(reset=on_local_clock(exc.reset_time, headers)) from None
    except (tweepy.Unauthorized, tweepy.Forbidden) as exc:
        raise XAuthError(
            f"X API refused the request ({_problem(exc)}): check X_BEARER_TOKEN "
            "(an app bearer token) and that the app has access to this endpoint "
            "(full-archive search needs Pro or Enterprise access)"
        ) from None
    except tweepy.BadRequest as exc:
        raise XApiError(f"X API rejected the request ({_problem(exc)})") from None
    except tweepy.TwitterServerError as exc:
        raise Transient(f"server error ({_problem(exc)})") from None
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise Transient(f"network error ({type(exc).__name__})") from None
    except requests.exceptions.ChunkedEncodingError:
        raise Transient("connection dropped mid-response") from None
    except TruncatedBody as exc:
        raise Transient(str(exc)) from None
    except tweepy.HTTPException as exc:
        raise XApiError(f"X API error ({_problem(exc)})") from None


def _give_up(stop: GiveUp) -> XRetriesExhausted:
    if stop.beyond_bound:
        return past_the_bound(XRetriesExhausted(
            f"X API rate limit: reset in {stop.wait:.0f}s exceeds the bound of "
            f"{stop.policy.max_rate_limit_wait:.0f}s; run again later"
        ), stop)
    return XRetriesExhausted(f"X API still failing after {stop.attempts} attempts: {stop.last}")


class TruncatedBody(Exception):
    """A 2xx response whose JSON body is incomplete."""


@dataclass
class Page:
    """One search response: the parsed body and the bytes as X sent them."""

    body: dict[str, Any]
    raw: bytes
    params: dict[str, Any]

    @property
    def meta(self) -> dict[str, Any]:
        return self.body.get("meta", {})

    @property
    def result_count(self) -> int:
        return int(self.meta.get("result_count", 0))

    @property
    def next_token(self) -> str | None:
        return self.meta.get("next_token")


class XClient:
    """Search pages from X (or the sandbox); every call retried under ``self.policy``."""

    def __init__(
        self,
        bearer_token: str,
        base_url: str = DEFAULT_BASE_URL,
        policy: RetryPolicy | None = None,
        timeout: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        on_retry: Callable[[str, int], None] | None = None,
    ) -> None:
        if not bearer_token:
            raise XAuthError("X_BEARER_TOKEN is not set: export the app bearer token of your X app")
        self.base_url = base_url.rstrip("/")
        self.policy = policy or X_RETRY
        self.sleep = sleep
        self._on_retry = on_retry
        import requests
        import tweepy

        self._tweepy = tweepy.Client(bearer_token=bearer_token, return_type=requests.Response)
        self._tweepy.session = _redirect_session_class()(self.base_url, timeout)
        logging.getLogger("tweepy.client").addFilter(_RedactToken(bearer_token))

    def __repr__(self) -> str:  # never show the token
        return f"XClient(base_url={self.base_url!r})"

    def on_retry(self, message: str, attempt: int) -> None:
        """Report a retry once: to the caller's callback (the run's log) when given, else
        to this module's logger (both would show every message twice in a run)."""
        if self._on_retry:
            self._on_retry(message, attempt)
        else:
            log.warning("X API attempt %d: %s", attempt, message)

    def _retrying(self, what: str, call: Callable[[], T]) -> T:
        """``call`` under the X policy (:mod:`elex_assets.core.retrying`)."""
        retry = retrying(self.policy, give_up=_give_up, what=f"X API {what}",
                         sleep=self.sleep, on_retry=self.on_retry)
        return retry(_attempt, call)

    def search(self, endpoint: str, query: str, **params: Any) -> Page:
        """One page of recent (``recent``) or full-archive (``all``) search."""
        return self._retrying("search", lambda: self._search(endpoint, query, **params))

    def _search(self, endpoint: str, query: str, **params: Any) -> Page:
        method = (
            self._tweepy.search_recent_tweets if endpoint == "recent"
            else self._tweepy.search_all_tweets
        )
        response: requests.Response = method(
            query,
            tweet_fields=TWEET_FIELDS,
            expansions=EXPANSIONS,
            user_fields=USER_FIELDS,
            **{k: v for k, v in params.items() if v is not None},
        )
        return _page(response, ("data", "meta"))

    def counts(self, endpoint: str, query: str, **params: Any) -> Page:
        """One page of counts (``data``: start, end, tweet_count; ``meta.total_tweet_count``)."""
        return self._retrying("counts", lambda: self._counts(endpoint, query, **params))

    def _counts(self, endpoint: str, query: str, **params: Any) -> Page:
        method = (
            self._tweepy.get_recent_tweets_count if endpoint == "recent"
            else self._tweepy.get_all_tweets_count
        )
        response: requests.Response = method(
            query, **{k: v for k, v in params.items() if v is not None}
        )
        return _page(response, ("meta",))


def _page(response: requests.Response, expected: tuple[str, ...]) -> Page:
    """The page of a 200 answer; a body that is not JSON, or holds none of ``expected``
    (a cut connection often leaves ``{}`` or half a document), is a transient fault."""
    raw = response.content
    try:
        body = json.loads(raw)
    except ValueError:
        raise TruncatedBody(f"truncated or invalid JSON body ({len(raw)} bytes)") from None
    if not isinstance(body, dict) or not any(key in body for key in expected):
        raise TruncatedBody(f"response body without {' or '.join(expected)}")
    return Page(body=body, raw=raw, params=_query_params(response.request.url or ""))


def _query_params(url: str) -> dict[str, str]:
    from urllib.parse import parse_qs

    return {k: v[-1] for k, v in parse_qs(urlparse(url).query).items()}
