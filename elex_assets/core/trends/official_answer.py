"""Every official Trends API answer checked against the request it answers.

Shapes are those of Google's own examples (``elex_assets_tests/recordings/
trends_official``): a fetch answers an operation ``{name: "v1alpha.<uuid>",
metadata: {@type, spec, pointCount}}``; ``operations.get`` answers the same
operation with ``done: true`` and ``response``. The metadata echoes the spec
asked, so a foreign answer (other terms, geography, window or resolution, or
another operation) is caught before anything lands: :class:`TrendsMismatch`.

Google normalises the echoed window to whole days (the example asked
``endTime 2025-08-31T23:59:59Z`` and the done operation says
``2025-08-31T00:00:00Z``): windows are compared by their UTC days, inclusive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from elex_assets.core.trends.errors import TrendsMismatch, TrendsResponseError

TYPE_PREFIX = "type.googleapis.com/google.trends.searchtrends.v1alpha."
KINDS = {  # method -> (metadata type, response type, response field, resolution field)
    "fetchTimeSeries": ("TimeSeriesMetadata", "FetchTimeSeriesResponse", "timeSeries",
                        "timeResolution"),
    "fetchGeoBreakdown": ("GeoBreakdownMetadata", "FetchGeoBreakdownResponse", "geoBreakdown",
                          "breakdownResolution"),
}
TIME_RESOLUTIONS = ("DAY", "WEEK", "MONTH", "YEAR")


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: Any) -> datetime:
    """A protobuf Timestamp in JSON: an RFC 3339 string (or ``{"seconds": n}``)."""
    if isinstance(value, dict):
        return datetime.fromtimestamp(int(value.get("seconds", 0)), UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)


@dataclass(frozen=True)
class Spec:
    """What elex asks: one term, a geography (None: worldwide), whole UTC days, a resolution."""

    method: str  # fetchTimeSeries or fetchGeoBreakdown
    term: str
    geo: str | None
    first_day: date
    last_day: date  # inclusive
    resolution: str  # timeResolution or breakdownResolution

    @property
    def start(self) -> datetime:
        return datetime(self.first_day.year, self.first_day.month, self.first_day.day, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The exclusive end: midnight after ``last_day``."""
        last = self.last_day + timedelta(days=1)
        return datetime(last.year, last.month, last.day, tzinfo=UTC)

    def to_json(self) -> dict[str, Any]:
        """The spec as Google's example sends it (``endTime`` the last second of the last day)."""
        spec: dict[str, Any] = {"expression": {"terms": [{"value": self.term, "type": "BROAD"}]}}
        if self.geo:
            spec["geo"] = {"code": self.geo, "type": "GEO_TYPE_COUNTRY_OR_REGION"}
        spec["timeRange"] = {
            "startTime": rfc3339(self.start),
            "endTime": rfc3339(self.end - timedelta(seconds=1)),
        }
        spec[KINDS[self.method][3]] = self.resolution
        return spec

    def describe(self) -> str:
        where = self.geo or "worldwide"
        return (f"{self.method} of {self.term!r} in {where}, {self.first_day}..{self.last_day}, "
                f"{self.resolution}")


def _mismatch(spec: Spec, what: str) -> TrendsMismatch:
    return TrendsMismatch(f"asked the official Trends API for {spec.describe()}; {what}")


def _type_name(obj: dict[str, Any]) -> str | None:
    value = obj.get("@type")
    return str(value).rsplit(".", 1)[-1] if value is not None else None


def check_operation(spec: Spec, operation: Any, name: str | None = None) -> dict[str, Any]:
    """Check an operation (started or polled) against ``spec``; return it.

    ``name``: the operation started, which a poll must answer about.
    """
    if not isinstance(operation, dict):
        raise TrendsResponseError(f"{spec.method} answered {type(operation).__name__}, "
                                  "not an operation")
    got_name = operation.get("name")
    if not isinstance(got_name, str) or not got_name:
        raise TrendsResponseError(f"{spec.method} answered an operation without a name")
    if name is not None and got_name != name:
        raise _mismatch(spec, f"polling operation {name!r} answered operation {got_name!r}")
    metadata = operation.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("spec"), dict):
        raise TrendsResponseError(
            f"{spec.method}'s operation {got_name!r} has no metadata.spec to check against "
            "the request"
        )
    meta_type, _, _, resolution_field = KINDS[spec.method]
    if _type_name(metadata) not in (None, meta_type):
        raise _mismatch(spec, f"the operation is a {_type_name(metadata)}, not a {meta_type}")
    echo = metadata["spec"]
    terms = [(t.get("value"), t.get("type")) for t in
             (echo.get("expression") or {}).get("terms") or [] if isinstance(t, dict)]
    if terms != [(spec.term, "BROAD")]:
        raise _mismatch(spec, f"the answer is about the terms {terms!r}")
    geo = echo.get("geo") or {}
    if (geo.get("code") or None) != spec.geo or (
        spec.geo and geo.get("type") != "GEO_TYPE_COUNTRY_OR_REGION"
    ):
        raise _mismatch(spec, f"the answer is about the geography {geo!r}")
    window = echo.get("timeRange") or {}
    try:
        first = parse_time(window["startTime"]).date()
        last = parse_time(window["endTime"]).date()
    except (KeyError, TypeError, ValueError):
        raise _mismatch(spec, f"the answer's window {window!r} is unreadable") from None
    if (first, last) != (spec.first_day, spec.last_day):
        raise _mismatch(spec, f"the answer covers {first}..{last}")
    if echo.get(resolution_field) != spec.resolution:
        raise _mismatch(spec, f"the answer's {resolution_field} is {echo.get(resolution_field)!r}")
    return operation


def response_points(spec: Spec, operation: dict[str, Any]) -> list[dict[str, Any]]:
    """The done operation's points, after checking the response type and ``pointCount``."""
    _, response_type, field, _ = KINDS[spec.method]
    response = operation.get("response")
    if not isinstance(response, dict):
        raise TrendsResponseError(f"{spec.method}'s operation is done without a response")
    if _type_name(response) not in (None, response_type):
        raise _mismatch(spec, f"the response is a {_type_name(response)}, not a {response_type}")
    points = (response.get(field) or {}).get("points", [])
    if not isinstance(points, list):
        raise TrendsResponseError(f"{spec.method}'s response has no {field}.points list")
    count = operation["metadata"].get("pointCount")
    if count is not None and int(count) != len(points):
        raise _mismatch(spec, f"the operation announced {count} points and holds {len(points)}")
    return points


def _bucket_ok(resolution: str, start: datetime, end: datetime) -> bool:
    if resolution == "DAY":
        return end - start == timedelta(days=1)
    if resolution == "WEEK":
        return end - start == timedelta(days=7)
    midnight = start.time() == datetime.min.time() and end.time() == datetime.min.time()
    if resolution == "MONTH":
        following = (start.year + start.month // 12, start.month % 12 + 1)
        return midnight and start.day == 1 and (end.year, end.month, end.day) == (*following, 1)
    if resolution == "YEAR":
        return midnight and (start.month, start.day) == (1, 1) and end == start.replace(
            year=start.year + 1)
    return False


def _interest(spec: Spec, point: dict[str, Any]) -> tuple[float, int]:
    try:
        share = float(point.get("searchInterest", 0))
        scaled = int(point.get("scaledSearchInterest", 0))
    except (TypeError, ValueError) as exc:
        raise TrendsResponseError(f"{spec.method} point {point!r:.200} is unreadable: {exc}") from None
    if share < 0 or not 0 <= scaled <= 100:
        raise TrendsResponseError(f"{spec.method} point {point!r:.200} is out of range")
    return share, scaled


@dataclass(frozen=True)
class SeriesPoint:
    start: datetime
    end: datetime
    search_interest: float
    scaled: int
    is_partial: bool


def series_points(spec: Spec, points: list[dict[str, Any]]) -> list[SeriesPoint]:
    """Time-series points, each inside the window asked and of the resolution asked.

    A bucket may run past the window only when Google flags it
    ``extendsPastRequestedTimeRange`` (the example's last month does).
    """
    out: list[SeriesPoint] = []
    for point in points:
        try:
            start = parse_time(point["timeRange"]["startTime"])
            end = parse_time(point["timeRange"]["endTime"])
        except (KeyError, TypeError, ValueError) as exc:
            raise TrendsResponseError(
                f"{spec.method} point {point!r:.200} has no readable timeRange: {exc!r}"
            ) from None
        if not spec.start <= start < spec.end:
            raise _mismatch(spec, f"it answered a point at {start:%Y-%m-%d %H:%M} UTC")
        if end > spec.end and not point.get("extendsPastRequestedTimeRange"):
            raise _mismatch(spec, f"its point {start:%Y-%m-%d}..{end:%Y-%m-%d} runs past the "
                                  "window without extendsPastRequestedTimeRange")
        if not _bucket_ok(spec.resolution, start, end):
            raise _mismatch(spec, f"its point {start:%Y-%m-%d %H:%M}..{end:%Y-%m-%d %H:%M} is "
                                  f"not one {spec.resolution}")
        if out and start < out[-1].end:
            raise _mismatch(spec, f"its points overlap or repeat at {start:%Y-%m-%d}")
        share, scaled = _interest(spec, point)
        out.append(SeriesPoint(start, end, share, scaled, bool(point.get("isPartial", False))))
    return out


@dataclass(frozen=True)
class GeoPoint:
    code: str
    geo_type: str
    search_interest: float
    scaled: int


def geo_points(spec: Spec, points: list[dict[str, Any]]) -> list[GeoPoint]:
    """Geo points, each a ``subGeo`` of the resolution asked, inside the geography asked."""
    out: list[GeoPoint] = []
    seen: set[str] = set()
    for point in points:
        sub = point.get("subGeo") if isinstance(point, dict) else None
        if not isinstance(sub, dict) or not sub.get("code"):
            raise TrendsResponseError(f"{spec.method} point {point!r:.200} has no subGeo.code")
        code, geo_type = str(sub["code"]), str(sub.get("type", ""))
        if geo_type != spec.resolution:
            raise _mismatch(spec, f"it answered {code!r} of type {geo_type!r}")
        if spec.geo and spec.resolution != "GEO_TYPE_COUNTRY_OR_REGION" and not code.startswith(
            f"{spec.geo}-"
        ):
            raise _mismatch(spec, f"it answered the area {code!r}, outside {spec.geo}")
        if code in seen:
            raise _mismatch(spec, f"it answered the area {code!r} twice")
        seen.add(code)
        share, scaled = _interest(spec, point)
        out.append(GeoPoint(code, geo_type, share, scaled))
    return out
