"""A loopback server speaking the Wikimedia Pageviews REST API (per-article), as recorded.

``GET /api/rest_v1/metrics/pageviews/per-article/{project}/{access}/{agent}/{title}/
{daily|monthly}/{start}/{end}`` with what the real answers show
(``elex_assets_tests/recordings/wikimedia``): items ``{project, article (decoded, with
underscores), granularity, timestamp YYYYMMDD00, access, agent, views}``; both ends
inclusive; a 404 ``application/problem+json`` for "no data" (an unknown title, a range
before 2015-07-01 or not loaded yet); zero days sometimes omitted, sometimes present
with 0 in the same series; a day is loaded ``lag`` after it ends (UTC); a monthly
window without a whole month is a 400 "no full months between dates"; a missing or
generic User-Agent gets a 403 in plain text; a 429 is plain text with ``Retry-After``.
Views are seeded per (project, title, day): the same request gives the same answer.
Faults: ``sandbox.faults.add("429" | "503" | "truncated", ...)``.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote, urlparse

from elex_assets.sandbox.faults import FaultQueue
from elex_assets.sandbox.loopback import LoopbackServer

PREFIX = "/api/rest_v1"
ROUTE = "/metrics/pageviews/per-article/"
DATA_START = date(2015, 7, 1)
ACCESS = ("all-access", "desktop", "mobile-app", "mobile-web")
AGENTS = ("all-agents", "user", "spider", "automated")
ETAG = 'W/"20-da39a3ee5e6b4b0d3255bfef95601890afd80709"'  # what every real answer carries
NOT_FOUND_DETAIL = (
    "The date(s) you used are valid, but we either do not have data for those date(s), or the "
    "project you asked for is not loaded yet. Please check documentation for more information")
TOO_MANY = (
    "You are making too many requests to the API.\nPlease follow the best practices at "
    "<https://www.mediawiki.org/wiki/Wikimedia_APIs/Rate_limits>.\nIf you are unsure how to get "
    "the access you need, contact <api@sandbox.invalid>.\n\nrequest-id: {rid}")
FORBIDDEN = ("Please set a user-agent and respect our robot policy https://w.wiki/4wJS. "
             "See also https://phabricator.wikimedia.org/T400119.")
ZERO_DAYS_BELOW = 100  # articles with fewer typical daily views have days without a view
_GENERIC_UA = re.compile(r"^(python-requests|axios|curl|Python-urllib|Ruby|Go-http-client)/?",
                         re.I)
_STAMP = re.compile(r"^(\d{8})(\d{2})?$")


class Faults(FaultQueue):
    kinds = ("429", "503", "truncated")
    default_path = PREFIX + ROUTE


class ProblemError(Exception):
    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(f"{status} {title}: {detail}")
        self.status, self.title, self.detail = status, title, detail


def _seed(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "big")


class WikiSandbox(LoopbackServer):
    """The sandbox pageviews service on 127.0.0.1 (port 0 = a free port).

    ``articles``: ``{project: {title: typical daily views}}``; any other title is
    unknown (404). ``lag``: how long after a day ends (UTC) it is loaded.
    """

    name = "Wikimedia sandbox"

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    def __init__(
        self,
        articles: dict[str, dict[str, int]] | None = None,
        *,
        lag: timedelta = timedelta(hours=3),
        seed: int = 2027,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], datetime] | None = None,
        delay: float = 0.0,
        strict_user_agent: bool = True,
    ) -> None:
        self.articles = articles or {}
        self.lag = lag
        self.seed = seed
        self.clock = clock or (lambda: datetime.now(UTC))
        self.delay = delay  # seconds each answer takes (to observe concurrency in tests)
        self.strict_user_agent = strict_user_agent
        self.faults = Faults()
        self.requests: deque[dict[str, Any]] = deque(maxlen=100_000)
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        super().__init__(host, port)

    @classmethod
    def for_candidates(cls, candidates: Iterable[Any], **kwargs: Any) -> WikiSandbox:
        """Every registry title of ``candidates``, on ``<lang>.wikipedia``, busiest first."""
        articles: dict[str, dict[str, int]] = {}
        for rank, cand in enumerate(candidates):
            for lang, title in cand.wikipedia:
                base = max(1_200, 40_000 // (rank + 1)) // (1 if lang == "fr" else 4)
                articles.setdefault(f"{lang}.wikipedia", {})[title] = base
        return cls(articles, **kwargs)

    @property
    def base_url(self) -> str:
        return super().base_url + PREFIX

    # ---- data ----------------------------------------------------------------
    def loaded_through(self) -> date:
        """The last day loaded: a day is loaded ``lag`` after it ends."""
        return (self.clock().astimezone(UTC) - self.lag).date() - timedelta(days=1)

    def views(self, project: str, title: str, day: date) -> int | None:
        """The day's views; None when the day has no row (omitted zero)."""
        typical = self.articles.get(project, {}).get(title)
        if typical is None:
            return None
        draw = _seed(self.seed, project, title, day.isoformat())
        if typical < ZERO_DAYS_BELOW and draw % 7 == 0:  # tiny articles: zero days, omitted
            # or present with 0 in the same series, as recorded (Q3435184, Toveri)
            return 0 if draw % 2 else None
        spike = 3.0 if draw % 29 == 0 else 1.0
        return int(typical * spike * (0.6 + (draw % 1000) / 1250))

    def per_article(self, parts: list[str]) -> dict[str, Any]:
        if len(parts) != 7:
            raise ProblemError(400, "Bad Request", "expected project/access/agent/article/"
                               "granularity/start/end")
        project, access, agent, raw_title, granularity, start, end = parts
        title = unquote(raw_title).replace(" ", "_")
        if access not in ACCESS:
            raise ProblemError(400, "Bad Request", f"access must be one of {', '.join(ACCESS)}")
        if agent not in AGENTS:
            raise ProblemError(400, "Bad Request", f"agent must be one of {', '.join(AGENTS)}")
        if granularity not in ("daily", "monthly"):
            raise ProblemError(400, "Bad Request", "granularity must be daily or monthly")
        first, last = _day(start, "start"), _day(end, "end")
        if last < first:
            raise ProblemError(400, "Bad Request", "start timestamp should be before the end")
        days = []
        day = max(first, DATA_START)
        top = min(last, self.loaded_through())
        while day <= top:
            days.append(day)
            day += timedelta(days=1)
        if granularity == "monthly":
            return self._monthly(project, title, access, agent, first, last, days)
        items = []
        for day in days:
            views = self.views(project, title, day)
            if views is None:
                continue
            items.append({"project": project, "article": title, "granularity": "daily",
                          "timestamp": f"{day:%Y%m%d}00", "access": access, "agent": agent,
                          "views": views})
        if not items:
            raise ProblemError(404, "Not Found", NOT_FOUND_DETAIL)
        return {"items": items}

    def _monthly(self, project: str, title: str, access: str, agent: str, first: date,
                 last: date, days: list[date]) -> dict[str, Any]:
        month = date(first.year, first.month, 1)
        if month < first:
            month = (month + timedelta(days=32)).replace(day=1)
        if (month + timedelta(days=32)).replace(day=1) - timedelta(days=1) > last:
            raise ProblemError(400, "Bad Request", "no full months between dates")
        sums: dict[date, int] = {}
        for day in days:
            if day >= month:
                views = self.views(project, title, day) or 0
                key = day.replace(day=1)
                sums[key] = sums.get(key, 0) + views
        items = [{"project": project, "article": title, "granularity": "monthly",
                  "timestamp": f"{m:%Y%m%d}00", "access": access, "agent": agent, "views": v}
                 for m, v in sorted(sums.items()) if v]
        if not items:
            raise ProblemError(404, "Not Found", NOT_FOUND_DETAIL)
        return {"items": items}


def _day(text: str, name: str) -> date:
    match = _STAMP.match(text)
    try:
        if not match:
            raise ValueError
        return datetime.strptime(match.group(1), "%Y%m%d").date()
    except ValueError:
        raise ProblemError(400, "Bad Request", f"{name} timestamp is invalid, must be a valid "
                           "date in YYYYMMDD format") from None


class _Handler(BaseHTTPRequestHandler):
    sandbox: WikiSandbox
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet by default
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("content-length", str(len(body)))
        self._headers_buffer.append(b"\r\n" + body)  # type: ignore[attr-defined]
        self.flush_headers()

    def _text(self, status: int, text: str, extra: dict[str, str] | None = None) -> None:
        self._send(status, text.encode(), {"content-type": "text/plain; charset=utf-8",
                                           **(extra or {})})

    def do_GET(self) -> None:  # noqa: N802
        sandbox = self.sandbox
        url = urlparse(self.path)
        agent = self.headers.get("User-Agent", "")
        with sandbox._lock:
            sandbox.requests.append({"path": url.path, "user_agent": agent})
            sandbox.in_flight += 1
            sandbox.max_in_flight = max(sandbox.max_in_flight, sandbox.in_flight)
        try:
            if sandbox.delay:
                time.sleep(sandbox.delay)
            self._answer(url.path, agent)
        finally:
            with sandbox._lock:
                sandbox.in_flight -= 1

    def _answer(self, path: str, agent: str) -> None:
        sandbox = self.sandbox
        if sandbox.strict_user_agent and (not agent.strip() or _GENERIC_UA.match(agent)):
            self._text(403, FORBIDDEN)
            return
        fault = sandbox.faults.take(path)
        if fault is not None and fault.kind == "429":
            wait = max(0, int(fault.reset_in or 0))
            self._text(429, TOO_MANY.format(rid=f"{_seed(path, time.time()):016x}"[:16]),
                       {"retry-after": str(wait)})
            return
        if fault is not None and fault.kind == "503":
            self._text(503, "upstream connect error or disconnect/reset before headers")
            return
        if not path.startswith(PREFIX + ROUTE):
            self._problem(ProblemError(404, "Not Found", "no route"), path)
            return
        parts = path[len(PREFIX + ROUTE):].split("/")
        try:
            body = sandbox.per_article(parts)
        except ProblemError as err:
            self._problem(err, path)
            return
        payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        if fault is not None and fault.kind == "truncated":
            payload = payload[: len(payload) // 2]
        self._send(200, payload, {"content-type": "application/json; charset=utf-8",
                                  "cache-control": "s-maxage=14400, max-age=14400",
                                  "etag": ETAG, "access-control-allow-origin": "*"})

    def _problem(self, err: ProblemError, path: str) -> None:
        body = {"detail": err.detail, "method": "get", "status": err.status,
                "title": err.title, "type": "about:blank", "uri": path.removeprefix(PREFIX)}
        payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        self._send(err.status, payload, {"content-type": "application/problem+json",
                                         "cache-control": "s-maxage=600", "etag": ETAG})
