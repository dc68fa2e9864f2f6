"""A loopback Google Trends server speaking the protocol Google was recorded speaking.

Endpoints (under ``/trends``), shaped like the real answers in
``elex_assets_tests/recordings/trends`` (checked by a structural test):

* the cookie call ``GET /explore/`` answers **404** with an HTML page and a
  ``Set-Cookie: NID=…``, as Google does;
* ``POST /api/explore`` echoes the keywords (``keywords[]``, ``timeRanges``)
  and returns Google's widgets: ``TIMESERIES`` (``fe_line_chart``),
  ``GEO_MAP`` (``fe_geo_chart_explore``, or ``fe_multi_heat_map`` for a
  comparison, followed by ``TITLE_n`` / ``GEO_MAP_n`` / ``RELATED_QUERIES_n``
  per term), ``RELATED_TOPICS`` / ``RELATED_QUERIES`` (``fe_related_searches``),
  whose ``request`` carries ``backend: IZG`` and ``userType: USER_TYPE_SCRAPER``;
* ``GET /api/widgetdata/multiline``, ``/comparedgeo``, ``/relatedsearches``
  with ``)]}',`` prefixes; whole-day windows longer than 270 days come weekly;
  ``comparedgeo`` values carry ``formattedValue`` strings (``"98%"`` in a
  comparison) and ``""`` where there is no data; a term without data gets the
  empty shapes (no ``timelineData`` points, empty ``rankedKeyword`` lists).

On top of that faithful base, the sandbox's own powers: values are scaled
0-100 within each request from the known volumes of
:mod:`elex_assets.sandbox.trends_data` (the truth is available to tests), faults
are injected per test with :meth:`TrendsSandbox.inject` (429, 5xx, the captcha
redirect, answers about other keywords or another geography, a series
narrower than asked, empty ``rankedList``, missing content type, slow
answers), and :meth:`TrendsSandbox.block` turns on the block mode Google
applies to scripted clients since 2025: ``explore`` is redirected (302) to a
``/sorry/`` captcha page that answers 429.

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
from elex_assets.sandbox import trends_official as official
from elex_assets.sandbox.loopback import LoopbackServer

EXPLORE_PREFIX = ")]}'\n"
WIDGET_PREFIX = ")]}',\n"
JSON_TYPE = "application/json; charset=utf-8"
FAULT_KINDS = (
    "429", "500", "502", "503", "captcha", "empty_ranked_list", "no_content_type", "slow",
    "no_data", "other_keywords", "other_geo", "narrow_series",
)
OTHER_KEYWORD = "licorice pizza"  # what a confused answer is about (seen in the wild)
NOT_FOUND_PAGE = (
    "<!DOCTYPE html><html lang=en><meta charset=utf-8><title>Error 404 (Not Found)!!1</title>"
    "<p><b>404.</b> <ins>That’s an error.</ins><p>The requested URL <code>/trends/explore/</code>"
    " was not found on this server.  <ins>That’s all we know.</ins></html>"
)
SORRY_PAGE = (
    "<html><head><title>https://trends.google.com/trends/api/explore</title></head><body>"
    "<div>Our systems have detected unusual traffic from your computer network. This page "
    "checks to see if it's really you sending the requests, and not a robot.</div>"
    "<form id=captcha-form action=index method=post></form></body></html>"
)
OFFICIAL_ERRORS = {  # google.rpc status and message of an injected official API fault
    429: ("RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Requests' of service "
          "'searchtrends.googleapis.com'."),
    500: ("INTERNAL", "Internal error encountered."),
    502: ("UNAVAILABLE", "Bad gateway."),
    503: ("UNAVAILABLE", "The service is currently unavailable."),
}
REQUEST_OPTIONS = {"property": "", "backend": "IZG", "category": 0}
USER_CONFIG = {"userType": "USER_TYPE_SCRAPER"}


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
    blocked: bool = False
    silent: set[str] = field(default_factory=set)  # keywords without data (empty shapes)
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class BadRequest(Exception):
    pass


def area_of(geo: Any) -> str:
    """``fr`` for geo FR, ``world`` for worldwide (empty geo)."""
    if isinstance(geo, dict):
        geo = geo.get("country") or geo.get("region") or ""
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
        self._body = b""
        if method == "POST":
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self._body = self.rfile.read(length)
        status = 500
        try:
            if url.path.startswith(("/v1alpha", "/token")):
                status = self._official(method, url.path)
            else:
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
        kind = fault.kind if fault is not None else ""
        content_type = None if kind == "no_content_type" else JSON_TYPE
        try:
            if path.startswith("/sorry/"):
                return self._send(429, "text/html; charset=UTF-8", SORRY_PAGE)
            if path.rstrip("/") in ("/trends/explore", ""):
                return self._cookie()
            if kind == "captcha" or (self.sandbox._state.blocked and path.startswith("/trends/api")):
                return self._captcha_redirect(path)
            if not self._has_cookie():
                return self._send(429, "text/html", "<html>Too many requests</html>")
            if path == "/trends/api/explore" and method == "POST":
                answer = self.sandbox._explore(params, lie=kind)
                return self._send(200, content_type, EXPLORE_PREFIX + json.dumps(answer))
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
                answer = self.sandbox._multiline(req, kind)
            elif widget == "GEO_MAP":
                answer = self.sandbox._comparedgeo(req, kind)
            else:
                answer = self.sandbox._relatedsearches(req, kind)
            return self._send(200, content_type, WIDGET_PREFIX + json.dumps(answer))
        except (BadRequest, KeyError, IndexError, TypeError, ValueError) as exc:
            return self._send(400, "text/html", f"<html>bad request: {exc}</html>")

    def _official(self, method: str, path: str) -> int:
        """The official Trends API (alpha) endpoints; see :mod:`.trends_official`."""
        fault = self.sandbox._take_fault(path)
        if fault is not None and fault.kind.isdigit():
            status = int(fault.kind)
            answer = {"error": {"code": status, "message": OFFICIAL_ERRORS.get(status, ("", ""))[1],
                                "status": OFFICIAL_ERRORS.get(status, ("UNKNOWN", ""))[0]}}
        else:
            status, answer = official.handle(
                self.sandbox.official, method, path, self._body, self.headers.get("Authorization")
            )
        return self._send(status, "application/json; charset=UTF-8", json.dumps(answer))

    def _has_cookie(self) -> bool:
        return "NID=" in (self.headers.get("Cookie") or "")

    def _cookie(self) -> int:
        """Google's answer to the cookie call: 404, an HTML page, and the NID cookie.

        No ``domain=.google.com`` here (a loopback client would refuse it).
        """
        expires = (datetime.now(UTC) + timedelta(days=183)).strftime("%a, %d-%b-%Y %H:%M:%S GMT")
        nid = "511=" + hashlib.sha256(str(time.time()).encode()).hexdigest()[:40]
        body = NOT_FOUND_PAGE.encode()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Set-Cookie", f"NID={nid}; expires={expires}; path=/; HttpOnly")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return 404

    def _captcha_redirect(self, path: str) -> int:
        """Block mode: 302 to the captcha page (which answers 429), as Google does since 2025."""
        host = self.headers.get("Host", "127.0.0.1")
        location = f"http://{host}/sorry/index?continue=https://trends.google.com{path}&q=EhAg"
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Type", "text/html; charset=UTF-8")
        body = f'<HTML><BODY>302 Moved <A HREF="{location}">here</A></BODY></HTML>'.encode()
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return 302

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
    ...     settings.apply_env({"TRENDS_BASE_URL": sandbox.base_url})
    """

    name = "Trends sandbox"

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self._state = _State()
        self.official = official.OfficialState()  # the official API's operations and tokens

    # -- faults and observation ---------------------------------------------
    def inject(
        self, kind: str, times: int | None = 1, path: str = "", delay: float = 0.0
    ) -> None:
        """Make the next ``times`` requests whose path contains ``path`` fail with ``kind``.

        ``kind``: ``429``, ``500``, ``502``, ``503``, ``captcha`` (302 to the
        ``/sorry/`` page), ``empty_ranked_list`` (related searches answer
        ``rankedList: []``), ``no_content_type`` (200 without a Content-Type
        header), ``slow`` (answer after ``delay`` seconds), ``no_data`` (the
        empty shapes), ``other_keywords`` (explore answers about another term),
        ``other_geo`` (regions of the world when France was asked) or
        ``narrow_series`` (one value fewer per point than terms asked).
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

    def block(self, on: bool = True) -> None:
        """Block mode: every API call is redirected to the captcha page (429) until unblocked."""
        with self._state.lock:
            self._state.blocked = on

    def without_data(self, *keywords: str) -> None:
        """These keywords have too little search volume: Google's empty shapes for them."""
        with self._state.lock:
            self._state.silent.update(k.casefold() for k in keywords)

    def clear_faults(self) -> None:
        with self._state.lock:
            self._state.faults.clear()

    def reset(self) -> None:
        """Forget faults, recorded requests and the in-flight maximum."""
        with self._state.lock:
            self._state.faults.clear()
            self._state.records.clear()
            self._state.max_in_flight = 0
            self._state.blocked = False
            self._state.silent.clear()

    @property
    def requests(self) -> list[RequestRecord]:
        """Requests answered so far (waits briefly for one still being recorded)."""
        deadline = time.monotonic() + 1.0
        while self._state.in_flight and time.monotonic() < deadline:
            time.sleep(0.01)
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
    def _silent(self, keyword: str) -> bool:
        return keyword.casefold() in self._state.silent

    def _widget(self, wid: str, wtype: str, title: str, request: dict[str, Any] | None,
                extra: dict[str, Any], is_long: bool) -> dict[str, Any]:
        widget: dict[str, Any] = {}
        if request is not None:
            token = _token({"id": wid, "request": request})
            with self._state.lock:
                self._state.tokens[token] = request
            widget["request"] = request
        widget.update(extra)
        if request is not None:
            widget["token"] = widget.get("token", token)
        widget.update({
            "id": wid, "type": wtype, "title": title, "template": extra.pop("_template", "fe"),
            "embedTemplate": "fe_embed", "version": "1", "isLong": is_long, "isCurated": False,
        })
        widget.pop("_template", None)
        return widget

    def _explore(self, params: dict[str, str], lie: str = "") -> dict[str, Any]:
        hl = params.get("hl", "en-US")
        req = json.loads(params["req"])
        items = req["comparisonItem"]
        if not 1 <= len(items) <= 5:
            raise BadRequest("between 1 and 5 keywords are accepted")
        geo = items[0].get("geo", "")
        area_of(geo)
        geo_obj = {"country": geo} if geo else {}
        time_spec = items[0]["time"]
        start, end, sub_daily = parse_time(time_spec)
        options = {**REQUEST_OPTIONS, "property": req.get("property", "")}
        keywords = [i["keyword"] for i in items]
        if lie == "other_keywords":
            keywords = [OTHER_KEYWORD, *keywords[1:]]
        restriction = [{"type": "BROAD", "value": kw} for kw in keywords]
        compared = len(keywords) > 1
        palette = [f"PALETTE_COLOR_{i + 1}" for i in range(len(keywords))]
        geo_label = geo or "world"
        geo_resolution = "REGION" if geo else "COUNTRY"
        geo_names = "regions" if geo else "countries"
        widgets = [
            self._widget(
                "TIMESERIES", "fe_line_chart", "Interest over time",
                {
                    "time": time_spec,
                    "resolution": resolution_of(start, end, sub_daily),
                    "locale": hl,
                    "comparisonItem": [
                        {"geo": geo_obj, "complexKeywordsRestriction": {"keyword": [r]}}
                        for r in restriction
                    ],
                    "requestOptions": options,
                    "userConfig": USER_CONFIG,
                },
                {
                    "lineAnnotationText": "Search interest",
                    "bullets": [{"text": kw} for kw in keywords],
                    "showLegend": False,
                    "showAverages": compared,
                    "helpDialog": {"title": "Interest over time", "content": HELP["TIMESERIES"]},
                },
                True,
            )
        ]

        def geo_request(kws: list[dict[str, str]], percentages: bool) -> dict[str, Any]:
            request: dict[str, Any] = {
                "geo": geo_obj,
                "comparisonItem": [
                    {"time": time_spec, "complexKeywordsRestriction": {"keyword": [k]}}
                    for k in kws
                ],
                "resolution": geo_resolution,
                "locale": hl,
                "requestOptions": options,
            }
            if percentages:
                request["dataMode"] = "PERCENTAGES"
            request["userConfig"] = USER_CONFIG
            return request

        def geo_chart(i: int, wid: str, is_long: bool) -> dict[str, Any]:
            return self._widget(
                wid, "fe_geo_chart_explore", "Interest by region",
                geo_request([restriction[i]], False),
                {
                    "geo": geo_label, "resolution": geo_names,
                    "searchInterestLabel": "Search interest", "displayMode": "regions",
                    "helpDialog": {"title": "Interest by region", "content": HELP["GEO_MAP"],
                                   "url": "https://support.google.com/trends/answer/4355212"},
                    "color": palette[i], "index": i, "bullet": keywords[i],
                },
                is_long,
            )

        def related(i: int, wid: str, kind: str) -> dict[str, Any]:
            title = "Related topics" if kind == "ENTITY" else "Related queries"
            help_dialog: dict[str, str] = {"title": title, "content": HELP["RELATED"]}
            if kind == "QUERY":
                help_dialog["url"] = "https://support.google.com/trends/answer/4355000"
            compare = f"{start - (end - start):%Y-%m-%d} {start - timedelta(days=1):%Y-%m-%d}"
            return self._widget(
                wid, "fe_related_searches", title,
                {
                    "restriction": {
                        "geo": geo_obj,
                        "time": time_spec,
                        "originalTimeRangeForExploreUrl": time_spec,
                        "complexKeywordsRestriction": {"keyword": [restriction[i]]},
                    },
                    "keywordType": kind,
                    "metric": ["TOP", "RISING"],
                    "trendinessSettings": {"compareTime": compare},
                    "requestOptions": options,
                    "language": hl[:2],
                    "userCountryCode": "FR",
                    "userConfig": USER_CONFIG,
                },
                {"helpDialog": help_dialog, "color": palette[i], "keywordName": keywords[i]},
                False,
            )

        if not compared:
            widgets.append(geo_chart(0, "GEO_MAP", True))
            widgets.append(related(0, "RELATED_TOPICS", "ENTITY"))
            widgets.append(related(0, "RELATED_QUERIES", "QUERY"))
        else:
            widgets.append(
                self._widget(
                    "GEO_MAP", "fe_multi_heat_map", "Compared breakdown by region",
                    geo_request(restriction, True),
                    {
                        "geo": geo_label, "resolution": geo_names,
                        "searchInterestLabel": "Search interest", "displayMode": "regions",
                        "showLegend": False,
                        "helpDialog": {"title": "Compared breakdown by region",
                                       "content": HELP["GEO_MAP_COMPARED"]},
                        "bullets": [{"value": kw, "color": c} for kw, c in zip(keywords, palette, strict=True)],
                    },
                    True,
                )
            )
            for i, kw in enumerate(keywords):
                widgets.append(
                    self._widget(f"TITLE_{i}", "fe_text", "", None,
                                 {"text": {"text": kw}, "_template": "fe_explore"}, True)
                )
                widgets.append(geo_chart(i, f"GEO_MAP_{i}", False))
                widgets.append(related(i, f"RELATED_QUERIES_{i}", "QUERY"))
        return {
            "widgets": widgets,
            "keywords": [{"keyword": kw, "name": kw, "type": "Search term"} for kw in keywords],
            "timeRanges": [time_range_label(start, end, sub_daily)] * len(keywords),
            "examples": [],
            "shareText": f"Explore search interest for {', '.join(keywords)} by time, location "
            "and popularity on Google Trends",
            "shouldShowMultiHeatMapMessage": False,
        }

    def _multiline(self, req: dict[str, Any], lie: str = "") -> dict[str, Any]:
        items = req["comparisonItem"]
        keywords = [_keyword(i) for i in items]
        area = area_of(items[0].get("geo", {}))
        start, end, sub_daily = parse_time(req["time"])
        resolution = req.get("resolution") or resolution_of(start, end, sub_daily)
        now = datetime.now(UTC)
        if lie == "no_data" or all(self._silent(kw) for kw in keywords):
            return {"default": {"timelineData": [], "averages": []}}
        points, step = points_of(start, end, resolution)
        raw = [[period_volume(kw, area, t, step, sub_daily) for kw in keywords] for t in points]
        kept = [i for i, t in enumerate(points) if t <= now]  # nothing from the future
        points, raw = [points[i] for i in kept], [raw[i] for i in kept]
        raw = [[0.0 if self._silent(kw) else v for kw, v in zip(keywords, row, strict=True)] for row in raw]
        flat = scale([v for row in raw for v in row])
        width = len(keywords)
        timeline = []
        for i, t in enumerate(points):
            values = flat[i * width : (i + 1) * width]
            if lie == "narrow_series":
                values = values[:-1]
            point: dict[str, Any] = {
                "time": str(int(t.timestamp())),
                "formattedTime": formatted_time(t, step),
                "formattedAxisTime": formatted_axis_time(t, step),
                "value": values,
                "hasData": [v > 0 for v in values],
                "formattedValue": [str(v) for v in values],
            }
            if t + step > now:
                point["isPartial"] = True
            timeline.append(point)
        averages = []
        if width > 1 and timeline:
            averages = [round(sum(p["value"][k] for p in timeline) / len(timeline))
                        for k in range(len(timeline[0]["value"]))]
        return {"default": {"timelineData": timeline, "averages": averages}}

    def _comparedgeo(self, req: dict[str, Any], lie: str = "") -> dict[str, Any]:
        items = req["comparisonItem"]
        area = area_of(req.get("geo", {}))
        if lie == "other_geo":
            area = "world"
        start, end, _ = parse_time(items[0]["time"])
        keywords = [_keyword(i) for i in items]
        silent = lie == "no_data" or all(self._silent(kw) for kw in keywords)
        totals = [0.0 if silent or self._silent(kw) else truth.window_volume(kw, area, start, end)
                  for kw in keywords]
        geos = truth.geo_list(area)
        raw = [
            [tot * truth.geo_weight(kw, area, code) for kw, tot in zip(keywords, totals, strict=True)]
            for code, _ in geos
        ]
        percentages = req.get("dataMode") == "PERCENTAGES"
        if percentages:  # a comparison: each region's split between the terms, in %
            scaled = [[int(round(100 * v / sum(row))) if sum(row) else 0 for v in row] for row in raw]
        else:
            flat = scale([v for row in raw for v in row])
            scaled = [flat[i * len(keywords) : (i + 1) * len(keywords)] for i in range(len(geos))]
        data = []
        for (code, name), values in zip(geos, scaled, strict=True):
            has = [v > 0 for v in values]
            data.append(
                {
                    "geoCode": code,
                    "geoName": name,
                    "value": values,
                    "formattedValue": [
                        (f"{v}%" if percentages else str(v)) if h else ""
                        for v, h in zip(values, has, strict=True)
                    ],
                    "maxValueIndex": values.index(max(values)),
                    "hasData": has,
                }
            )
        return {"default": {"geoMapData": data}}

    def _relatedsearches(self, req: dict[str, Any], lie: str = "") -> dict[str, Any]:
        restriction = req["restriction"]
        area = area_of(restriction.get("geo", {}))
        start, _, _ = parse_time(restriction["time"])
        keyword = _keyword(restriction)
        if lie == "empty_ranked_list":
            return {"default": {"rankedList": []}}
        if lie == "no_data" or self._silent(keyword):
            return {"default": {"rankedList": [{"rankedKeyword": []}, {"rankedKeyword": []}]}}
        maker = truth.related_topics if req.get("keywordType") == "ENTITY" else truth.related_queries
        top, rising = maker(keyword, area, start.date())
        return {"default": {"rankedList": [{"rankedKeyword": top}, {"rankedKeyword": rising}]}}


HELP = {
    "TIMESERIES": "Numbers represent search interest relative to the highest point on the chart "
    "for the given region and time. A value of 100 is the peak popularity for the term.",
    "GEO_MAP": "See in which location your term was most popular during the specified time "
    "frame. Values are calculated on a scale from 0 to 100.",
    "GEO_MAP_COMPARED": "See which term ranked highest in each region during the specified "
    "time frame.",
    "RELATED": "Users searching for your term also searched for these.",
}


def resolution_of(start: datetime, end: datetime, sub_daily: bool) -> str:
    """Google's resolution for a window (recorded: 5 days DAY, 1 year and 5 years WEEK)."""
    span = end - start
    if sub_daily:
        return "EIGHT_MINUTE" if span <= timedelta(hours=36) else "HOUR"
    if span <= timedelta(days=270):
        return "DAY"
    return "WEEK"


STEP = {"EIGHT_MINUTE": truth.EIGHT_MINUTES, "HOUR": timedelta(hours=1),
        "DAY": timedelta(days=1), "WEEK": timedelta(days=7)}


def points_of(start: datetime, end: datetime, resolution: str) -> tuple[list[datetime], timedelta]:
    """Start of every point; weekly points start on Sundays, the first full week in the window."""
    step = STEP[resolution]
    t = start
    if resolution == "WEEK":
        t = start + timedelta(days=(6 - start.weekday()) % 7)
    points = []
    while t < end:
        points.append(t)
        t += step
    return points, step


def period_volume(keyword: str, area: str, t: datetime, step: timedelta, sub_daily: bool) -> float:
    if sub_daily:
        return truth.window_volume(keyword, area, t, t + step)
    return sum(truth.day_volume(keyword, area, (t + timedelta(days=d)).date())
               for d in range(step.days))


def formatted_time(t: datetime, step: timedelta) -> str:
    if step >= timedelta(days=7):
        last = t + step - timedelta(days=1)
        return f"{t:%b} {t.day}\u2009\u2013\u2009{last.day}, {last.year}" if last.month == t.month \
            else f"{t:%b} {t.day}\u2009\u2013\u2009{last:%b} {last.day}, {last.year}"
    if step >= timedelta(days=1):
        return f"{t:%b} {t.day}, {t.year}"
    return f"{t:%b} {t.day}, {t.year} at {t:%-I:%M %p}"


def formatted_axis_time(t: datetime, step: timedelta) -> str:
    return f"{t:%b} {t.day}, {t.year}" if step >= timedelta(days=1) else f"{t:%-I:%M %p}"


def time_range_label(start: datetime, end: datetime, sub_daily: bool) -> str:
    last = end - timedelta(days=1)
    if sub_daily:
        return f"{start:%-m/%-d/%y, %-I %p} - {end:%-m/%-d/%y, %-I %p}"
    return f"{start:%-m/%-d/%y} - {last:%-m/%-d/%y}"


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
