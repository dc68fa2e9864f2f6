"""The official Google Trends API (alpha, July 2025): ``TRENDS_BACKEND=official``.

Access is by application and Google has published no reference yet; the shape
used here is the one early-access users' code shows (see docs/sources/google-trends.md,
"Official Trends API"), so it is kept in this one module:

* ``POST {base}/v1alpha:fetchTimeSeries`` with ``{"spec": {"expression":
  {"terms": [{"value", "type": "BROAD"}]}, "geo": {"type":
  "GEO_TYPE_COUNTRY_OR_REGION", "code"}, "timeRange": {"startTime", "endTime"},
  "timeResolution": "DAY"}}`` answers a long-running operation
  ``{"name": "operations/…", "done": false}``;
* ``GET {base}/v1alpha/{name}`` is polled until ``done``; then
  ``response.timeSeries.points[]`` carry ``timeRange``, ``searchInterest``
  (consistently scaled: comparable across terms and requests),
  ``scaledSearchInterest`` (0-100 within the request) and ``isPartial``;
* ``POST {base}/v1alpha:fetchGeoBreakdown`` (``breakdownResolution``) likewise
  gives ``response.geoBreakdown.points[]`` per sub-region.

OAuth 2.0 through ``google-auth``: a service-account JSON or an authorised-user
token file (``TRENDS_CREDENTIALS_FILE``), scope ``…/auth/searchtrends``.
Credentials are needed only for real hosts: against a loopback sandbox a fake
token is sent. Related topics and queries do not exist here (web backend only).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import polars as pl

from elex_assets.core.trends.client import Area, area
from elex_assets.core.trends.errors import (
    TrendsBlocked,
    TrendsConfigError,
    TrendsMismatch,
    TrendsResponseError,
    TrendsUnavailable,
)
from elex_assets.core.trends.state import TrendsGate

if TYPE_CHECKING:
    import requests


def _new_session() -> requests.Session:
    import requests  # loads with the first client, not with the definitions

    return requests.Session()


DEFAULT_OFFICIAL_URL = "https://searchtrends.googleapis.com"
SCOPE = "https://www.googleapis.com/auth/searchtrends"
API_VERSION = "v1alpha"
SANDBOX_TOKEN = "sandbox-token"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
REGION_BREAKDOWN = "GEO_TYPE_ADMINISTRATIVE_AREA1"
COUNTRY_BREAKDOWN = "GEO_TYPE_COUNTRY_OR_REGION"

SERIES_SCHEMA = pl.Schema(
    {
        "keyword": pl.String,
        "timestamp": pl.Datetime("us", "UTC"),
        "value": pl.Int64,
        "value_comparable": pl.Float64,
        "is_partial": pl.Boolean,
    }
)
REGIONS_SCHEMA = pl.Schema(
    {"keyword": pl.String, "geo_code": pl.String, "geo_name": pl.String, "value": pl.Int64}
)


def is_loopback(base_url: str) -> bool:
    return (urlsplit(base_url).hostname or "") in LOOPBACK_HOSTS


def load_token(credentials_file: str | None, base_url: str) -> Callable[[], str]:
    """A function giving a valid bearer token (refreshed by google-auth when it expires)."""
    if credentials_file is None:
        if is_loopback(base_url):
            return lambda: SANDBOX_TOKEN
        raise TrendsConfigError(
            "TRENDS_BACKEND=official needs TRENDS_CREDENTIALS_FILE (a service-account JSON or "
            "an authorised-user token file with the searchtrends scope)"
        )
    from google.auth.transport.requests import Request
    from google.oauth2 import credentials as user_credentials
    from google.oauth2 import service_account

    try:
        info = json.loads(Path(credentials_file).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TrendsConfigError(f"TRENDS_CREDENTIALS_FILE={credentials_file!r}: {exc}") from None
    kind = info.get("type") if isinstance(info, dict) else None
    if kind == "service_account":
        creds: Any = service_account.Credentials.from_service_account_info(info, scopes=[SCOPE])
    elif kind == "authorized_user":
        creds = user_credentials.Credentials.from_authorized_user_info(info, scopes=[SCOPE])
    else:
        raise TrendsConfigError(
            f"TRENDS_CREDENTIALS_FILE={credentials_file!r}: type {kind!r}, expected "
            "'service_account' or 'authorized_user'"
        )
    if is_loopback(base_url):  # sandbox: its own OAuth endpoint, never Google's
        creds = creds.with_token_uri(f"{base_url.rstrip('/')}/token")

    def token() -> str:
        if not creds.valid:
            try:
                creds.refresh(Request())
            except Exception as exc:  # google.auth.exceptions.RefreshError and transport errors
                raise TrendsConfigError(
                    f"Google refused the credentials of TRENDS_CREDENTIALS_FILE: {exc}"
                ) from None
        return str(creds.token)

    return token


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: Any) -> datetime:
    """A protobuf Timestamp in JSON: an RFC 3339 string (or ``{"seconds": n}``)."""
    if isinstance(value, dict):
        return datetime.fromtimestamp(int(value.get("seconds", 0)), UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)


@dataclass
class OfficialClient:
    """Time series and geo breakdowns of terms, from the official API."""

    area_code: str
    base_url: str = DEFAULT_OFFICIAL_URL
    token: Callable[[], str] = lambda: SANDBOX_TOKEN
    gate: TrendsGate | None = None
    min_interval: float = 1.0
    timeout: float = 30.0
    poll_interval: float = 1.0
    max_polls: int = 60
    sleep: Callable[[float], None] = time.sleep
    session: requests.Session = field(default_factory=_new_session)
    requests_made: int = 0

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self.area: Area = area(self.area_code)

    # -- HTTP -----------------------------------------------------------------
    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        if self.gate is not None:
            self.gate.check()
            self.gate.wait_turn(self.min_interval, self.sleep)
        self.requests_made += 1
        url = f"{self.base_url}/{API_VERSION}{path}"
        headers = {"Authorization": f"Bearer {self.token()}"}
        import requests

        try:
            response = self.session.request(
                method, url, json=body, headers=headers, timeout=self.timeout
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TrendsUnavailable(f"official Trends API {path}: {type(exc).__name__}") from exc
        status = response.status_code
        if status == 429:
            if self.gate is not None:
                cooldown = self.gate.refused(f"429 on {method} {path}")
                raise TrendsBlocked(
                    f"the official Trends API refused this client (429, quota); cool-down until "
                    f"{cooldown.until:%Y-%m-%d %H:%M} UTC"
                )
            raise TrendsBlocked(f"the official Trends API refused this client (429 on {path})")
        if status >= 500:
            raise TrendsUnavailable(f"the official Trends API answered {status} to {path}")
        if status in (401, 403):
            raise TrendsConfigError(
                f"the official Trends API answered {status} to {path}: check the credentials "
                "of TRENDS_CREDENTIALS_FILE and that the project has been granted access"
            )
        if status != 200:
            raise TrendsResponseError(
                f"the official Trends API answered {status} to {method} {path}: "
                f"{response.text[:200]}"
            )
        try:
            answer = response.json()
        except ValueError as exc:
            raise TrendsResponseError(f"the official Trends API sent invalid JSON: {exc}") from exc
        if self.gate is not None:
            self.gate.succeeded()
        return answer

    def _operation(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        """Start a long-running operation and poll it until ``done``; its ``response``."""
        operation = self._call("POST", f":{method}", body)
        for _ in range(self.max_polls):
            if operation.get("done"):
                if "error" in operation:
                    raise TrendsResponseError(
                        f"the official Trends API's {method} failed: {operation['error']}"
                    )
                response = operation.get("response")
                if not isinstance(response, dict):
                    raise TrendsResponseError(f"{method} finished without a response")
                return response
            name = operation.get("name")
            if not isinstance(name, str) or not name:
                raise TrendsResponseError(f"{method} answered an operation without a name")
            self.sleep(self.poll_interval)
            operation = self._call("GET", f"/{name}")
        raise TrendsUnavailable(f"{method} not done after {self.max_polls} polls")

    # -- requests ---------------------------------------------------------------
    def _spec(self, keyword: str, start: datetime, end: datetime) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "expression": {"terms": [{"value": keyword, "type": "BROAD"}]},
            "timeRange": {"startTime": _rfc3339(start), "endTime": _rfc3339(end)},
        }
        if self.area.geo:  # worldwide: no geo restriction
            spec["geo"] = {"type": COUNTRY_BREAKDOWN, "code": self.area.geo}
        return spec

    def time_series(self, keyword: str, day: date) -> pl.DataFrame:
        """The term's daily point for ``day``: consistently scaled, partial flagged."""
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        end = start + timedelta(days=1)
        spec = {**self._spec(keyword, start, end), "timeResolution": "DAY"}
        response = self._operation("fetchTimeSeries", {"spec": spec})
        points = (response.get("timeSeries") or {}).get("points")
        if not isinstance(points, list):
            raise TrendsResponseError("fetchTimeSeries' response has no timeSeries.points list")
        rows = []
        for point in points:
            try:
                stamp = _parse_time(point["timeRange"]["startTime"])
                interest = float(point.get("searchInterest", 0.0))
                scaled = int(point.get("scaledSearchInterest", 0))
            except (KeyError, TypeError, ValueError) as exc:
                raise TrendsResponseError(
                    f"fetchTimeSeries point {point!r:.200} is unreadable: {exc!r}"
                ) from exc
            if not start <= stamp < end:
                raise TrendsMismatch(
                    f"asked the official Trends API for {day}, it answered a point at "
                    f"{stamp:%Y-%m-%d %H:%M} UTC"
                )
            rows.append((keyword, stamp, scaled, interest, bool(point.get("isPartial", False))))
        return pl.DataFrame(rows, schema=SERIES_SCHEMA, orient="row")

    def geo_breakdown(self, keyword: str, day: date) -> pl.DataFrame:
        """Regions of France (area fr) or countries (world), for the term over ``day``."""
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        resolution = REGION_BREAKDOWN if self.area.geo else COUNTRY_BREAKDOWN
        spec = {
            **self._spec(keyword, start, start + timedelta(days=1)),
            "breakdownResolution": resolution,
        }
        response = self._operation("fetchGeoBreakdown", {"spec": spec})
        points = (response.get("geoBreakdown") or {}).get("points")
        if not isinstance(points, list):
            raise TrendsResponseError("fetchGeoBreakdown's response has no geoBreakdown.points")
        rows = []
        for point in points:
            geo = point.get("geo") or {}
            code = str(geo.get("code", ""))
            if self.area.geo and not code.startswith(f"{self.area.geo}-"):
                raise TrendsMismatch(
                    f"asked the official Trends API for regions of {self.area.geo}, "
                    f"it answered {code!r}"
                )
            rows.append(
                (keyword, code, str(geo.get("name") or code),
                 int(point.get("scaledSearchInterest", 0)))
            )
        return pl.DataFrame(rows, schema=REGIONS_SCHEMA, orient="row")
