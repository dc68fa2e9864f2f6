"""The official Google Trends API (alpha, July 2025): ``TRENDS_BACKEND=official``.

Access is by invitation; the flow is the one Google documents ("Send requests
to the Google Trends API", whose four example answers are in
``elex_assets_tests/recordings/trends_official``):

* ``POST {base}/v1alpha:fetchTimeSeries`` (or ``:fetchGeoBreakdown``) with
  ``{"spec": …}`` answers a long-running operation ``{"name": "v1alpha.<uuid>",
  "metadata": {"spec": <the spec echoed>, "pointCount": n}}``;
* ``GET {base}/v1alpha/operations/<name>`` (``operations.get``; Google's sample
  polls ``"operations/" + response["name"]``) until ``done``; then
  ``response.timeSeries.points[]`` carry ``timeRange``, ``searchInterest`` (a
  share of searches, on one scale across requests, 2 significant digits, 0
  below a privacy threshold), ``scaledSearchInterest`` (0-100 within the
  request), ``isPartial``; ``response.geoBreakdown.points[]`` name their area
  ``subGeo {code, type}`` (no display name).

Every answer is checked against its request (:mod:`.official_answer`) before
anything lands. A 429 or ``RESOURCE_EXHAUSTED`` starts the official API's
cool-down (never retried); every fetch is charged to the daily request budget
in the lake (:mod:`.official_budget`) before it is sent.

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
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import polars as pl

from elex_assets.core.trends.client import Area, area
from elex_assets.core.trends.errors import (
    TrendsBlocked,
    TrendsConfigError,
    TrendsResponseError,
    TrendsUnavailable,
)
from elex_assets.core.trends.official_answer import (
    GeoPoint,
    SeriesPoint,
    Spec,
    check_operation,
    geo_points,
    response_points,
    series_points,
)
from elex_assets.core.trends.official_budget import RequestBudget
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

RESOURCE_EXHAUSTED_CODE = 8  # google.rpc.Code, in an operation's error
SERIES_SCHEMA = pl.Schema(
    {
        "keyword": pl.String,
        "timestamp": pl.Datetime("us", "UTC"),
        "value": pl.Int64,  # scaledSearchInterest: 0-100 within the request
        "search_interest_share": pl.Float64,  # searchInterest: one scale across requests
        "is_partial": pl.Boolean,
    }
)
REGIONS_SCHEMA = pl.Schema(
    {"keyword": pl.String, "geo_code": pl.String, "geo_name": pl.String, "value": pl.Int64,
     "search_interest_share": pl.Float64}
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


@dataclass
class OfficialClient:
    """Time series and geo breakdowns of terms, from the official API, checked and budgeted."""

    area_code: str
    base_url: str = DEFAULT_OFFICIAL_URL
    token: Callable[[], str] = lambda: SANDBOX_TOKEN
    gate: TrendsGate | None = None
    budget: RequestBudget | None = None
    min_interval: float = 1.0
    timeout: float = 30.0
    poll_interval: float = 1.0
    max_polls: int = 60
    sleep: Callable[[float], None] = time.sleep
    session: requests.Session = field(default_factory=_new_session)
    requests_made: int = 0  # fetches sent (what the budget counts)
    polls_made: int = 0
    # What the cool-down was when the last request left (``TrendsGate.check``).
    _seen: str | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self.area: Area = area(self.area_code)

    # -- HTTP -----------------------------------------------------------------
    def _refused(self, what: str) -> TrendsBlocked:
        if self.gate is None:
            return TrendsBlocked(f"the official Trends API refused this client ({what})")
        cooldown = self.gate.refused(what, self._seen)
        return TrendsBlocked(
            f"the official Trends API refused this client ({what}); cool-down until "
            f"{cooldown.until:%Y-%m-%d %H:%M} UTC, nothing retried"
        )

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        if self.gate is not None:
            self.gate.check()  # a running cool-down: no wait, nothing sent
        if method == "POST":
            if self.budget is not None:
                self.budget.charge_fetch(f"{method} {path}")
            self.requests_made += 1
        else:
            if self.budget is not None:
                self.budget.count("polls")
            self.polls_made += 1
        if self.gate is not None:
            self.gate.wait_turn(self.min_interval, self.sleep)
            # After the wait, right before sending: a refusal another process met while
            # this one waited stops this request too.
            self._seen = self.gate.check()
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
        try:
            answer = response.json()
        except ValueError:
            answer = None
        error = answer.get("error") if isinstance(answer, dict) else None
        error_status = error.get("status") if isinstance(error, dict) else None
        if status == 429 or (status != 200 and error_status == "RESOURCE_EXHAUSTED"):
            said = " ".join(str(x) for x in (status, error_status) if x)
            raise self._refused(f"{said} on {method} {path}")
        if status >= 500:
            raise TrendsUnavailable(f"the official Trends API answered {status} to {path}")
        if status in (401, 403):
            raise TrendsConfigError(
                f"the official Trends API answered {status} to {path}: check the credentials "
                "of TRENDS_CREDENTIALS_FILE and that the project has been granted access"
            )
        if status != 200:
            raise TrendsResponseError(
                f"the official Trends API answered {status} to {method} /{API_VERSION}{path}: "
                f"{response.text[:200]}"
            )
        if not isinstance(answer, dict):
            raise TrendsResponseError(
                f"the official Trends API sent no JSON object to {method} {path}"
            )
        return answer

    def run(self, spec: Spec) -> dict[str, Any]:
        """Start ``spec``'s operation, poll ``operations/<name>`` until done; the checked operation."""
        operation = check_operation(spec, self._call("POST", f":{spec.method}",
                                                     {"spec": spec.to_json()}))
        name = operation["name"]
        for poll in range(self.max_polls + 1):
            if operation.get("done"):
                error = operation.get("error")
                if isinstance(error, dict):
                    if error.get("code") == RESOURCE_EXHAUSTED_CODE or error.get(
                            "status") == "RESOURCE_EXHAUSTED":
                        raise self._refused(f"RESOURCE_EXHAUSTED in operation {name}")
                    raise TrendsResponseError(
                        f"the official Trends API's {spec.method} failed: {error}"
                    )
                if self.gate is not None:
                    self.gate.succeeded(self._seen)
                return operation
            if poll == self.max_polls:
                break
            self.sleep(self.poll_interval)
            operation = check_operation(spec, self._call("GET", f"/operations/{name}"), name)
        raise TrendsUnavailable(f"{spec.method} not done after {self.max_polls} polls")

    def _points(self, spec: Spec) -> list[dict[str, Any]]:
        points = response_points(spec, self.run(spec))
        if self.budget is not None:
            self.budget.count("points", len(points))
        return points

    # -- requests ---------------------------------------------------------------
    def _geo(self) -> str | None:
        return self.area.geo or None

    def series(self, term: str, first_day: date, last_day: date,
               resolution: str = "DAY", geo: str | None = None) -> list[SeriesPoint]:
        """The checked points of one term's time series (``geo`` defaults to the area's)."""
        spec = Spec("fetchTimeSeries", term, geo if geo is not None else self._geo(),
                    first_day, last_day, resolution)
        return series_points(spec, self._points(spec))

    def breakdown(self, term: str, first_day: date, last_day: date,
                  resolution: str | None = None, geo: str | None = None) -> list[GeoPoint]:
        """The checked points of one term's geo breakdown (regions of a country, or countries)."""
        geo = geo if geo is not None else self._geo()
        if resolution is None:
            resolution = REGION_BREAKDOWN if geo else COUNTRY_BREAKDOWN
        spec = Spec("fetchGeoBreakdown", term, geo, first_day, last_day, resolution)
        return geo_points(spec, self._points(spec))

    def time_series(self, keyword: str, first_day: date, last_day: date | None = None,
                    resolution: str = "DAY") -> pl.DataFrame:
        """The term's points over ``first_day..last_day`` (UTC days, inclusive)."""
        points = self.series(keyword, first_day, last_day or first_day, resolution)
        rows = [(keyword, p.start, p.scaled, p.search_interest, p.is_partial) for p in points]
        return pl.DataFrame(rows, schema=SERIES_SCHEMA, orient="row")

    def geo_breakdown(self, keyword: str, day: date) -> pl.DataFrame:
        """Regions of France (area fr) or countries (world), for the term over ``day``.

        ``geo_name`` stays null: the API names areas by code only.
        """
        points = self.breakdown(keyword, day, day)
        rows = [(keyword, p.code, None, p.scaled, p.search_interest) for p in points]
        return pl.DataFrame(rows, schema=REGIONS_SCHEMA, orient="row")
