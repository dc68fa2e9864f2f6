"""Google Trends client: pytrends 4.9.2 behind one polite, fault-tolerant transport.

pytrends builds the explore payloads and parses the time series; everything
that touches the network goes through :class:`Transport`, which replaces
pytrends' own ``_get_data`` and cookie call because pytrends 4.9.2 is
unmaintained and has defects we must not inherit:

* ``retries=`` crashes on urllib3 2 (``method_whitelist``): never used; 429,
  5xx and connection errors are retried here, exponentially with jitter, up
  to a bound, then :class:`TrendsRateLimited` says so plainly;
* a missing Content-Type raised ``KeyError``: now :class:`TrendsResponseError`;
* an empty ``rankedList`` raised ``IndexError``: the related lists are parsed
  here, an empty list is an empty table;
* URLs are module constants for trends.google.com: requests are redirected to
  ``TRENDS_BASE_URL`` (the sandbox in tests and the demo).

A minimum interval between requests (per base URL, per process) keeps the
collector below Google's rate limit; the Dagster pool ``google_trends``
serialises runs. Pandas stays inside this module: callers get polars.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import polars as pl
import requests
from pytrends.request import BASE_TRENDS_URL, TrendReq

DEFAULT_BASE_URL = "https://trends.google.com"
GOOGLE_PREFIX = BASE_TRENDS_URL  # https://trends.google.com/trends
RECENT_DAYS = 7  # Google serves sub-daily data only for windows in the last week
RETRYABLE = (429, 500, 502, 503, 504)


class TrendsError(RuntimeError):
    """Google Trends could not give an answer we can use."""


class TrendsRateLimited(TrendsError):
    """Still rate-limited (429) or failing (5xx) after the bounded backoff."""


class TrendsResponseError(TrendsError):
    """An answer that is not what Google Trends normally sends."""


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


@dataclass(frozen=True)
class Politeness:
    """How gently we talk to Google (all durations in seconds)."""

    min_interval: float = 5.0
    max_attempts: int = 6
    backoff_base: float = 2.0
    backoff_max: float = 300.0
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if self.min_interval < 0 or self.backoff_base < 0 or self.backoff_max < 0:
            raise ValueError("Trends intervals and backoff must not be negative")
        if self.max_attempts < 1:
            raise ValueError("Trends max_attempts must be at least 1")
        if self.timeout <= 0:
            raise ValueError("Trends timeout must be positive")

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Delay before retry number ``attempt`` (1-based): exponential, jittered, bounded."""
        ceiling = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        return ceiling * (0.5 + 0.5 * rng.random())


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

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        scheme = urlsplit(self.base_url).scheme
        if scheme not in ("http", "https"):
            raise ValueError(f"TRENDS_BASE_URL must be an http(s) URL, not {self.base_url!r}")
        self.session = requests.Session()
        self.session.headers.update({"accept-language": self.hl})
        self._throttle = throttle_for(self.base_url)
        self.requests_made = 0

    def url(self, google_url: str) -> str:
        """pytrends' trends.google.com URL, on our base URL."""
        if not google_url.startswith(GOOGLE_PREFIX):
            raise ValueError(f"not a Google Trends URL: {google_url}")
        return self.base_url + "/trends" + google_url[len(GOOGLE_PREFIX) :]

    def cookie(self, geo: str) -> dict[str, str]:
        """The cookie call Google expects before the API (sets ``NID``)."""
        response = self._send("get", self.url(f"{GOOGLE_PREFIX}/explore/"), {"params": {"geo": geo}})
        return {k: v for k, v in response.cookies.items() if k == "NID"}

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

    def _send(self, method: str, url: str, kwargs: dict[str, Any]) -> requests.Response:
        path = urlsplit(url).path
        limits = self.politeness
        failures: list[str] = []
        for attempt in range(1, limits.max_attempts + 1):
            self._throttle.wait(limits.min_interval, self.sleep)
            self.requests_made += 1
            try:
                response = self.session.request(method, url, timeout=limits.timeout, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as exc:
                failures.append(type(exc).__name__)
            else:
                if response.status_code == 200:
                    return response
                if response.status_code not in RETRYABLE:
                    raise TrendsResponseError(
                        f"Google Trends answered {response.status_code} to {method.upper()} "
                        f"{path}; not retried"
                    )
                failures.append(str(response.status_code))
            if attempt < limits.max_attempts:
                delay = limits.backoff(attempt, self.rng)
                self.log(
                    f"Google Trends {path}: {failures[-1]} (attempt {attempt}/"
                    f"{limits.max_attempts}); retrying in {delay:.1f}s"
                )
                self.sleep(delay)
        what = "rate-limited (429)" if failures[-1] == "429" else f"failing ({failures[-1]})"
        raise TrendsRateLimited(
            f"Google Trends is still {what} on {path} after {limits.max_attempts} attempts "
            f"(answers: {', '.join(failures)}); giving up for now"
        )


def _pad_ranked_list(answer: Any) -> None:
    """pytrends indexes ``rankedList[0]`` and ``[1]``: make both exist."""
    default = answer.get("default") if isinstance(answer, dict) else None
    if isinstance(default, dict) and isinstance(default.get("rankedList"), list):
        ranked = default["rankedList"]
        while len(ranked) < 2:
            ranked.append({"rankedKeyword": []})


class _BoundaryTrendReq(TrendReq):
    """pytrends' payload building and parsing, on our transport."""

    def __init__(self, transport: Transport, hl: str, geo: str) -> None:
        self._transport = transport
        # retries/backoff_factor stay 0: pytrends' Retry crashes on urllib3 2.
        super().__init__(hl=hl, tz=0, geo=geo, retries=0, backoff_factor=0)

    def GetGoogleCookie(self) -> dict[str, str]:  # noqa: N802 (pytrends' name)
        return self._transport.cookie(self.hl[-2:])

    def _get_data(self, url: str, method: str = "get", trim_chars: int = 0, **kwargs: Any) -> Any:
        return self._transport.get_json(url, method, trim_chars, **kwargs)


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
        self._req: _BoundaryTrendReq | None = None

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
    def req(self) -> _BoundaryTrendReq:
        if self._req is None:  # the cookie call happens here, once per client
            self._req = _BoundaryTrendReq(self.transport, self.area.hl, self.area.geo)
        return self._req

    def _payload(self, keywords: list[str], timeframe: str) -> _BoundaryTrendReq:
        if not 1 <= len(keywords) <= 5:
            raise ValueError(f"Google Trends takes 1 to 5 terms a request, not {len(keywords)}")
        if len(set(keywords)) != len(keywords):
            raise ValueError(f"duplicate terms in one Trends request: {keywords}")
        req = self.req
        req.build_payload(keywords, timeframe=timeframe, geo=self.area.geo)
        return req

    def interest_over_time(self, keywords: list[str], timeframe: str) -> pl.DataFrame:
        """One row per keyword and interval: Google's 0-100 value and the partial flag."""
        frame = self._payload(keywords, timeframe).interest_over_time()
        if frame.empty:
            return pl.DataFrame(schema=OVER_TIME_SCHEMA)
        frame = frame.reset_index()
        wide = pl.DataFrame(
            {
                "timestamp": [ts.to_pydatetime() for ts in frame["date"]],
                "is_partial": frame["isPartial"].astype(bool).to_numpy(),
                **{kw: frame[kw].astype("int64").to_numpy() for kw in keywords},
            }
        )
        return (
            wide.unpivot(index=["timestamp", "is_partial"], variable_name="keyword")
            .with_columns(pl.col("timestamp").dt.replace_time_zone("UTC"))
            .select(OVER_TIME_SCHEMA.names())
            .cast(dict(OVER_TIME_SCHEMA))
        )

    def interest_by_region(self, keyword: str, timeframe: str) -> pl.DataFrame:
        """One row per region (France) or country (world)."""
        frame = self._payload([keyword], timeframe).interest_by_region(
            resolution=self.area.resolution, inc_low_vol=True, inc_geo_code=True
        )
        if frame.empty:
            return pl.DataFrame(schema=BY_REGION_SCHEMA)
        frame = frame.reset_index()
        return pl.DataFrame(
            {
                "keyword": [keyword] * len(frame),
                "geo_code": frame["geoCode"].astype(str).tolist(),
                "geo_name": frame["geoName"].astype(str).tolist(),
                "value": frame[keyword].astype("int64").tolist(),
            },
            schema=BY_REGION_SCHEMA,
        )

    def related_topics(self, keyword: str, timeframe: str) -> pl.DataFrame:
        """Top and rising related topics (Google serves them for one-term payloads only)."""
        rows = []
        for ranking, rank, item in self._related(keyword, timeframe, "RELATED_TOPICS"):
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
        rows = [
            {
                "keyword": keyword,
                "ranking": ranking,
                "rank": rank,
                "query": item.get("query"),
                "value": item.get("value"),
                "formatted_value": item.get("formattedValue"),
            }
            for ranking, rank, item in self._related(keyword, timeframe, "RELATED_QUERIES")
        ]
        return pl.DataFrame(rows, schema=RELATED_QUERIES_SCHEMA)

    def _related(self, keyword: str, timeframe: str, widget_id: str) -> list[tuple[str, int, dict]]:
        """Fetch one related widget and flatten its top and rising lists.

        Parsed here rather than by pytrends: pytrends drops ``formattedValue``
        of related queries and fails on an empty ``rankedList``.
        """
        req = self._payload([keyword], timeframe)
        widgets = (
            req.related_topics_widget_list
            if widget_id == "RELATED_TOPICS"
            else req.related_queries_widget_list
        )
        if not widgets:
            raise TrendsResponseError(f"Google Trends sent no {widget_id} widget for {keyword!r}")
        widget = widgets[0]
        answer = self.transport.get_json(
            TrendReq.RELATED_QUERIES_URL,
            "get",
            trim_chars=5,
            params={"req": json.dumps(widget["request"]), "token": widget["token"], "tz": 0},
        )
        ranked = answer.get("default", {}).get("rankedList", [])
        out = []
        for ranking, block in zip(("top", "rising"), ranked, strict=False):
            for rank, item in enumerate(block.get("rankedKeyword") or []):
                out.append((ranking, rank, item))
        return out
