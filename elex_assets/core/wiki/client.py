"""The Wikimedia Pageviews client: one GET per article and day range, behind the retry layer.

Every call goes through elex's one retry layer (``core.retrying``, policy
``WIKI_RETRY``): a 429 (plain text) waits for ``Retry-After`` (bounded), 5xx,
network errors and cut bodies back off with jitter (bounded); a 403 (the
User-Agent policy), a 400 and a 404 that is not Wikimedia's problem+json fail at
once. A 404 problem+json is an answer: no data for that article and range. Each
request carries a User-Agent naming elex and the operator's contact
(``WIKIMEDIA_CONTACT``). At most ``max_concurrent`` (<= 3) requests are in flight
at once, whatever the number of threads asking.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, date
from email.utils import parsedate_to_datetime
from typing import Any

from elex_assets.core.retrying import GiveUp, RateLimited, RetryPolicy, Transient, retrying
from elex_assets.core.wiki.api import (
    ACCESS,
    AGENT,
    DEFAULT_BASE_URL,
    GRANULARITY,
    MAX_CONCURRENT,
    ROUTE,
    TOOL,
    WIKI_RETRY,
    Answer,
    WikimediaError,
    WikimediaRateLimited,
    WikimediaRefused,
    WikimediaRetriesExhausted,
    stamp,
)
from elex_assets.core.wiki.titles import encode_title


def user_agent(contact: str) -> str:
    """``elex/<version> (<contact>) python-requests/<version>``, Wikimedia's format: the
    tool, a way to reach its operator, the library."""
    from importlib.metadata import PackageNotFoundError, version

    import requests

    try:
        ours = version("elex")
    except PackageNotFoundError:
        ours = "dev"
    return f"{TOOL}/{ours} ({contact}) python-requests/{requests.__version__}"


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """When to ask again (epoch seconds), from ``Retry-After``: seconds or an HTTP date."""
    if not value:
        return None
    now = time.time() if now is None else now
    try:
        return now + float(value)
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _give_up(stop: GiveUp) -> WikimediaRetriesExhausted:
    if stop.beyond_bound:
        return WikimediaRateLimited(
            f"Wikimedia asked to wait {stop.wait:.0f}s (Retry-After), beyond the bound of "
            f"{stop.policy.max_rate_limit_wait:.0f}s; run again later")
    return WikimediaRetriesExhausted(
        f"Wikimedia still failing after {stop.attempts} attempts: {stop.last}")


class WikiClient:
    """Daily per-article pageviews from Wikimedia (or the sandbox)."""

    def __init__(
        self,
        user_agent: str,
        base_url: str = DEFAULT_BASE_URL,
        policy: RetryPolicy | None = None,
        max_concurrent: int = MAX_CONCURRENT,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        on_retry: Callable[[str, int], None] | None = None,
    ) -> None:
        if not 1 <= max_concurrent <= MAX_CONCURRENT:
            raise WikimediaError(
                f"at most {MAX_CONCURRENT} concurrent requests to Wikimedia, got {max_concurrent}")
        self.base_url = base_url.rstrip("/")
        self.user_agent = user_agent
        self.policy = policy or WIKI_RETRY
        self.max_concurrent = max_concurrent
        self.timeout = timeout
        self.sleep = sleep
        self.on_retry = on_retry
        self._slots = threading.BoundedSemaphore(max_concurrent)
        self._local = threading.local()
        self._lock = threading.Lock()
        self.requests = 0  # HTTP requests sent, retries included
        self.rate_limited = 0
        self._pause_until = 0.0  # after a 429: no request before (epoch seconds), any thread

    def url(self, project: str, title: str, first: date, last: date) -> str:
        return (f"{self.base_url}{ROUTE}/{project}/{ACCESS}/{AGENT}/{encode_title(title)}/"
                f"{GRANULARITY}/{stamp(first)}/{stamp(last)}")

    def daily(self, project: str, title: str, first: date, last: date) -> Answer:
        """The daily views of ``title`` on ``project`` from ``first`` to ``last`` (inclusive)."""
        url = self.url(project, title, first, last)
        retry = retrying(self.policy, give_up=_give_up, what=f"Wikimedia {project} {title}",
                         sleep=self.sleep, on_retry=self.on_retry)
        answer: Answer = retry(self._attempt, url)
        answer.project, answer.article, answer.first, answer.last = project, title, first, last
        return answer

    def _session(self) -> Any:
        session = getattr(self._local, "session", None)
        if session is None:
            import requests

            session = requests.Session()
            session.headers.update({"User-Agent": self.user_agent,
                                    "Accept": "application/json"})
            self._local.session = session
        return session

    def _attempt(self, url: str) -> Answer:
        import requests

        wait = self._pause_until - time.time()
        if wait > 0:  # another request was told to wait: Retry-After holds for every request
            self.sleep(wait)
        with self._slots:  # never more than max_concurrent requests in flight
            with self._lock:
                self.requests += 1
            try:
                response = self._session().get(url, timeout=self.timeout)
                body = response.content
            except (requests.ConnectionError, requests.Timeout) as exc:
                raise Transient(f"network error ({type(exc).__name__})") from None
            except requests.exceptions.ChunkedEncodingError:
                raise Transient("connection dropped mid-response") from None
        status = response.status_code
        kind = response.headers.get("content-type", "")
        text = body.decode("utf-8", "replace")
        if status == 200:
            try:
                parsed = json.loads(body)
            except ValueError:
                raise Transient(f"truncated or invalid JSON body ({len(body)} bytes)") from None
            if not isinstance(parsed, dict) or not isinstance(parsed.get("items"), list):
                raise Transient("answer without an items list")
            return Answer("", "", date.min, date.min, 200, parsed["items"], url)
        if status == 404:
            if _is_problem(kind, body, 404):
                return Answer("", "", date.min, date.min, 404, [], url)
            raise WikimediaError(
                f"Wikimedia answered 404 without its problem+json body to {url} "
                f"({kind or 'no content-type'}): check WIKIMEDIA_BASE_URL")
        if status == 429:
            with self._lock:
                self.rate_limited += 1
            first_line = text.strip().splitlines()[0] if text.strip() else ""
            reset = retry_after(response.headers.get("retry-after"))
            if reset is not None and reset - time.time() <= self.policy.max_rate_limit_wait:
                with self._lock:
                    self._pause_until = max(self._pause_until, reset)
            raise RateLimited(f"rate limited (429: {first_line[:80]})", reset=reset)
        if status >= 500:
            raise Transient(f"server error ({status})")
        if status == 403:
            raise WikimediaRefused(
                f"Wikimedia refused the client (403: {' '.join(text.split())[:160]}): set "
                "WIKIMEDIA_CONTACT to an e-mail address or URL where Wikimedia can reach you "
                "(it goes in the User-Agent, as Wikimedia's policy requires)")
        raise WikimediaError(f"Wikimedia answered {status} to {url}: "
                             f"{' '.join(text.split())[:200]}")


def _is_problem(content_type: str, body: bytes, status: int) -> bool:
    """Wikimedia's RFC 7807 body (since 2023: matched on its ``status``, never on ``detail``),
    or the older RESTBase one (``type`` .../HyperSwitch/errors/not_found, no ``status``)."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return False
    if not isinstance(parsed, dict):
        return False
    if parsed.get("status") == status and ("json" in content_type or "title" in parsed):
        return True
    return status == 404 and str(parsed.get("type", "")).endswith("/errors/not_found")

