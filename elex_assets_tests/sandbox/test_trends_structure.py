"""The sandbox answers with the structure Google was recorded answering.

Each answer is reduced to its *shape*: every path of keys (list items merged)
with the JSON type found there. The sandbox's answer to the same kind of
request must have exactly the recorded shape: same keys, same types, same
widget ids and types, same ``request`` fields. Values differ (other terms,
other dates), structure must not.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from elex_assets.sandbox.trends_server import TrendsSandbox
from elex_assets_tests.clock import NOW
from elex_assets_tests.trends_replay import RECORDINGS

pytestmark = pytest.mark.usefixtures("fixed_now")  # "now" is clock.NOW: fixed data

# a window with Google's daily resolution, like the recorded 2021-01-01 2021-01-05
WINDOW = "2021-01-01 2021-01-05"


def shape(value: Any, path: str = "") -> set[str]:
    """``path:type`` for every leaf and container; list items merged under ``[]``."""
    if isinstance(value, dict):
        out = {f"{path}:object"}
        for key, item in value.items():
            out |= shape(item, f"{path}.{key}")
        return out
    if isinstance(value, list):
        out = {f"{path}:array"}
        for item in value:
            out |= shape(item, f"{path}[]")
        return out
    kind = {bool: "bool", int: "number", float: "number", str: "string"}.get(type(value), "null")
    return {f"{path}:{kind}"}


def recorded(name: str) -> tuple[str, Any]:
    body = json.loads((RECORDINGS / name).read_text())["body"]
    prefix, _, text = body.partition("\n")
    return prefix, json.loads(text)


def widgets_by_id(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {w["id"]: w for w in answer["widgets"]}


class Browser:
    """Talks to the sandbox as pytrends does, returning the raw prefix and JSON."""

    def __init__(self, sandbox: TrendsSandbox) -> None:
        self.base = sandbox.base_url
        self.session = requests.Session()
        self.cookie = self.session.get(f"{self.base}/trends/explore/", params={"geo": "US"})

    def explore(self, keywords: list[str]) -> tuple[str, Any]:
        req = {"comparisonItem": [{"keyword": k, "time": WINDOW, "geo": ""} for k in keywords],
               "category": 0, "property": ""}
        text = self.session.post(f"{self.base}/trends/api/explore",
                                 params={"hl": "en-US", "tz": 0, "req": json.dumps(req)}).text
        prefix, _, body = text.partition("\n")
        return prefix, json.loads(body)

    def data(self, endpoint: str, widget: dict[str, Any]) -> tuple[str, Any]:
        text = self.session.get(
            f"{self.base}/trends/api/widgetdata/{endpoint}",
            params={"req": json.dumps(widget["request"]), "token": widget["token"], "tz": 0},
        ).text
        prefix, _, body = text.partition("\n")
        return prefix, json.loads(body)


@pytest.fixture
def browser(trends_sandbox: TrendsSandbox) -> Browser:
    return Browser(trends_sandbox)


def test_cookie_call_is_a_404_page_with_nid(browser: Browser) -> None:
    recorded_call = json.loads((RECORDINGS / "test_interest_over_time_ok/0.json").read_text())
    assert browser.cookie.status_code == recorded_call["status"] == 404
    assert browser.cookie.headers["Content-Type"] == recorded_call["content_type"]
    assert "NID" in browser.cookie.cookies


@pytest.mark.parametrize(
    ("recording", "keywords"),
    [
        ("test_related_topics_result_keys/1.json", ["Marine Le Pen"]),
        ("test_interest_over_time_ok/1.json", ["Marine Le Pen", "Jordan Bardella"]),
    ],
)
def test_explore_has_the_recorded_structure(browser: Browser, recording, keywords) -> None:
    real_prefix, real = recorded(recording)
    prefix, ours = browser.explore(keywords)
    assert prefix == real_prefix == ")]}'"
    assert set(ours) == set(real)
    assert shape({k: v for k, v in ours.items() if k != "widgets"}) == shape(
        {k: v for k, v in real.items() if k != "widgets"}
    )
    real_widgets, our_widgets = widgets_by_id(real), widgets_by_id(ours)
    assert list(our_widgets) == list(real_widgets)  # same ids, same order (TITLE_n included)
    for wid, widget in real_widgets.items():
        mine = our_widgets[wid]
        assert mine["type"] == widget["type"], wid
        assert shape(mine) == shape(widget), wid


@pytest.mark.parametrize(
    ("recording", "endpoint", "widget_id", "keywords"),
    [
        ("test_interest_over_time_ok/2.json", "multiline", "TIMESERIES", ["A b", "C d"]),
        ("test_interest_by_region_ok/2.json", "comparedgeo", "GEO_MAP", ["A b", "C d"]),
        ("test_related_queries_result_keys/2.json", "relatedsearches", "RELATED_QUERIES_0",
         ["A b", "C d"]),
        ("test_related_topics_result_keys/2.json", "relatedsearches", "RELATED_TOPICS", ["A b"]),
    ],
)
def test_widget_data_has_the_recorded_structure(
    browser: Browser, recording, endpoint, widget_id, keywords
) -> None:
    real_prefix, real = recorded(recording)
    _, explore = browser.explore(keywords)
    prefix, ours = browser.data(endpoint, widgets_by_id(explore)[widget_id])
    assert prefix == real_prefix == ")]}',"
    assert shape(ours) == shape(real)


def test_a_partial_point_is_flagged_as_recorded(trends_sandbox: TrendsSandbox) -> None:
    """Google marks the last, incomplete point ``isPartial: true`` (and no other)."""
    from datetime import timedelta

    _, real = recorded("test_interest_over_time_partial/2.json")
    today = NOW.date()
    browser = Browser(trends_sandbox)
    req = {"comparisonItem": [{"keyword": "A b", "time": f"{today - timedelta(days=3)} {today}",
                               "geo": ""}], "category": 0, "property": ""}
    text = browser.session.post(f"{browser.base}/trends/api/explore",
                                params={"hl": "en-US", "tz": 0, "req": json.dumps(req)}).text
    widget = json.loads(text.partition("\n")[2])["widgets"][0]
    _, ours = browser.data("multiline", widget)
    flags = [("isPartial" in p) for p in ours["default"]["timelineData"]]
    real_flags = [("isPartial" in p) for p in real["default"]["timelineData"]]
    assert flags[-1] and not any(flags[:-1])
    assert real_flags[-1] and not any(real_flags[:-1])
    assert shape(ours["default"]["timelineData"][-1]) == shape(real["default"]["timelineData"][-1])
