"""Contract tests: the pageviews sandbox answers in the shapes the real service recorded.

One test per recorded shape (``elex_assets_tests/recordings/wikimedia``): a daily 200,
a 404 problem+json, zero days omitted and present in one series, the titles' encodings,
the plain-text 429, the monthly 400; plus the 403 the recorder's notes describe.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from elex_assets.sandbox.wiki_server import WikiSandbox
from elex_assets_tests.wiki_replay import recorded

UA = "elex/test (ops@example.org) python-requests/2.32"
NOW = datetime(2025, 11, 4, 21, tzinfo=UTC)


@pytest.fixture
def sandbox() -> Iterator[WikiSandbox]:
    articles = {"en.wikipedia": {"Facebook": 50_000, "HIV/AIDS": 2_000, "André_the_Giant": 3_000,
                                 '"Weird_Al"_Yankovic': 4_000, "Toveri": 20},
                "wikidata": {"Q3435184": 5}}
    with WikiSandbox(articles, clock=lambda: NOW) as server:
        yield server


def get(sandbox: WikiSandbox, path: str, agent: str = UA) -> tuple[int, dict, bytes]:
    req = urllib.request.Request(sandbox.base_url + path, headers={"User-Agent": agent})
    try:
        with urllib.request.urlopen(req) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def _path(ex: dict) -> str:
    return ex["url"].removeprefix("https://wikimedia.org/api/rest_v1")


def _header(ex: dict, name: str) -> str:
    return ex["headers"][name][0]


@pytest.mark.parametrize("name", [
    "wed__2025-11-04__000_en_wikipedia_Facebook_200",
    "wed__2025-11-04__001_en_wikipedia_HIV_AIDS_200",
    "wed__2025-11-04__003_en_wikipedia_Weird_Al_Yankovic_200",
    "wed__2025-11-04__004_en_wikipedia_Andr_the_Giant_200",
])
def test_a_daily_answer_has_the_recorded_shape(sandbox: WikiSandbox, name: str) -> None:
    ex = recorded(name)
    status, headers, body = get(sandbox, _path(ex))
    real, ours = json.loads(ex["body"]), json.loads(body)
    assert status == ex["status"] == 200
    assert headers["content-type"] == _header(ex, "Content-Type")
    assert headers["cache-control"] == _header(ex, "Cache-Control")
    assert headers["etag"] == _header(ex, "Etag")
    assert list(ours) == list(real) == ["items"]
    assert [list(i) for i in ours["items"]] == [list(i) for i in real["items"]]  # keys, in order
    for key in ("project", "article", "granularity", "timestamp", "access", "agent"):
        assert [i[key] for i in ours["items"]] == [i[key] for i in real["items"]], key
    assert all(isinstance(i["views"], int) for i in ours["items"])


@pytest.mark.parametrize("name", [
    "wed__2025-11-04__006_en_wikipedia_THIS_IS_NOT_A_REAL_ARTICLE_404",
    "wed__2025-02-03_course__225_en_wikibooks_Eve_s_Pudding_Hartshorne_404",
])
def test_no_data_is_the_recorded_problem_json(sandbox: WikiSandbox, name: str) -> None:
    ex = recorded(name)
    status, headers, body = get(sandbox, _path(ex))
    real, ours = json.loads(ex["body"]), json.loads(body)
    assert status == 404 and headers["content-type"] == "application/problem+json"
    assert headers["cache-control"] == _header(ex, "Cache-Control") == "s-maxage=600"
    assert list(ours) == list(real)
    for key in ("method", "status", "title", "type"):
        assert ours[key] == real[key]
    assert ours["detail"].rstrip(".") == real["detail"].rstrip(".")
    assert ours["uri"].startswith("/metrics/pageviews/per-article/")


def test_a_day_not_loaded_yet_and_a_day_before_2015_07_are_no_data(sandbox: WikiSandbox) -> None:
    today = NOW.date()
    status, _, _ = get(sandbox, f"/metrics/pageviews/per-article/en.wikipedia/all-access/user/"
                                f"Facebook/daily/{today:%Y%m%d}00/{today:%Y%m%d}00")
    assert status == 404
    assert get(sandbox, "/metrics/pageviews/per-article/en.wikipedia/all-access/user/Facebook/"
                        "daily/2015060100/2015063000")[0] == 404
    status, _, body = get(sandbox, "/metrics/pageviews/per-article/en.wikipedia/all-access/user/"
                                   "Facebook/daily/2015062900/2015070200")
    assert status == 200 and [i["timestamp"] for i in json.loads(body)["items"]] == [
        "2015070100", "2015070200"]


def test_zero_days_are_omitted_and_present_in_one_series_as_recorded(
        sandbox: WikiSandbox) -> None:
    ex = recorded("wed__2025-02-03_course__092_wikidata_Q3435184_200")
    real = json.loads(ex["body"])["items"]
    asked = (date(2023, 10, 17) - date(2023, 8, 29)).days + 1
    assert len(real) < asked and any(i["views"] == 0 for i in real)  # the recording: both
    _, _, body = get(sandbox, _path(ex))
    ours = json.loads(body)["items"]
    assert len(ours) < asked and any(i["views"] == 0 for i in ours)


def test_429_is_plain_text_with_retry_after(sandbox: WikiSandbox) -> None:
    ex = recorded("eval__2026-10-08__429_rate_limited_text")
    sandbox.faults.add("429", reset_in=5)
    status, headers, body = get(sandbox, "/metrics/pageviews/per-article/en.wikipedia/"
                                         "all-access/user/Facebook/daily/2025081500/2025081900")
    assert status == 429 and headers["content-type"].startswith("text/plain")
    assert headers["retry-after"] == "5"
    assert body.decode().splitlines()[:2] == ex["body"].splitlines()[:2]
    assert body.decode().splitlines()[-1].startswith("request-id: ")


def test_a_monthly_window_without_a_whole_month_is_the_recorded_400(sandbox: WikiSandbox) -> None:
    ex = recorded("eval__2026-10-08__400_no_full_months")
    sandbox.clock = lambda: datetime(2026, 10, 8, tzinfo=UTC)
    sandbox.articles["en.wikipedia"]["ChatGPT"] = 100_000
    status, headers, body = get(sandbox, _path(ex))
    real, ours = json.loads(ex["body"]), json.loads(body)
    assert status == 400 and headers["content-type"] == "application/problem+json"
    assert {k: ours[k] for k in ("detail", "method", "status", "title", "type")} == {
        k: real[k] for k in ("detail", "method", "status", "title", "type")}


def test_an_anonymous_or_generic_user_agent_is_refused_in_plain_text(
        sandbox: WikiSandbox) -> None:
    for agent in ("", "python-requests/2.32.3"):
        status, headers, body = get(sandbox, "/metrics/pageviews/per-article/en.wikipedia/"
                                             "all-access/user/Facebook/daily/2025081500/"
                                             "2025081900", agent=agent)
        assert status == 403 and headers["content-type"].startswith("text/plain")
        assert b"user-agent" in body


def test_the_same_request_gets_the_same_views(sandbox: WikiSandbox) -> None:
    path = ("/metrics/pageviews/per-article/en.wikipedia/all-access/user/Facebook/daily/"
            f"{(NOW - timedelta(days=9)):%Y%m%d}00/{(NOW - timedelta(days=2)):%Y%m%d}00")
    assert get(sandbox, path)[2] == get(sandbox, path)[2]


def test_the_demo_articles_have_views_every_day() -> None:
    """Zero days are for tiny articles (the recorded quirk); the candidates' articles always
    have views, so the demo's articles_answered warning stays quiet."""
    from elex_assets.core.registry import load_registry

    sandbox = WikiSandbox.for_candidates(load_registry("2027").candidates)
    days = [date(2026, 11, 1) + timedelta(days=i) for i in range(60)]
    for project, titles in sandbox.articles.items():
        for title in titles:
            assert all((sandbox.views(project, title, d) or 0) > 0 for d in days), title
