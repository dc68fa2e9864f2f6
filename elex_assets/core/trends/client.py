"""Google Trends client (web backend): pytrends 4.9.2 behind one polite, checked transport.

pytrends builds the explore payload; everything that touches the network goes
through :class:`Transport`, which replaces pytrends' own ``_get_data`` and
cookie call because pytrends 4.9.2 is unmaintained and has defects we must
not inherit, and answers are parsed and checked here
(:mod:`elex_assets.core.trends.checks`), not by pytrends:

* the cookie call ``GET /trends/explore/`` answers **404** with an HTML page
  and a ``NID`` cookie (every real recording): the cookie is taken, the
  status ignored, as pytrends does;
* a **429** or a **302 to Google's ``/sorry/`` captcha page** is a refusal:
  never retried, it starts the lake-wide cool-down of
  :mod:`elex_assets.core.trends.state` (:class:`TrendsBlocked`);
* 5xx and connection errors are retried by elex's one retry layer
  (:mod:`elex_assets.core.retrying`, policy ``TRENDS_RETRY`` bounded by
  :class:`Politeness`), exponentially with jitter, up to a bound, then
  :class:`TrendsUnavailable` (transient) says so plainly;
* ``retries=`` crashes on urllib3 2 (``method_whitelist``): never used;
* a missing Content-Type raised ``KeyError``, an empty ``rankedList``
  ``IndexError``, a series narrower than asked ``KeyError: n``: each is now a
  named :class:`TrendsResponseError` / :class:`TrendsMismatch`;
* URLs are module constants for trends.google.com: requests are redirected to
  ``TRENDS_BASE_URL`` (the sandbox in tests and the demo).

A minimum interval between requests (per process, and across processes via
the lake when a gate is given) keeps the collector below Google's rate limit;
the Dagster pool ``google_trends`` serialises runs. Pandas stays out: callers
get polars.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import polars as pl

from elex_assets.core.retrying import RetryPolicy, Transient, retrying
from elex_assets.core.trends import checks
from elex_assets.core.trends.errors import (
    TrendsBlocked,
    TrendsError,
    TrendsMismatch,
    TrendsRateLimited,
    TrendsResponseError,
    TrendsUnavailable,
)
from elex_assets.core.trends.state import TrendsGate

if TYPE_CHECKING:
    import requests

    from elex_assets.core.trends.pytrends import BoundaryTrendReq

__all__ = [
    "TrendsBlocked",
    "TrendsError",
    "TrendsMismatch",
    "TrendsRateLimited",
    "TrendsResponseError",
    "TrendsUnavailable",
]

DEFAULT_BASE_URL = "https://trends.google.com"
GOOGLE_PREFIX = "https://trends.google.com/trends"  # pytrends' BASE_TRENDS_URL (pinned by a test)
RECENT_DAYS = 7  # Google serves sub-daily data only for windows in the last week
RETRYABLE = (500, 502, 503, 504)  # transient; 429 is a refusal (cool-down), never retried
REFUSED = 429
COOKIE_STATUSES = (200, 404)  # Google answers the cookie call 404 + Set-Cookie: NID


@dataclass(frozen=True)
class Area:
    """A collection area: Google's geo code and interface language."""

    code: str
    geo: str
    hl: str

    @property
    def resolution(self) -> str:
        return "REGION" if self.geo else "COUNTRY"


AREAS = {"fr": Area("fr", "FR", "fr-FR"), "world": Area("world", "", "en-US")}


def area(code: str) -> Area:
    try:
        return AREAS[code]
    except KeyError:
        raise ValueError(f"unknown area {code!r}; expected one of {tuple(AREAS)}") from None


TRENDS_RETRY = RetryPolicy(
    "Google Trends", max_attempts=6, backoff_base=2.0, backoff_max=300.0, jitter=0.5
)  # 5xx and network errors only: a 429 is a refusal (cool-down), never retried


@dataclass(frozen=True)
class Politeness:
    """How gently we talk to Google (all durations in seconds)."""

    min_interval: float = 5.0
    max_attempts: int = TRENDS_RETRY.max_attempts
    backoff_base: float = TRENDS_RETRY.backoff_base
    backoff_max: float = TRENDS_RETRY.backoff_max
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if self.min_interval < 0 or self.backoff_base < 0 or self.backoff_max < 0:
            raise ValueError("Trends intervals and backoff must not be negative")
        if self.max_attempts < 1:
            raise ValueError("Trends max_attempts must be at least 1")
        if self.timeout <= 0:
            raise ValueError("Trends timeout must be positive")

    @property
    def retry(self) -> RetryPolicy:
        """The Trends retry policy with these bounds (``TRENDS_MAX_ATTEMPTS``, ...)."""
        return replace(TRENDS_RETRY, max_attempts=self.max_attempts,
                       backoff_base=self.backoff_base, backoff_max=self.backoff_max)


class Throttle:
    """At least ``interval`` seconds between the starts of two requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = float("-inf")

    def wait(self, interval: float, sleep: Callable[[float], None]) -> None:
        with self._lock:
            delay = self._last + interval - time.monotonic()
            if delay > 0:
                sleep(delay)
            self._last = time.monotonic()


_THROTTLES: dict[str, Throttle] = {}
_THROTTLES_LOCK = threading.Lock()


def throttle_for(base_url: str) -> Throttle:
    with _THROTTLES_LOCK:
        return _THROTTLES.setdefault(base_url, Throttle())


@dataclass
class Transport:
    """Every HTTP exchange with Google Trends: redirect, throttle, retry, check, decode."""

    base_url: str = DEFAULT_BASE_URL
    politeness: Politeness = field(default_factory=Politeness)
    hl: str = "en-US"
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    log: Callable[[str], None] = lambda message: None
    gate: TrendsGate | None = None  # lake-wide cool-down and interval (None: this process only)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        scheme = urlsplit(self.base_url).scheme
        if scheme not in ("http", "https"):
            raise ValueError(f"TRENDS_BASE_URL must be an http(s) URL, not {self.base_url!r}")
        import requests  # loads with the first client, not with the definitions

        self.session = requests.Session()
        self.session.headers.update({"accept-language": self.hl})
        self._throttle = throttle_for(self.base_url)
        self.requests_made = 0
        self.cookies: dict[str, str] = {}  # NID from the cookie call, sent with every request

    def url(self, google_url: str) -> str:
        """pytrends' trends.google.com URL, on our base URL."""
        if not google_url.startswith(GOOGLE_PREFIX):
            raise ValueError(f"not a Google Trends URL: {google_url}")
        return self.base_url + "/trends" + google_url[len(GOOGLE_PREFIX) :]

    def cookie(self, geo: str) -> dict[str, str]:
        """The cookie call Google expects before the API (sets ``NID``)."""
        response = self._send(
            "get", self.url(f"{GOOGLE_PREFIX}/explore/"), {"params": {"geo": geo}}, COOKIE_STATUSES
        )
        nid = {k: v for k, v in response.cookies.items() if k == "NID"}
        if not nid:  # the session drops an already-expired cookie: read the header itself
            for header in response.raw.headers.getlist("Set-Cookie") if response.raw else []:
                name, _, rest = header.partition("=")
                if name.strip() == "NID":
                    nid["NID"] = rest.split(";", 1)[0]
        self.cookies.update(nid)
        return nid

    def get_json(
        self, google_url: str, method: str = "get", trim_chars: int = 0, **kwargs: Any
    ) -> Any:
        response = self._send(method, self.url(google_url), kwargs)
        path = urlsplit(response.url).path
        content_type = response.headers.get("Content-Type")
        if not content_type:
            raise TrendsResponseError(
                f"Google Trends answered {path} without a Content-Type header; "
                "cannot tell whether it is data (not retried)"
            )
        if not any(t in content_type for t in ("json", "javascript")):
            raise TrendsResponseError(
                f"Google Trends answered {path} with {content_type!r}, not JSON"
            )
        try:
            answer = json.loads(response.text[trim_chars:])
        except json.JSONDecodeError as exc:
            raise TrendsResponseError(
                f"Google Trends answered {path} with invalid JSON: {exc}"
            ) from exc
        _pad_ranked_list(answer)
        return answer

    def _send(
        self, method: str, url: str, kwargs: dict[str, Any], accept: tuple[int, ...] = (200,)
    ) -> requests.Response:
        path = urlsplit(url).path
        retry = retrying(
            self.politeness.retry, what=f"Google Trends {path}", sleep=self.sleep,
            on_retry=lambda message, _attempt: self.log(message), rng=self.rng,
            give_up=lambda stop: TrendsUnavailable(
                f"Google Trends is still failing on {path} after {stop.attempts} attempts "
                f"(answers: {', '.join(stop.reasons)}); giving up for now"
            ),
        )
        return retry(self._attempt, method, url, kwargs, accept)

    def _attempt(
        self, method: str, url: str, kwargs: dict[str, Any], accept: tuple[int, ...]
    ) -> requests.Response:
        """One request: gate and throttle first; 5xx and network errors are transient."""
        path = urlsplit(url).path
        seen: str | None = None
        if self.gate is not None:
            self.gate.check()  # a running cool-down: no wait, nothing sent
            self.gate.wait_turn(self.politeness.min_interval, self.sleep)
        self._throttle.wait(self.politeness.min_interval, self.sleep)
        if self.gate is not None:
            # After the waits, right before sending: a refusal another process met while
            # this one waited stops this request too.
            seen = self.gate.check()
        self.requests_made += 1
        import requests

        try:
            response = self.session.request(
                method, url, timeout=self.politeness.timeout, allow_redirects=False,
                cookies=self.cookies, **kwargs,
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise Transient(type(exc).__name__) from None
        status = response.status_code
        if status in accept:
            if self.gate is not None:
                self.gate.succeeded(seen)
            return response
        location = response.headers.get("Location", "")
        if status == REFUSED or (300 <= status < 400 and "/sorry/" in location):
            what = "429" if status == REFUSED else f"{status} to its captcha page"
            self._refused(f"{what} on {method.upper()} {path}", seen)
        if status not in RETRYABLE:
            raise TrendsResponseError(
                f"Google Trends answered {status} to {method.upper()} {path}; not retried"
            )
        raise Transient(str(status))

    def _refused(self, what: str, seen: str | None = None) -> None:
        """Google refuses this client: start the cool-down, never retry."""
        if self.gate is None:
            raise TrendsBlocked(f"Google Trends refused this client ({what}); not retried")
        cooldown = self.gate.refused(what, seen)
        raise TrendsBlocked(
            f"Google Trends refused this client ({what}); cool-down until "
            f"{cooldown.until:%Y-%m-%d %H:%M} UTC ({cooldown.refusals} in a row); not retried"
        )


def _pad_ranked_list(answer: Any) -> None:
    """pytrends indexes ``rankedList[0]`` and ``[1]``: make both exist."""
    default = answer.get("default") if isinstance(answer, dict) else None
    if isinstance(default, dict) and isinstance(default.get("rankedList"), list):
        ranked = default["rankedList"]
        while len(ranked) < 2:
            ranked.append({"rankedKeyword": []})


def pytrends_url(name: str) -> str:
    """One of pytrends' ``TrendReq`` URL constants (``TrendReq`` is imported when used)."""
    from pytrends.request import TrendReq

    return getattr(TrendReq, name)


OVER_TIME_SCHEMA = pl.Schema(
    {
        "keyword": pl.String,
        "timestamp": pl.Datetime("us", "UTC"),
        "value": pl.Int64,
        "is_partial": pl.Boolean,
    }
)
BY_REGION_SCHEMA = pl.Schema(
    {"keyword": pl.String, "geo_code": pl.String, "geo_name": pl.String, "value": pl.Int64}
)
RELATED_TOPICS_SCHEMA = pl.Schema(
    {
        "keyword": pl.String,
        "ranking": pl.String,
        "rank": pl.Int64,
        "topic_mid": pl.String,
        "topic_title": pl.String,
        "topic_type": pl.String,
        "value": pl.Int64,
        "formatted_value": pl.String,
    }
)
RELATED_QUERIES_SCHEMA = pl.Schema(
    {
        "keyword": pl.String,
        "ranking": pl.String,
        "rank": pl.Int64,
        "query": pl.String,
        "value": pl.Int64,
        "formatted_value": pl.String,
    }
)


def day_timeframe(day: date, now: datetime | None = None) -> str:
    """Google's window for one UTC day, at the finest resolution it serves.

    Within the last week Google serves sub-daily points for an hour-bounded
    window; older days only come at daily resolution (one point).
    """
    now = now or datetime.now(UTC)
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    if now - start <= timedelta(days=RECENT_DAYS):
        end = start + timedelta(days=1)
        return f"{start:%Y-%m-%dT%H} {end:%Y-%m-%dT%H}"
    return f"{day.isoformat()} {day.isoformat()}"


class TrendsClient:
    """The four Trends reports for one area, as polars tables in long format."""

    def __init__(self, area_code: str, transport: Transport) -> None:
        self.area = area(area_code)
        self.transport = transport
        self._req: BoundaryTrendReq | None = None

    @classmethod
    def connect(
        cls,
        area_code: str,
        base_url: str = DEFAULT_BASE_URL,
        politeness: Politeness | None = None,
        log: Callable[[str], None] | None = None,
    ) -> TrendsClient:
        transport = Transport(
            base_url=base_url,
            politeness=politeness or Politeness(),
            hl=area(area_code).hl,
            log=log or (lambda message: None),
        )
        return cls(area_code, transport)

    @property
    def req(self) -> BoundaryTrendReq:
        if self._req is None:  # the cookie call happens here, once per client
            # pytrends (and the pandas it loads) only when a client first calls Google.
            from elex_assets.core.trends.pytrends import BoundaryTrendReq

            self._req = BoundaryTrendReq(self.transport, self.area.hl, self.area.geo)
        return self._req

    def _explore(self, keywords: list[str], timeframe: str) -> dict[str, Any]:
        """The explore answer for these terms, checked against what was asked."""
        if not 1 <= len(keywords) <= 5:
            raise ValueError(f"Google Trends takes 1 to 5 terms a request, not {len(keywords)}")
        if len(set(keywords)) != len(keywords):
            raise ValueError(f"duplicate terms in one Trends request: {keywords}")
        req = self.req
        try:
            req.build_payload(keywords, timeframe=timeframe, geo=self.area.geo)
        except (KeyError, IndexError, TypeError) as exc:  # pytrends indexing Google's answer
            raise TrendsResponseError(
                f"Google Trends' explore answer for {keywords} {timeframe!r} is not the usual "
                f"shape ({type(exc).__name__}: {exc})"
            ) from exc
        answer = req.explore_answer
        checks.check_explore(answer, keywords, self.area.geo, timeframe)
        return answer

    def _widget_data(self, url: str, widget: dict[str, Any], what: str) -> dict[str, Any]:
        answer = self.transport.get_json(
            url,
            "get",
            trim_chars=5,
            params={"req": json.dumps(widget["request"]), "token": widget["token"], "tz": 0},
        )
        default = answer.get("default") if isinstance(answer, dict) else None
        if not isinstance(default, dict):
            raise TrendsResponseError(f"Google Trends' {what} answer has no 'default' object")
        return default

    def interest_over_time(self, keywords: list[str], timeframe: str) -> pl.DataFrame:
        """One row per keyword and interval: Google's 0-100 value and the partial flag."""
        widget = checks.find_widget(self._explore(keywords, timeframe), "TIMESERIES", "over time")
        resolution = str(widget["request"].get("resolution", ""))
        default = self._widget_data(pytrends_url("INTEREST_OVER_TIME_URL"), widget, "multiline")
        points = default.get("timelineData")
        if not isinstance(points, list):
            raise TrendsResponseError("Google Trends' multiline answer has no timelineData list")
        checks.check_timeline(points, keywords, timeframe, resolution)
        rows = []
        for point in points:
            try:
                stamp = datetime.fromtimestamp(int(point["time"]), UTC)
                values = [int(v) for v in point["value"]]
            except (KeyError, TypeError, ValueError) as exc:
                raise TrendsResponseError(
                    f"Google Trends' multiline point {point!r:.200} is unreadable: {exc!r}"
                ) from exc
            partial = bool(point.get("isPartial", False))
            for keyword, value in zip(keywords, values, strict=True):
                rows.append((keyword, stamp, value, partial))
        return pl.DataFrame(rows, schema=OVER_TIME_SCHEMA, orient="row")

    def interest_by_region(self, keyword: str, timeframe: str) -> pl.DataFrame:
        """One row per region (France) or country (world); no data (``""``) reads 0."""
        return self.compared_by_region([keyword], timeframe)

    def compared_by_region(self, keywords: list[str], timeframe: str) -> pl.DataFrame:
        """Regions for up to five terms at once (Google's compared breakdown, one scale)."""
        widget = checks.find_widget(self._explore(keywords, timeframe), "GEO_MAP", "by region")
        request = widget["request"]
        answered_geo = checks.geo_of(request.get("geo", {}))
        if answered_geo != self.area.geo:
            raise TrendsMismatch(
                f"asked Google Trends for regions of {self.area.geo or 'the world'}, its region "
                f"widget is for {answered_geo or 'the world'}"
            )
        default = self._widget_data(pytrends_url("INTEREST_BY_REGION_URL"), widget, "comparedgeo")
        regions = default.get("geoMapData")
        if not isinstance(regions, list):
            raise TrendsResponseError("Google Trends' comparedgeo answer has no geoMapData list")
        checks.check_regions(regions, self.area.geo, len(keywords))
        rows = []
        for region in regions:
            try:
                code, name = str(region["geoCode"]), str(region["geoName"])
                values = [int(v) for v in region["value"]]
            except (KeyError, TypeError, ValueError) as exc:
                raise TrendsResponseError(
                    f"Google Trends' comparedgeo row {region!r:.200} is unreadable: {exc!r}"
                ) from exc
            rows += [(kw, code, name, v) for kw, v in zip(keywords, values, strict=True)]
        return pl.DataFrame(rows, schema=BY_REGION_SCHEMA, orient="row")

    def related_topics(self, keyword: str, timeframe: str) -> pl.DataFrame:
        """Top and rising related topics (Google serves them for one-term payloads only)."""
        rows = []
        for _, ranking, rank, item in self._related([keyword], timeframe, "RELATED_TOPICS"):
            topic = item.get("topic") or {}
            rows.append(
                {
                    "keyword": keyword,
                    "ranking": ranking,
                    "rank": rank,
                    "topic_mid": topic.get("mid"),
                    "topic_title": topic.get("title"),
                    "topic_type": topic.get("type"),
                    "value": item.get("value"),
                    "formatted_value": item.get("formattedValue"),
                }
            )
        return pl.DataFrame(rows, schema=RELATED_TOPICS_SCHEMA)

    def related_queries(self, keyword: str, timeframe: str) -> pl.DataFrame:
        """Top and rising related queries, with Google's formatted value (Breakout, +350%)."""
        return self.compared_related_queries([keyword], timeframe)

    def compared_related_queries(self, keywords: list[str], timeframe: str) -> pl.DataFrame:
        """Related queries of each of up to five terms asked together (one explore call)."""
        rows = [
            {
                "keyword": kw,
                "ranking": ranking,
                "rank": rank,
                "query": item.get("query"),
                "value": item.get("value"),
                "formatted_value": item.get("formattedValue"),
            }
            for kw, ranking, rank, item in self._related(keywords, timeframe, "RELATED_QUERIES")
        ]
        return pl.DataFrame(rows, schema=RELATED_QUERIES_SCHEMA)

    def _related(
        self, keywords: list[str], timeframe: str, kind: str
    ) -> list[tuple[str, str, int, dict]]:
        """Fetch each term's related widget and flatten its top and rising lists.

        Parsed here rather than by pytrends: pytrends drops ``formattedValue``
        of related queries and fails on an empty ``rankedList``. A one-term
        explore names the widget ``RELATED_QUERIES``; a comparison
        ``RELATED_QUERIES_<i>`` per term (and has no related topics).
        """
        answer = self._explore(keywords, timeframe)
        out = []
        for i, keyword in enumerate(keywords):
            widget_id = kind if len(keywords) == 1 else f"{kind}_{i}"
            widget = checks.find_widget(answer, widget_id, repr(keyword))
            checks.check_related(widget, keyword, self.area.geo)
            default = self._widget_data(pytrends_url("RELATED_QUERIES_URL"), widget, "relatedsearches")
            ranked = default.get("rankedList") or []
            for ranking, block in zip(("top", "rising"), ranked, strict=False):
                for rank, item in enumerate(block.get("rankedKeyword") or []):
                    out.append((keyword, ranking, rank, item))
        return out
