"""Every Google Trends answer checked against the request it answers.

Google's web API says what it answered: ``explore`` echoes the keywords and
each widget's ``request`` carries the terms, geography, window and
resolution; the data answers carry one value per term per point, and region
codes. A mismatch (other keywords, another geography, a window or a
resolution other than the one asked, fewer values than terms) is a
:class:`TrendsMismatch` that says what was asked and what came back, raised
before anything is parsed into rows, so nothing lands.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from elex_assets.core.trends.errors import TrendsMismatch, TrendsResponseError

# Google's resolutions, finest first, with the length of one point.
STEPS = {
    "MINUTE": timedelta(minutes=1),
    "EIGHT_MINUTE": timedelta(minutes=8),
    "SIXTEEN_MINUTE": timedelta(minutes=16),
    "HOUR": timedelta(hours=1),
    "DAY": timedelta(days=1),
    "WEEK": timedelta(days=7),
    "MONTH": timedelta(days=31),
}
DAILY_UP_TO = timedelta(days=270)  # longer whole-day windows come weekly (recorded: 1 year)
WEEKLY_UP_TO = timedelta(days=5 * 366 + 7)


@dataclass(frozen=True)
class Window:
    """An absolute Trends window, ``[start, end)`` in UTC, as asked."""

    start: datetime
    end: datetime
    hourly: bool  # asked with hour bounds (``YYYY-MM-DDTHH``), i.e. sub-daily data

    @property
    def span(self) -> timedelta:
        return self.end - self.start

    def expected_resolutions(self) -> set[str]:
        """What Google serves for such a window (recordings and Google's help pages)."""
        if self.hourly:
            if self.span <= timedelta(hours=36):
                return {"MINUTE", "EIGHT_MINUTE", "SIXTEEN_MINUTE"}
            return {"HOUR"}
        if self.span <= DAILY_UP_TO:
            return {"DAY"}
        if self.span <= WEEKLY_UP_TO:
            return {"WEEK"}
        return {"MONTH"}


def parse_window(spec: str) -> Window | None:
    """``2021-01-01 2021-01-05`` (whole days, inclusive) or ``…THH …THH``; None if relative."""
    parts = spec.split(" ")
    if len(parts) != 2 or parts[0] in ("today", "now", "all"):
        return None
    try:
        if "T" in parts[0]:
            start, end = (datetime.strptime(p, "%Y-%m-%dT%H").replace(tzinfo=UTC) for p in parts)
            return Window(start, end, hourly=True)
        first, last = (date.fromisoformat(p) for p in parts)
    except ValueError:
        return None
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    end = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
    return Window(start, end, hourly=False)


def geo_of(geo: Any) -> str:
    """Google's geo object (``{}``, ``{"country": "FR"}``, ``{"region": "US-NY"}``) as a code."""
    if isinstance(geo, str):
        return geo
    if not isinstance(geo, dict):
        return repr(geo)
    return str(geo.get("region") or geo.get("country") or "")


def _where(geo: str) -> str:
    return f"geo {geo!r}" if geo else "worldwide"


def _norm(keywords: list[Any]) -> list[str]:
    """Case and spacing aside (Google may echo a term as it normalises it)."""
    return [" ".join(str(k).split()).casefold() for k in keywords]


def _keywords_of(items: list[dict[str, Any]]) -> list[str]:
    out = []
    for item in items:
        restriction = item.get("complexKeywordsRestriction") or {}
        out.append(",".join(str(k.get("value")) for k in restriction.get("keyword") or []))
    return out


def find_widget(answer: dict[str, Any], widget_id: str, what: str) -> dict[str, Any]:
    for widget in answer.get("widgets") or []:
        if widget.get("id") == widget_id and "token" in widget and "request" in widget:
            return widget
    ids = [w.get("id") for w in answer.get("widgets") or []]
    raise TrendsResponseError(
        f"Google Trends' explore answer for {what} has no {widget_id} widget (widgets: {ids})"
    )


def check_explore(answer: Any, keywords: list[str], geo: str, timeframe: str) -> None:
    """The explore answer is about these keywords, this geography and this window."""
    what = f"{keywords} {_where(geo)} {timeframe!r}"
    if not isinstance(answer, dict) or not isinstance(answer.get("widgets"), list):
        raise TrendsResponseError(f"Google Trends' explore answer for {what} has no widgets")
    echoed = [k.get("keyword") for k in answer.get("keywords") or [] if isinstance(k, dict)]
    if echoed and _norm(echoed) != _norm(keywords):
        raise TrendsMismatch(f"asked Google Trends for {keywords}, it answered for {echoed}")
    request = find_widget(answer, "TIMESERIES", what)["request"]
    items = request.get("comparisonItem") or []
    got = _keywords_of(items)
    if _norm(got) != _norm(keywords):
        raise TrendsMismatch(
            f"asked Google Trends for {keywords}, its time series is for {got}"
        )
    geos = sorted({geo_of(i.get("geo", {})) for i in items})
    if geos != [geo]:
        raise TrendsMismatch(
            f"asked Google Trends for {_where(geo)}, its time series is for "
            f"{', '.join(_where(g) for g in geos)}"
        )
    options = request.get("requestOptions") or {}
    if options.get("property", "") != "":
        raise TrendsMismatch(
            f"asked Google Trends for web search, its time series is for "
            f"{options.get('property')!r} search"
        )
    answered_time = request.get("time")
    if answered_time is None:  # a multi-range comparison carries one window per term
        answered_time = ", ".join(sorted({str(i.get("time")) for i in items}))
    check_window(timeframe, str(answered_time), str(request.get("resolution", "")))


def check_window(timeframe: str, answered_time: str, resolution: str) -> None:
    """Same window (when asked absolutely) and a resolution Google serves for it."""
    asked = parse_window(timeframe)
    if asked is None:  # relative ("today 5-y"): Google resolves it; only the resolution is known
        if resolution not in STEPS:
            raise TrendsMismatch(f"asked {timeframe!r}, Google answered resolution {resolution!r}")
        return
    answered = parse_window(answered_time)
    if answered is None or (answered.start, answered.end) != (asked.start, asked.end):
        raise TrendsMismatch(f"asked Google Trends for {timeframe!r}, it answered {answered_time!r}")
    expected = asked.expected_resolutions()
    if resolution not in expected:
        raise TrendsMismatch(
            f"asked Google Trends for {timeframe!r} ({'/'.join(sorted(expected))} expected), "
            f"it answered at resolution {resolution!r}"
        )


def check_timeline(
    points: list[dict[str, Any]], keywords: list[str], timeframe: str, resolution: str
) -> None:
    """One value per keyword in every point; every point inside the window asked."""
    for point in points:
        values = point.get("value")
        if not isinstance(values, list) or len(values) != len(keywords):
            count = len(values) if isinstance(values, list) else 0
            raise TrendsMismatch(
                f"asked Google Trends for {len(keywords)} terms {keywords}, its time series "
                f"point {point.get('time')!r} carries {count} values"
            )
    window = parse_window(timeframe)
    if window is None or not points:
        return
    step = STEPS.get(resolution, timedelta(0))
    stamps = [datetime.fromtimestamp(int(p["time"]), UTC) for p in points]
    # weekly points start on the Sunday before the window, as Google draws them
    if min(stamps) < window.start - step or max(stamps) >= window.end:
        raise TrendsMismatch(
            f"asked Google Trends for {timeframe!r}, its time series runs from "
            f"{min(stamps):%Y-%m-%d %H:%M} to {max(stamps):%Y-%m-%d %H:%M} UTC"
        )


def check_regions(rows: list[dict[str, Any]], geo: str, keyword_count: int) -> None:
    """Regions of the country asked (``FR-…`` for FR), countries when worldwide."""
    if geo:
        foreign = [r.get("geoCode") for r in rows if not str(r.get("geoCode", "")).startswith(f"{geo}-")]
        what = f"regions of {geo}"
    else:
        foreign = [r.get("geoCode") for r in rows if "-" in str(r.get("geoCode", ""))]
        what = "countries"
    if foreign:
        raise TrendsMismatch(
            f"asked Google Trends for {what}, its answer holds {len(foreign)} other areas "
            f"of {len(rows)} ({', '.join(map(str, foreign[:5]))}…)"
        )
    for row in rows:
        values = row.get("value")
        if not isinstance(values, list) or len(values) != keyword_count:
            raise TrendsMismatch(
                f"asked Google Trends for {keyword_count} terms, its region "
                f"{row.get('geoCode')!r} carries {values!r}"
            )


def check_related(widget: dict[str, Any], keyword: str, geo: str) -> None:
    restriction = widget.get("request", {}).get("restriction", {})
    got = _keywords_of([restriction])
    if _norm(got) != _norm([keyword]):
        raise TrendsMismatch(f"asked Google Trends for related searches of {keyword!r}, got {got}")
    answered_geo = geo_of(restriction.get("geo", {}))
    if answered_geo != geo:
        raise TrendsMismatch(
            f"asked Google Trends for related searches {_where(geo)}, got {_where(answered_geo)}"
        )
