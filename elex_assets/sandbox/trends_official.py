"""The official Google Trends API (alpha), as the Trends sandbox serves it.

Same shape as :mod:`elex_assets.core.trends.official` expects (early-access
users' code; no public reference yet): ``POST /v1alpha:fetchTimeSeries`` and
``:fetchGeoBreakdown`` start an operation, ``GET /v1alpha/operations/<id>`` is
"not done" once, then done with the ``response``. A bearer token is required:
``sandbox-token``, or one issued by the sandbox's OAuth token endpoint
``POST /token`` (so google-auth's real refresh flow can run offline). Values
come from the same true volumes as the web endpoints; ``searchInterest`` is
consistently scaled (the true daily volume / 100), and points whose day ended
less than ``partial_lag`` ago are ``isPartial``.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from elex_assets.sandbox import trends_data as truth

SANDBOX_TOKEN = "sandbox-token"
INTEREST_UNIT = 100.0  # searchInterest = true daily volume / this


@dataclass
class OfficialState:
    operations: dict[str, dict[str, Any]] = field(default_factory=dict)
    polls: dict[str, int] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=lambda: {SANDBOX_TOKEN})
    partial_lag: timedelta = timedelta(days=2)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _error(code: int, status: str, message: str) -> tuple[int, dict[str, Any]]:
    return code, {"error": {"code": code, "message": message, "status": status}}


def _time(value: Any) -> datetime:
    if isinstance(value, dict):
        return datetime.fromtimestamp(int(value.get("seconds", 0)), UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


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
            spec = json.loads(body or b"{}")["spec"]
            kind = path.split(":", 1)[1]
            response = _time_series(state, spec) if kind == "fetchTimeSeries" else _geo(spec)
            name = f"operations/{kind}-{secrets.token_hex(8)}"
            with state.lock:
                state.operations[name] = response
                state.polls[name] = 0
            return 200, {"name": name, "done": False}
        if method == "GET" and path.startswith("/v1alpha/operations/"):
            name = path.removeprefix("/v1alpha/")
            with state.lock:
                if name not in state.operations:
                    return _error(404, "NOT_FOUND", f"operation {name} not found")
                state.polls[name] += 1
                done = state.polls[name] > 1  # "not done" at the first poll, like a real LRO
                response = state.operations[name]
            answer: dict[str, Any] = {"name": name, "done": done}
            if done:
                answer["response"] = response
            return 200, answer
    except (KeyError, TypeError, ValueError) as exc:
        return _error(400, "INVALID_ARGUMENT", str(exc))
    return _error(404, "NOT_FOUND", f"no such method {method} {path}")


def _time_series(state: OfficialState, spec: dict[str, Any]) -> dict[str, Any]:
    keyword = spec["expression"]["terms"][0]["value"]
    area = _area(spec)
    start, end = _time(spec["timeRange"]["startTime"]), _time(spec["timeRange"]["endTime"])
    if spec.get("timeResolution", "DAY") != "DAY":
        raise ValueError("the sandbox serves timeResolution DAY only")
    now = datetime.now(UTC)
    days, t = [], start
    while t < end and t < now:
        days.append(t)
        t += timedelta(days=1)
    interests = [truth.day_volume(keyword, area, d.date()) / INTEREST_UNIT for d in days]
    top = max(interests, default=0.0)
    points = []
    for d, interest in zip(days, interests, strict=True):
        point: dict[str, Any] = {
            "timeRange": {"startTime": _stamp(d), "endTime": _stamp(d + timedelta(days=1))},
            "searchInterest": round(interest, 4),
            "scaledSearchInterest": int(round(100 * interest / top)) if top else 0,
        }
        if d + timedelta(days=1) > now - state.partial_lag:
            point["isPartial"] = True
        points.append(point)
    return {"@type": "type.googleapis.com/google.searchtrends.v1alpha.FetchTimeSeriesResponse",
            "timeSeries": {"points": points}}


def _geo(spec: dict[str, Any]) -> dict[str, Any]:
    keyword = spec["expression"]["terms"][0]["value"]
    area = _area(spec)
    start, end = _time(spec["timeRange"]["startTime"]), _time(spec["timeRange"]["endTime"])
    total = truth.window_volume(keyword, area, start, min(end, start + timedelta(days=1)))
    geos = truth.geo_list(area)
    interests = [total * truth.geo_weight(keyword, area, code) / INTEREST_UNIT for code, _ in geos]
    top = max(interests, default=0.0)
    geo_type = "GEO_TYPE_ADMINISTRATIVE_AREA1" if area == "fr" else "GEO_TYPE_COUNTRY_OR_REGION"
    return {
        "@type": "type.googleapis.com/google.searchtrends.v1alpha.FetchGeoBreakdownResponse",
        "geoBreakdown": {
            "points": [
                {
                    "geo": {"type": geo_type, "code": code, "name": name},
                    "searchInterest": round(interest, 4),
                    "scaledSearchInterest": int(round(100 * interest / top)) if top else 0,
                }
                for (code, name), interest in zip(geos, interests, strict=True)
            ]
        },
    }
