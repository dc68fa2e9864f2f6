"""The sandbox Trends server speaks Google's wire format, over real HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import requests

from elex_assets.sandbox.trends_server import TrendsSandbox
from elex_assets_tests.clock import NOW

pytestmark = pytest.mark.usefixtures("fixed_now")  # "now" is clock.NOW: fixed data

DAY = (NOW - timedelta(days=2)).date()
WINDOW = f"{DAY}T00 {DAY + timedelta(days=1)}T00"


def _session(sandbox: TrendsSandbox, geo: str = "FR") -> requests.Session:
    session = requests.Session()
    answer = session.get(f"{sandbox.base_url}/trends/explore/", params={"geo": geo})
    assert answer.status_code == 404  # as Google answers it, with the NID cookie
    return session


def _explore(sandbox: TrendsSandbox, session: requests.Session, keywords: list[str], geo="FR"):
    req = {
        "comparisonItem": [{"keyword": k, "time": WINDOW, "geo": geo} for k in keywords],
        "category": 0,
        "property": "",
    }
    return session.post(
        f"{sandbox.base_url}/trends/api/explore",
        params={"hl": "fr-FR", "tz": 0, "req": json.dumps(req)},
    )


def _widgets(sandbox, session, keywords, geo="FR") -> dict[str, dict]:
    answer = _explore(sandbox, session, keywords, geo)
    assert answer.text.startswith(")]}'\n")
    return {w["id"]: w for w in json.loads(answer.text[4:])["widgets"]}


def _widgetdata(sandbox, session, endpoint: str, widget: dict) -> requests.Response:
    return session.get(
        f"{sandbox.base_url}/trends/api/widgetdata/{endpoint}",
        params={"req": json.dumps(widget["request"]), "token": widget["token"], "tz": 0},
    )


def test_cookie_call_sets_nid_and_api_needs_it(trends_sandbox: TrendsSandbox) -> None:
    answer = requests.get(f"{trends_sandbox.base_url}/trends/explore/", params={"geo": "FR"})
    assert answer.status_code == 404 and answer.headers["Content-Type"].startswith("text/html")
    assert "NID" in answer.cookies and "Error 404" in answer.text
    without_cookie = _explore(trends_sandbox, requests.Session(), ["Marine Le Pen"])
    assert without_cookie.status_code == 429


def test_explore_returns_google_widgets(trends_sandbox: TrendsSandbox) -> None:
    session = _session(trends_sandbox)
    answer = _explore(trends_sandbox, session, ["Marine Le Pen"])
    assert answer.headers["Content-Type"].startswith("application/json")
    single = _widgets(trends_sandbox, session, ["Marine Le Pen"])
    assert set(single) == {"TIMESERIES", "GEO_MAP", "RELATED_TOPICS", "RELATED_QUERIES"}
    several = _widgets(trends_sandbox, session, ["Marine Le Pen", "Jordan Bardella"])
    assert list(several) == [
        "TIMESERIES", "GEO_MAP", "TITLE_0", "GEO_MAP_0", "RELATED_QUERIES_0",
        "TITLE_1", "GEO_MAP_1", "RELATED_QUERIES_1",
    ]
    assert not any("RELATED_TOPICS" in w for w in several)
    assert several["GEO_MAP"]["type"] == "fe_multi_heat_map"
    assert single["GEO_MAP"]["type"] == "fe_geo_chart_explore"
    assert several["TITLE_1"] == {**several["TITLE_1"], "type": "fe_text", "text": {"text": "Jordan Bardella"}}
    request = single["TIMESERIES"]["request"]
    assert request["requestOptions"]["backend"] == "IZG"
    assert request["userConfig"] == {"userType": "USER_TYPE_SCRAPER"}
    echoed = json.loads(answer.text[4:])["keywords"]
    assert echoed == [{"keyword": "Marine Le Pen", "name": "Marine Le Pen", "type": "Search term"}]


def test_a_long_window_comes_weekly(trends_sandbox: TrendsSandbox) -> None:
    session = _session(trends_sandbox)
    req = {"comparisonItem": [{"keyword": "Marine Le Pen", "time": "2021-01-01 2021-12-31",
                               "geo": "FR"}], "category": 0, "property": ""}
    answer = session.post(f"{trends_sandbox.base_url}/trends/api/explore",
                          params={"hl": "fr-FR", "tz": 0, "req": json.dumps(req)})
    widget = json.loads(answer.text[4:])["widgets"][0]
    assert widget["request"]["resolution"] == "WEEK"
    timeline = json.loads(_widgetdata(trends_sandbox, session, "multiline", widget).text[5:])
    stamps = [datetime.fromtimestamp(int(p["time"]), UTC) for p in timeline["default"]["timelineData"]]
    assert len(stamps) == 52 and all(t.weekday() == 6 for t in stamps)  # Sundays, like Google


def test_compared_regions_are_percent_strings_and_blank_without_data(trends_sandbox) -> None:
    trends_sandbox.without_data("Zzyzx Candidat")
    session = _session(trends_sandbox)
    widget = _widgets(trends_sandbox, session, ["Marine Le Pen", "Zzyzx Candidat"])["GEO_MAP"]
    rows = json.loads(_widgetdata(trends_sandbox, session, "comparedgeo", widget).text[5:])
    first = rows["default"]["geoMapData"][0]
    assert first["formattedValue"] == ["100%", ""] and first["hasData"] == [True, False]


def test_block_mode_redirects_to_a_captcha_page_that_answers_429(trends_sandbox) -> None:
    session = _session(trends_sandbox)
    trends_sandbox.block()
    answer = _explore(trends_sandbox, session, ["Marine Le Pen"])
    assert answer.status_code == 429 and "unusual traffic" in answer.text
    assert answer.history[0].status_code == 302
    assert "/sorry/index?continue=" in answer.history[0].headers["Location"]
    trends_sandbox.block(False)
    assert _explore(trends_sandbox, session, ["Marine Le Pen"]).status_code == 200


def test_multiline_is_scaled_per_request(trends_sandbox: TrendsSandbox) -> None:
    session = _session(trends_sandbox)
    widget = _widgets(trends_sandbox, session, ["Marine Le Pen", "Jordan Bardella"])["TIMESERIES"]
    answer = _widgetdata(trends_sandbox, session, "multiline", widget)
    assert answer.text.startswith(")]}',\n")
    timeline = json.loads(answer.text[5:])["default"]["timelineData"]
    assert len(timeline) == 180  # 8-minute points over a recent day
    values = [v for point in timeline for v in point["value"]]
    assert max(values) == 100 and min(values) >= 0
    assert len(timeline[0]["value"]) == 2


@pytest.mark.parametrize(("geo", "first_code"), [("FR", "FR-"), ("", "")])
def test_comparedgeo_regions_or_countries(trends_sandbox, geo, first_code) -> None:
    session = _session(trends_sandbox, geo or "US")
    widget = _widgets(trends_sandbox, session, ["Marine Le Pen"], geo)["GEO_MAP"]
    data = json.loads(_widgetdata(trends_sandbox, session, "comparedgeo", widget).text[5:])
    codes = {row["geoCode"] for row in data["default"]["geoMapData"]}
    if geo == "FR":
        assert "FR-IDF" in codes and all(c.startswith("FR-") for c in codes)
    else:
        assert {"FR", "BE", "US"} <= codes and all(len(c) == 2 for c in codes)
    assert max(row["value"][0] for row in data["default"]["geoMapData"]) == 100


def test_related_lists_have_breakout_and_percentages(trends_sandbox: TrendsSandbox) -> None:
    session = _session(trends_sandbox)
    widgets = _widgets(trends_sandbox, session, ["Marine Le Pen"])
    for wid in ("RELATED_TOPICS", "RELATED_QUERIES"):
        answer = _widgetdata(trends_sandbox, session, "relatedsearches", widgets[wid])
        top, rising = json.loads(answer.text[5:])["default"]["rankedList"]
        assert top["rankedKeyword"][0]["value"] == 100
        shown = [item["formattedValue"] for item in rising["rankedKeyword"]]
        assert shown[:2] == ["Breakout", "+350%"]


def test_unknown_token_is_refused(trends_sandbox: TrendsSandbox) -> None:
    session = _session(trends_sandbox)
    widget = dict(_widgets(trends_sandbox, session, ["Marine Le Pen"])["TIMESERIES"], token="x")
    assert _widgetdata(trends_sandbox, session, "multiline", widget).status_code == 401


def test_faults_are_injected_then_cleared(trends_sandbox: TrendsSandbox) -> None:
    session = _session(trends_sandbox)
    trends_sandbox.inject("429", times=2, path="/api/explore")
    assert _explore(trends_sandbox, session, ["Marine Le Pen"]).status_code == 429
    assert _explore(trends_sandbox, session, ["Marine Le Pen"]).status_code == 429
    assert _explore(trends_sandbox, session, ["Marine Le Pen"]).status_code == 200
    trends_sandbox.inject("503")
    assert _explore(trends_sandbox, session, ["Marine Le Pen"]).status_code == 503
    trends_sandbox.inject("no_content_type")
    answer = _explore(trends_sandbox, session, ["Marine Le Pen"])
    assert answer.status_code == 200 and "Content-Type" not in answer.headers
    widgets = _widgets(trends_sandbox, session, ["Marine Le Pen"])
    trends_sandbox.inject("empty_ranked_list", path="relatedsearches")
    answer = _widgetdata(trends_sandbox, session, "relatedsearches", widgets["RELATED_QUERIES"])
    assert json.loads(answer.text[5:]) == {"default": {"rankedList": []}}
    with pytest.raises(ValueError, match="unknown fault"):
        trends_sandbox.inject("teapot")


def test_slow_answers_and_overlap_are_recorded(trends_sandbox: TrendsSandbox) -> None:
    import threading

    trends_sandbox.inject("slow", times=2, delay=0.3)
    url = f"{trends_sandbox.base_url}/trends/explore/"
    threads = [threading.Thread(target=requests.get, args=(url,)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert trends_sandbox.max_in_flight == 2
    assert all(r.ended - r.started >= 0.3 for r in trends_sandbox.requests)
