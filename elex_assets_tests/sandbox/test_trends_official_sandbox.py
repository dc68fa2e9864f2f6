"""The sandbox's official Trends API answers have the structure of Google's examples.

Each answer is reduced to its shape (every key path with its JSON type, list items
merged); the sandbox's answer to the same kind of request must have exactly the
example's shape. The flow too: the operation's name and poll path, the echo.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests

from elex_assets.sandbox.trends_server import TrendsSandbox
from elex_assets_tests.sandbox.test_trends_structure import shape
from elex_assets_tests.trends_official_replay import example

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
AUTH = {"Authorization": "Bearer sandbox-token"}
SPECS = {
    "fetchTimeSeries": {
        "expression": {"terms": [{"value": "Marine Le Pen", "type": "BROAD"}]},
        "geo": {"code": "FR", "type": "GEO_TYPE_COUNTRY_OR_REGION"},
        "timeRange": {"startTime": "2026-10-01T00:00:00Z", "endTime": "2026-11-16T23:59:59Z"},
        "timeResolution": "MONTH",
    },
    "fetchGeoBreakdown": {
        "expression": {"terms": [{"value": "Marine Le Pen", "type": "BROAD"}]},
        "geo": {"code": "FR", "type": "GEO_TYPE_COUNTRY_OR_REGION"},
        "timeRange": {"startTime": "2026-10-01T00:00:00Z", "endTime": "2026-11-16T23:59:59Z"},
        "breakdownResolution": "GEO_TYPE_ADMINISTRATIVE_AREA1",
    },
}


@pytest.fixture
def sandbox(trends_sandbox: TrendsSandbox) -> TrendsSandbox:
    trends_sandbox.official.clock = lambda: NOW
    return trends_sandbox


def flow(sandbox: TrendsSandbox, method: str) -> tuple[dict, dict, dict]:
    """The start, the first poll (not done) and the second poll (done)."""
    start = requests.post(f"{sandbox.base_url}/v1alpha:{method}", json={"spec": SPECS[method]},
                          headers=AUTH, timeout=10)
    assert start.status_code == 200
    name = start.json()["name"]
    polls = [requests.get(f"{sandbox.base_url}/v1alpha/operations/{name}", headers=AUTH,
                          timeout=10) for _ in range(2)]
    assert [p.status_code for p in polls] == [200, 200]
    return start.json(), polls[0].json(), polls[1].json()


@pytest.mark.parametrize("method", ["fetchTimeSeries", "fetchGeoBreakdown"])
def test_answers_have_the_shape_of_googles_examples(sandbox, method) -> None:
    start, pending, done = flow(sandbox, method)
    assert shape(start) == shape(example(method, "start"))
    assert shape(done) == shape(example(method, "operations_get"))
    assert "done" not in pending and "response" not in pending  # still running
    assert start["name"].startswith("v1alpha.") and len(start["name"]) == len(
        example(method, "start")["name"])
    assert start["metadata"]["spec"] == SPECS[method]  # the spec echoed as sent
    # the done echo, like Google's: endTime cut to its day
    assert done["metadata"]["spec"]["timeRange"]["endTime"] == "2026-11-16T00:00:00Z"
    assert done["metadata"]["pointCount"] == len(
        next(v for k, v in done["response"].items() if not k.startswith("@"))["points"])


def test_monthly_buckets_like_the_example(sandbox) -> None:
    """October and November; November runs past the window and is flagged so."""
    _, _, done = flow(sandbox, "fetchTimeSeries")
    points = done["response"]["timeSeries"]["points"]
    assert [p["timeRange"]["startTime"][:10] for p in points] == ["2026-10-01", "2026-11-01"]
    assert [p["extendsPastRequestedTimeRange"] for p in points] == [False, True]
    shares = [p["searchInterest"] for p in points]
    assert all(len(str(int(s)).rstrip("0")) <= 2 for s in shares)  # 2 significant digits


def test_the_bare_operation_name_is_not_a_path(sandbox) -> None:
    """``GET /v1alpha/<name>`` (what elex polled before) is a 404, as on Google's host."""
    start, _, _ = flow(sandbox, "fetchTimeSeries")
    old = requests.get(f"{sandbox.base_url}/v1alpha/{start['name']}", headers=AUTH, timeout=10)
    assert old.status_code == 404
    assert old.json()["error"]["status"] == "NOT_FOUND"


def test_a_quota_refusal_is_googles_resource_exhausted_error(sandbox) -> None:
    sandbox.inject("429", path=":fetchTimeSeries")
    answer = requests.post(f"{sandbox.base_url}/v1alpha:fetchTimeSeries",
                           json={"spec": SPECS["fetchTimeSeries"]}, headers=AUTH, timeout=10)
    assert answer.status_code == 429
    assert answer.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
