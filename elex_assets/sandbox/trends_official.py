"""The official Google Trends API (alpha), as the Trends sandbox serves it.

Shapes of Google's documented examples (``elex_assets_tests/recordings/trends_official``,
compared by a structural test):

* ``POST /v1alpha:fetchTimeSeries`` / ``:fetchGeoBreakdown`` with ``{"spec": …}``
  answer an operation ``{"name": "v1alpha.<uuid>", "metadata": {"@type", "spec":
  <as sent>, "pointCount"}}`` (not done);
* ``GET /v1alpha/operations/v1alpha.<uuid>`` (``operations.get``) answers it
  not done at the first poll, then ``done: true`` with ``response``; the done
  metadata's ``endTime`` is normalised to its day and a geo spec gains
  ``zeroOutNoisyResults: false``, as in the examples. ``GET /v1alpha/<name>``
  (without ``operations/``) is a 404, as on Google's host;
* time-series points: ``timeRange``, ``searchInterest`` (one scale across
  requests: the true volume x ``SHARE_PER_SEARCH``, 2 significant digits, 0 below
  ``PRIVACY_THRESHOLD``), ``scaledSearchInterest`` (0-100 within the request),
  ``isPartial`` (the last ``partial_days`` days), ``extendsPastRequestedTimeRange``;
  data only up to ``data_lag_days`` ago;
* geo points: ``subGeo {code, type}``, no name.

A bearer token is required: ``sandbox-token``, or one issued by the sandbox's
OAuth token endpoint ``POST /token`` (so google-auth's real refresh flow runs
offline). Errors use Google's JSON shape ``{"error": {code, message, status}}``.
Faults a test can ask for (``lie``): ``other_keywords``, ``other_geo``,
``other_window``, ``other_resolution`` (the echo differs), ``extra_point`` (a
point outside the window), ``resource_exhausted`` (the operation ends with
error code 8); ``revision_noise`` makes each fetch differ (testers see +-10%).
"""

from __future__ import annotations

import copy
import json
import math
import secrets
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from elex_assets.sandbox import trends_data as truth

SANDBOX_TOKEN = "sandbox-token"
TYPE_PREFIX = "type.googleapis.com/google.trends.searchtrends.v1alpha."
SHARE_PER_SEARCH = 10.0  # searchInterest = true volume x this (one scale for every request)
PRIVACY_THRESHOLD = 1000.0  # searchInterest below this is answered 0
OTHER_KEYWORD = "licorice pizza"
LIES = ("other_keywords", "other_geo", "other_window", "other_resolution", "extra_point",
        "resource_exhausted")


@dataclass
class OfficialState:
    operations: dict[str, dict[str, Any]] = field(default_factory=dict)
    polls: dict[str, int] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=lambda: {SANDBOX_TOKEN})
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    data_lag_days: int = 2  # points exist for days up to today - this
    partial_days: int = 3  # the newest days with data are isPartial
    revision_noise: float = 0.0  # each fetch's values differ by up to +- this fraction
    lie: str | None = None  # a fault for every following fetch (see LIES)
    fetches: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _error(code: int, status: str, message: str) -> tuple[int, dict[str, Any]]:
    return code, {"error": {"code": code, "message": message, "status": status}}


def _time(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def two_digits(value: float) -> float | int:
    """Google's rounding: 2 significant digits, an integer when it is whole."""
    if value <= 0:
        return 0
    rounded = round(value, 1 - int(math.floor(math.log10(value))))
    return int(rounded) if rounded == int(rounded) else rounded


def _area(spec: dict[str, Any]) -> str:
    geo = spec.get("geo")
    if not geo:
        return "world"
    if geo.get("type") == "GEO_TYPE_COUNTRY_OR_REGION" and geo.get("code") == "FR":
        return "fr"
    raise ValueError(f"the sandbox serves geo FR and worldwide only, not {geo!r}")


def handle(
    state: OfficialState, method: str, path: str, body: bytes, authorization: str | None
) -> tuple[int, dict[str, Any]]:
    """``(status, JSON answer)`` for a request under ``/v1alpha`` or ``/token``."""
    if path == "/token" and method == "POST":
        token = "ya29.sandbox-" + secrets.token_hex(8)
        with state.lock:
            state.tokens.add(token)
        return 200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer",
                     "scope": "https://www.googleapis.com/auth/searchtrends"}
    bearer = (authorization or "").removeprefix("Bearer ").strip()
    with state.lock:
        known = bearer in state.tokens
    if not known:
        return _error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
    try:
        if method == "POST" and path in ("/v1alpha:fetchTimeSeries", "/v1alpha:fetchGeoBreakdown"):
            return 200, _start(state, path.split(":", 1)[1], json.loads(body or b"{}")["spec"])
        if method == "GET" and path.startswith("/v1alpha/operations/"):
            return _poll(state, path.removeprefix("/v1alpha/operations/"))
    except (KeyError, TypeError, ValueError) as exc:
        return _error(400, "INVALID_ARGUMENT", f"Invalid argument: {exc}")
    return _error(404, "NOT_FOUND", f"Method not found: {method} {path}")


def _start(state: OfficialState, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    with state.lock:
        state.fetches += 1
        fetch, lie = state.fetches, state.lie
    if kind == "fetchTimeSeries":
        meta_type, response = "TimeSeriesMetadata", _time_series(state, spec, fetch)
    else:
        meta_type, response = "GeoBreakdownMetadata", _geo(state, spec, fetch)
    points = response[next(k for k in response if not k.startswith("@"))]["points"]
    echo = _lie_about(copy.deepcopy(spec), lie)
    name = f"v1alpha.{uuid.uuid4()}"
    metadata = {"@type": TYPE_PREFIX + meta_type, "spec": echo, "pointCount": len(points)}
    if lie == "extra_point" and kind == "fetchTimeSeries" and points:
        late = _time(points[-1]["timeRange"]["endTime"]) + timedelta(days=30)
        points.append({**points[-1], "timeRange": {"startTime": _stamp(late),
                                                   "endTime": _stamp(late + timedelta(days=1))}})
        metadata["pointCount"] = len(points)
    done: dict[str, Any] = {"name": name, "metadata": _normalised(metadata, kind), "done": True}
    if lie == "resource_exhausted":
        done["error"] = {"code": 8, "message": "Quota exceeded.", "status": "RESOURCE_EXHAUSTED"}
    else:
        done["response"] = response
    with state.lock:
        state.operations[name] = done
        state.polls[name] = 0
    return {"name": name, "metadata": metadata}


def _lie_about(spec: dict[str, Any], lie: str | None) -> dict[str, Any]:
    if lie == "other_keywords":
        spec["expression"]["terms"][0]["value"] = OTHER_KEYWORD
    elif lie == "other_geo":
        spec["geo"] = {"code": "GB", "type": "GEO_TYPE_COUNTRY_OR_REGION"}
    elif lie == "other_window":
        start = _time(spec["timeRange"]["startTime"]) - timedelta(days=365)
        spec["timeRange"]["startTime"] = _stamp(start)
    elif lie == "other_resolution" and "timeResolution" in spec:
        spec["timeResolution"] = "WEEK" if spec["timeResolution"] != "WEEK" else "DAY"
    return spec


def _normalised(metadata: dict[str, Any], kind: str) -> dict[str, Any]:
    """The done operation's metadata: ``endTime`` cut to its day, as Google's example shows."""
    done = copy.deepcopy(metadata)
    window = done["spec"]["timeRange"]
    window["endTime"] = _stamp(_midnight(_time(window["endTime"]).date()))
    if kind == "fetchGeoBreakdown":
        done["spec"].setdefault("zeroOutNoisyResults", False)
    return done


def _poll(state: OfficialState, name: str) -> tuple[int, dict[str, Any]]:
    with state.lock:
        if name not in state.operations:
            return _error(404, "NOT_FOUND", f"Operation operations/{name} not found.")
        state.polls[name] += 1
        done = state.operations[name]
        if state.polls[name] == 1:  # not done at the first poll, like a real long operation
            return 200, {"name": name, "metadata": done["metadata"]}
    return 200, done


def _window(spec: dict[str, Any]) -> tuple[date, date]:
    """The spec's whole days, inclusive (Google reads the window by days)."""
    return _time(spec["timeRange"]["startTime"]).date(), _time(spec["timeRange"]["endTime"]).date()


def _buckets(first: date, last: date, resolution: str) -> list[tuple[date, date]]:
    """``(start, end exclusive)`` of each bucket of the window; the last may run past it."""
    out = []
    t = first
    if resolution == "MONTH" and t.day != 1:
        t = date(t.year + t.month // 12, t.month % 12 + 1, 1)
    while t <= last:
        if resolution == "DAY":
            end = t + timedelta(days=1)
        elif resolution == "WEEK":
            end = t + timedelta(days=7)
        elif resolution == "MONTH":
            end = date(t.year + t.month // 12, t.month % 12 + 1, 1)
        else:
            raise ValueError(f"timeResolution {resolution!r} is not served by the sandbox")
        out.append((t, end))
        t = end
    return out


def _noise(state: OfficialState, fetch: int, *key: object) -> float:
    if not state.revision_noise:
        return 1.0
    return 1.0 + state.revision_noise * (2 * truth._unit("revision", fetch, *key) - 1)


def _time_series(state: OfficialState, spec: dict[str, Any], fetch: int) -> dict[str, Any]:
    keyword = spec["expression"]["terms"][0]["value"]
    area = _area(spec)
    first, last = _window(spec)
    if last < first:
        raise ValueError("timeRange ends before it starts")
    today = state.clock().astimezone(UTC).date()
    newest = today - timedelta(days=state.data_lag_days)
    buckets = [b for b in _buckets(first, last, spec.get("timeResolution", "DAY"))
               if b[0] <= newest]
    shares = []
    for start, end in buckets:
        days = [start + timedelta(days=n) for n in range((min(end, newest + timedelta(days=1))
                                                          - start).days)]
        volume = sum(truth.day_volume(keyword, area, d) for d in days)
        value = volume * SHARE_PER_SEARCH * _noise(state, fetch, keyword, area, start)
        shares.append(two_digits(value) if value >= PRIVACY_THRESHOLD else 0)
    top = max(shares, default=0)
    points = []
    for (start, end), share in zip(buckets, shares, strict=True):
        points.append({
            "timeRange": {"startTime": _stamp(_midnight(start)), "endTime": _stamp(_midnight(end))},
            "searchInterest": share,
            "scaledSearchInterest": int(round(100 * share / top)) if top else 0,
            "isPartial": end > newest - timedelta(days=state.partial_days - 1),
            "extendsPastRequestedTimeRange": end > last + timedelta(days=1),
        })
    return {"@type": TYPE_PREFIX + "FetchTimeSeriesResponse", "timeSeries": {"points": points}}


def _geo(state: OfficialState, spec: dict[str, Any], fetch: int) -> dict[str, Any]:
    keyword = spec["expression"]["terms"][0]["value"]
    area = _area(spec)
    geo_type = "GEO_TYPE_ADMINISTRATIVE_AREA1" if area == "fr" else "GEO_TYPE_COUNTRY_OR_REGION"
    if spec.get("breakdownResolution") != geo_type:
        raise ValueError(f"the sandbox breaks {area} down by {geo_type} only")
    first, last = _window(spec)
    total = truth.window_volume(keyword, area, _midnight(first), _midnight(last + timedelta(days=1)))
    shares = []
    for code, _ in truth.geo_list(area):
        value = (total * truth.geo_weight(keyword, area, code) * SHARE_PER_SEARCH
                 * _noise(state, fetch, keyword, area, code))
        shares.append(two_digits(value) if value >= PRIVACY_THRESHOLD else 0)
    top = max(shares, default=0)
    return {
        "@type": TYPE_PREFIX + "FetchGeoBreakdownResponse",
        "geoBreakdown": {
            "points": [
                {
                    "subGeo": {"code": code, "type": geo_type},
                    "searchInterest": share,
                    "scaledSearchInterest": int(round(100 * share / top)) if top else 0,
                }
                for (code, _), share in zip(truth.geo_list(area), shares, strict=True)
            ]
        },
    }
