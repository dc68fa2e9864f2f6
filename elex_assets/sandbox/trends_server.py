"""A loopback Google Trends server speaking what pytrends 4.9.2 talks to.

Endpoints (under ``/trends``): the cookie call ``GET /explore/`` (sets ``NID``),
``POST /api/explore`` (widgets and their tokens), ``GET /api/widgetdata/multiline``,
``/comparedgeo`` and ``/relatedsearches``, with Google's ``)]}'`` prefixes and
JSON content type. Values are scaled 0-100 within each request, from the known
volumes of :mod:`elex_assets.sandbox.trends_data`, so the truth is available to
tests. Faults (429, 5xx, empty ``rankedList``, missing content type, slow
answers) are injected per test with :meth:`TrendsSandbox.inject`.

Run it with ``python -m elex_assets.sandbox.trends_server [port]``.
"""

from __future__ import annotations

import hashlib
import json
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from elex_assets.sandbox import trends_data as truth
from elex_assets.sandbox.loopback import LoopbackServer

EXPLORE_PREFIX = ")]}'\n"
WIDGET_PREFIX = ")]}',\n"
JSON_TYPE = "application/json; charset=utf-8"
FAULT_KINDS = ("429", "500", "502", "503", "empty_ranked_list", "no_content_type", "slow")


@dataclass
class Fault:
    kind: str
    times: int | None = 1  # None: every matching request
    path: str = ""  # only requests whose path contains this
    delay: float = 0.0  # seconds, for "slow"


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    params: dict[str, str]
    started: float
    ended: float
    status: int


@dataclass
class _State:
    faults: list[Fault] = field(default_factory=list)
    records: list[RequestRecord] = field(default_factory=list)
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class BadRequest(Exception):
    pass


def area_of(geo: Any) -> str:
    """``fr`` for geo FR, ``world`` for worldwide (empty geo)."""
    if isinstance(geo, dict):
        geo = geo.get("country", "")
    if geo in ("", None):
        return "world"
    if geo == "FR":
        return "fr"
    raise BadRequest(f"the sandbox serves geo FR and worldwide only, not {geo!r}")


def parse_time(spec: str) -> tuple[datetime, datetime, bool]:
    """Google's window syntax -> (start, end, sub_daily).

    ``2026-11-20 2026-11-21`` is whole days (inclusive, one point a day);
    ``2026-11-20T00 2026-11-21T00`` is an hourly-bounded window served at
    8-minute resolution, as Google does for recent short windows.
    """
    try:
        first, last = spec.split(" ")
        if "T" in first:
            start = datetime.strptime(first, "%Y-%m-%dT%H").replace(tzinfo=UTC)
            end = datetime.strptime(last, "%Y-%m-%dT%H").replace(tzinfo=UTC)
            sub_daily = True
        else:
            start = datetime.combine(date.fromisoformat(first), datetime.min.time(), UTC)
            end = datetime.combine(date.fromisoformat(last), datetime.min.time(), UTC)
            end += timedelta(days=1)
            sub_daily = False
    except ValueError as exc:
        raise BadRequest(f"unsupported time {spec!r}") from exc
    if end <= start:
        raise BadRequest(f"empty time window {spec!r}")
    return start, end, sub_daily


def scale(values: list[float]) -> list[int]:
    """Google's per-request scaling: the largest value becomes 100, integers."""
    top = max(values, default=0.0)
    return [int(round(100 * v / top)) if top > 0 else 0 for v in values]


def _keyword(item: dict[str, Any]) -> str:
    return item["complexKeywordsRestriction"]["keyword"][0]["value"]


def _token(payload: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    return "APP6_UEAAAAA" + digest[:24]


class _Handler(BaseHTTPRequestHandler):
    server_version = "ESF"
    sandbox: TrendsSandbox  # set on the subclass made per server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return

    def do_GET(self) -> None:  # noqa: N802
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def _handle(self, method: str) -> None:
        state = self.sandbox._state
        with state.lock:
            state.in_flight += 1
            state.max_in_flight = max(state.max_in_flight, state.in_flight)
        started = time.monotonic()
        url = urlsplit(self.path)
        params = {k: v[-1] for k, v in parse_qs(url.query).items()}
        if method == "POST":
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
        status = 500
        try:
            status = self._route(method, url.path, params)
        except (BrokenPipeError, ConnectionResetError):
            status = 499  # the client gave up (timeout) before the answer
        finally:
            with state.lock:
                state.in_flight -= 1
                state.records.append(
                    RequestRecord(method, url.path, params, started, time.monotonic(), status)
                )

    def _route(self, method: str, path: str, params: dict[str, str]) -> int:
        fault = self.sandbox._take_fault(path)
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay)
            fault = None
        if fault is not None and fault.kind.isdigit():
            return self._send(int(fault.kind), "text/html", f"<html>error {fault.kind}</html>")
        no_type = fault is not None and fault.kind == "no_content_type"
        content_type = None if no_type else JSON_TYPE
        try:
            if path.rstrip("/") in ("/trends/explore", ""):
                return self._cookie()
            if not self._has_cookie():
                return self._send(429, "text/html", "<html>Too many requests</html>")
            if path == "/trends/api/explore" and method == "POST":
                body = EXPLORE_PREFIX + json.dumps(self.sandbox._explore(params))
                return self._send(200, content_type, body)
            widget = {
                "/trends/api/widgetdata/multiline": "TIMESERIES",
                "/trends/api/widgetdata/comparedgeo": "GEO_MAP",
                "/trends/api/widgetdata/relatedsearches": "RELATED",
            }.get(path)
            if widget is None or method != "GET":
                return self._send(404, "text/html", "<html>not found</html>")
            token = params.get("token", "")
            if token not in self.sandbox._state.tokens:
                return self._send(401, "text/html", "<html>unknown token</html>")
            req = json.loads(params.get("req", "{}"))
            if widget == "TIMESERIES":
                answer = self.sandbox._multiline(req)
            elif widget == "GEO_MAP":
                answer = self.sandbox._comparedgeo(req)
            else:
                empty = fault is not None and fault.kind == "empty_ranked_list"
                answer = self.sandbox._relatedsearches(req, empty)
            return self._send(200, content_type, WIDGET_PREFIX + json.dumps(answer))
        except (BadRequest, KeyError, IndexError, TypeError, ValueError) as exc:
            return self._send(400, "text/html", f"<html>bad request: {exc}</html>")

    def _has_cookie(self) -> bool:
        return "NID=" in (self.headers.get("Cookie") or "")

    def _cookie(self) -> int:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=UTF-8")
        self.send_header("Set-Cookie", "NID=511=sandbox; path=/; HttpOnly")
        body = b"<html><body>Google Trends sandbox</body></html>"
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return 200

    def _send(self, status: int, content_type: str | None, body: str) -> int:
        data = body.encode()
        self.send_response(status)
        if content_type is not None:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        return status


class TrendsSandbox(LoopbackServer):
    """The sandbox server, run in a thread on loopback.

    >>> with TrendsSandbox() as sandbox:  # doctest: +SKIP
    ...     os.environ["TRENDS_BASE_URL"] = sandbox.base_url
    """

    name = "Trends sandbox"

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self._state = _State()

    # -- faults and observation ---------------------------------------------
    def inject(
        self, kind: str, times: int | None = 1, path: str = "", delay: float = 0.0
    ) -> None:
        """Make the next ``times`` requests whose path contains ``path`` fail with ``kind``.

        ``kind``: ``429``, ``500``, ``502``, ``503``, ``empty_ranked_list`` (related
        searches answer ``rankedList: []``), ``no_content_type`` (200 without a
        Content-Type header) or ``slow`` (answer after ``delay`` seconds).
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; expected one of {FAULT_KINDS}")
        with self._state.lock:
            self._state.faults.append(Fault(kind, times, path, delay))

    @contextmanager
    def fault(self, kind: str, **kwargs: Any) -> Iterator[None]:
        self.inject(kind, **kwargs)
        try:
            yield
        finally:
            self.clear_faults()

    def clear_faults(self) -> None:
        with self._state.lock:
            self._state.faults.clear()

    def reset(self) -> None:
        """Forget faults, recorded requests and the in-flight maximum."""
        with self._state.lock:
            self._state.faults.clear()
            self._state.records.clear()
            self._state.max_in_flight = 0

    @property
    def requests(self) -> list[RequestRecord]:
        with self._state.lock:
            return list(self._state.records)

    @property
    def max_in_flight(self) -> int:
        """Most requests ever being answered at the same time."""
        return self._state.max_in_flight

    def _take_fault(self, path: str) -> Fault | None:
        with self._state.lock:
            for fault in self._state.faults:
                if fault.path in path:
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._state.faults.remove(fault)
                    return fault
        return None

    # -- truth, for tests -----------------------------------------------------
    @staticmethod
    def true_volume(keyword: str, area: str, start: datetime, end: datetime) -> float:
        """The underlying volume of a keyword over ``[start, end)`` (UTC)."""
        return truth.window_volume(keyword, area, start, end)

    # -- API -----------------------------------------------------------------
    def _widget(self, wid: str, title: str, request: dict[str, Any]) -> dict[str, Any]:
        token = _token({"id": wid, "request": request})
        with self._state.lock:
            self._state.tokens[token] = request
        return {
            "request": request,
            "token": token,
            "id": wid,
            "type": f"fe_{wid.split('_')[0].lower()}",
            "title": title,
            "template": "fe",
            "embedTemplate": "fe_embed",
            "version": "1",
            "isLong": wid != "TIMESERIES",
            "isCurated": False,
        }

    def _explore(self, params: dict[str, str]) -> dict[str, Any]:
        hl = params.get("hl", "en-US")
        req = json.loads(params["req"])
        items = req["comparisonItem"]
        if not 1 <= len(items) <= 5:
            raise BadRequest("between 1 and 5 keywords are accepted")
        geo = items[0].get("geo", "")
        area_of(geo)
        geo_obj = {"country": geo} if geo else {}
        time_spec = items[0]["time"]
        _, _, sub_daily = parse_time(time_spec)
        options = {"property": req.get("property", ""), "backend": "CM", "category": 0}
        keywords = [i["keyword"] for i in items]
        restriction = [
            {"type": "BROAD", "value": kw} for kw in keywords
        ]  # one entry per keyword
        widgets = [
            self._widget(
                "TIMESERIES",
                "Interest over time",
                {
                    "time": time_spec,
                    "resolution": "EIGHT_MINUTE" if sub_daily else "DAY",
                    "locale": hl,
                    "comparisonItem": [
                        {"geo": geo_obj, "complexKeywordsRestriction": {"keyword": [r]}}
                        for r in restriction
                    ],
                    "requestOptions": options,
                    "userConfig": {"userType": "USER_TYPE_LEGIT_USER"},
                },
            )
        ]

        def geo_request(kws: list[dict[str, str]]) -> dict[str, Any]:
            return {
                "geo": geo_obj,
                "comparisonItem": [
                    {"time": time_spec, "complexKeywordsRestriction": {"keyword": [k]}}
                    for k in kws
                ],
                "resolution": "REGION" if geo else "COUNTRY",
                "locale": hl,
                "requestOptions": options,
                "dataMode": "PERCENTAGES",
            }

        def related_request(kw: dict[str, str], kind: str) -> dict[str, Any]:
            return {
                "restriction": {
                    "geo": geo_obj,
                    "time": time_spec,
                    "originalTimeRangeForExploreUrl": time_spec,
                    "complexKeywordsRestriction": {"keyword": [kw]},
                },
                "keywordType": kind,
                "metric": ["TOP", "RISING"],
                "trendinessSettings": {"compareTime": time_spec},
                "requestOptions": options,
                "language": hl[:2],
                "userCountryCode": "FR",
            }

        if len(keywords) == 1:
            widgets.append(self._widget("GEO_MAP", "Interest by subregion", geo_request(restriction)))
            widgets.append(
                self._widget(
                    "RELATED_TOPICS", "Related topics", related_request(restriction[0], "ENTITY")
                )
            )
            widgets.append(
                self._widget(
                    "RELATED_QUERIES", "Related queries", related_request(restriction[0], "QUERY")
                )
            )
        else:
            widgets.append(
                self._widget("GEO_MAP", "Compared breakdown by subregion", geo_request(restriction))
            )
            for i, kw in enumerate(restriction):
                widgets.append(
                    self._widget(f"GEO_MAP_{i}", "Interest by subregion", geo_request([kw]))
                )
                widgets.append(
                    self._widget(
                        f"RELATED_QUERIES_{i}", "Related queries", related_request(kw, "QUERY")
                    )
                )
        return {"widgets": widgets, "keywords": [], "timeRanges": [], "examples": [],
                "shareText": "Explore search interest", "shouldShowMultiHeatMapMessage": False}

    def _multiline(self, req: dict[str, Any]) -> dict[str, Any]:
        items = req["comparisonItem"]
        keywords = [_keyword(i) for i in items]
        area = area_of(items[0].get("geo", {}))
        start, end, sub_daily = parse_time(req["time"])
        now = datetime.now(UTC)
        if sub_daily:
            points = truth.slots(start, end)
            step = truth.EIGHT_MINUTES
            raw = [[truth.volume(kw, area, t) for kw in keywords] for t in points]
        else:
            points, t = [], start
            while t < end:
                points.append(t)
                t += timedelta(days=1)
            step = timedelta(days=1)
            raw = [[truth.day_volume(kw, area, t.date()) for kw in keywords] for t in points]
        kept = [i for i, t in enumerate(points) if t <= now]  # nothing from the future
        points, raw = [points[i] for i in kept], [raw[i] for i in kept]
        flat = scale([v for row in raw for v in row])
        timeline = []
        for i, t in enumerate(points):
            values = flat[i * len(keywords) : (i + 1) * len(keywords)]
            point: dict[str, Any] = {
                "time": str(int(t.timestamp())),
                "formattedTime": t.strftime("%b %-d, %Y at %-I:%M %p"),
                "formattedAxisTime": t.strftime("%-I:%M %p"),
                "value": values,
                "hasData": [v > 0 for v in values],
                "formattedValue": [str(v) for v in values],
            }
            if t + step > now:
                point["isPartial"] = True
            timeline.append(point)
        return {"default": {"timelineData": timeline, "averages": []}}

    def _comparedgeo(self, req: dict[str, Any]) -> dict[str, Any]:
        items = req["comparisonItem"]
        area = area_of(req.get("geo", {}))
        start, end, _ = parse_time(items[0]["time"])
        keywords = [_keyword(i) for i in items]
        totals = [truth.window_volume(kw, area, start, end) for kw in keywords]
        geos = truth.geo_list(area)
        raw = [
            [tot * truth.geo_weight(kw, area, code) for kw, tot in zip(keywords, totals, strict=True)]
            for code, _ in geos
        ]
        flat = scale([v for row in raw for v in row])
        data = []
        for i, (code, name) in enumerate(geos):
            values = flat[i * len(keywords) : (i + 1) * len(keywords)]
            data.append(
                {
                    "geoCode": code,
                    "geoName": name,
                    "value": values,
                    "formattedValue": [str(v) for v in values],
                    "maxValueIndex": values.index(max(values)),
                    "hasData": [True] * len(values),
                }
            )
        return {"default": {"geoMapData": data}}

    def _relatedsearches(self, req: dict[str, Any], empty: bool) -> dict[str, Any]:
        restriction = req["restriction"]
        area = area_of(restriction.get("geo", {}))
        start, _, _ = parse_time(restriction["time"])
        keyword = _keyword(restriction)
        if empty:
            return {"default": {"rankedList": []}}
        maker = truth.related_topics if req.get("keywordType") == "ENTITY" else truth.related_queries
        top, rising = maker(keyword, area, start.date())
        return {"default": {"rankedList": [{"rankedKeyword": top}, {"rankedKeyword": rising}]}}


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    port = int(args[0]) if args else 0
    sandbox = TrendsSandbox(port=port).start()
    print(f"Trends sandbox on {sandbox.base_url} (TRENDS_BASE_URL={sandbox.base_url})", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        sandbox.stop()


if __name__ == "__main__":
    main()
