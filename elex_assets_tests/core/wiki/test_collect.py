"""Pageviews collection on the loopback sandbox and on replayed real answers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from elex_assets.core.retrying import RetryPolicy
from elex_assets.core.wiki.api import (
    WIKI_RETRY,
    WikimediaError,
    WikimediaMismatch,
    WikimediaRefused,
    WikimediaRetriesExhausted,
)
from elex_assets.core.wiki.client import WikiClient, retry_after, user_agent
from elex_assets.core.wiki.collect import Target, collect_range
from elex_assets.core.wiki.quality import articles_answered
from elex_assets.sandbox.wiki_server import WikiSandbox
from elex_assets_tests.wiki_replay import WikiReplay, recorded

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
UA = user_agent("ops@example.org")
FAST = replace(WIKI_RETRY, backoff_base=0.01, backoff_max=0.02, rate_limit_min_wait=0.0)
ARTICLES = {"fr.wikipedia": {"Jordan_Bardella": 20_000, "Marine_Tondelier": 40,
                             "Front_populaire_(2024–)": 900},
            "en.wikipedia": {"Jordan_Bardella": 5_000}}
TARGETS = [Target("bardella", "fr.wikipedia", "Jordan_Bardella"),
           Target("tondelier", "fr.wikipedia", "Marine_Tondelier"),
           Target("fp", "fr.wikipedia", "Front_populaire_(2024–)"),
           Target("bardella", "en.wikipedia", "Jordan_Bardella")]


@pytest.fixture
def sandbox() -> Iterator[WikiSandbox]:
    with WikiSandbox(ARTICLES, clock=lambda: NOW) as server:
        yield server


def _client(base_url: str, policy: RetryPolicy = FAST, sleeps: list | None = None) -> WikiClient:
    return WikiClient(UA, base_url, policy, sleep=(sleeps.append if sleeps is not None
                                                   else lambda _s: None))


def test_a_month_is_one_request_per_article_split_into_days(sandbox: WikiSandbox) -> None:
    client = _client(sandbox.base_url)
    result = collect_range(client, TARGETS, date(2026, 10, 1), date(2026, 10, 31), now=NOW)
    assert client.requests == len(TARGETS) == result.requests
    assert sorted(result.frames) == [date(2026, 10, 1) + timedelta(days=i) for i in range(31)]
    day = date(2026, 10, 7)
    frame = result.frames[day]
    assert frame.height == len(TARGETS) and frame["day"].unique().to_list() == [day]
    views = {(r["project"], r["article"]): r["views"] for r in frame.iter_rows(named=True)}
    for t in TARGETS:  # what the service says for that day, or 0 where it sent no row
        assert views[(t.project, t.article)] == (sandbox.views(t.project, t.article, day) or 0)
    # The small article has days without a row: stored as 0, flagged, accounted.
    filled = sum(int(f["zero_filled"].sum()) for f in result.frames.values())
    assert filled == sum(a.zero_filled for a in result.accounting.values()) > 0
    assert all(a.rows == a.targets == len(TARGETS) for a in result.accounting.values())


def test_the_en_dash_title_travels_percent_encoded(sandbox: WikiSandbox) -> None:
    collect_range(_client(sandbox.base_url), TARGETS[2:3], date(2026, 11, 1),
                  date(2026, 11, 2), now=NOW)
    assert sandbox.requests[-1]["path"].split("/")[-4] == "Front_populaire_%282024%E2%80%93%29"


def test_days_not_loaded_yet_do_not_land(sandbox: WikiSandbox) -> None:
    sandbox.lag = timedelta(hours=20)  # at 12:00 on the 20th, the 19th is not loaded
    client = _client(sandbox.base_url)
    result = collect_range(client, TARGETS, date(2026, 11, 17), date(2026, 11, 20), now=NOW)
    assert sorted(result.frames) == [date(2026, 11, 17), date(2026, 11, 18)]
    assert result.not_loaded == [date(2026, 11, 19), date(2026, 11, 20)]
    # today is never asked: the request ends yesterday
    assert all(r["path"].endswith("/2026111700/2026111900") for r in sandbox.requests)


def test_an_unknown_title_is_zero_on_loaded_days_and_before_2015_07_is_refused(
        sandbox: WikiSandbox) -> None:
    client = _client(sandbox.base_url)
    targets = [*TARGETS[:1], Target("ghost", "fr.wikipedia", "Nobody_At_All")]
    result = collect_range(client, targets, date(2026, 11, 1), date(2026, 11, 3), now=NOW)
    assert result.not_found == 1
    ghost = [r for f in result.frames.values() for r in f.iter_rows(named=True)
             if r["candidate_id"] == "ghost"]
    assert [(r["views"], r["zero_filled"]) for r in ghost] == [(0, True)] * 3
    with pytest.raises(WikimediaError, match="2015-07-01"):
        collect_range(client, targets, date(2015, 6, 1), date(2015, 7, 3), now=NOW)


def test_at_most_three_requests_in_flight(sandbox: WikiSandbox) -> None:
    sandbox.delay = 0.05
    targets = [Target(f"c{i}", "fr.wikipedia", "Jordan_Bardella") for i in range(12)]
    collect_range(_client(sandbox.base_url), targets, date(2026, 11, 1), date(2026, 11, 2),
                  now=NOW)
    assert sandbox.max_in_flight == 3


def test_429_in_plain_text_waits_for_retry_after_then_succeeds(sandbox: WikiSandbox) -> None:
    sandbox.faults.add("429", reset_in=7)
    sleeps: list[float] = []
    client = _client(sandbox.base_url, sleeps=sleeps)
    answer = client.daily("fr.wikipedia", "Jordan_Bardella", date(2026, 11, 1), date(2026, 11, 2))
    assert answer.status == 200 and client.rate_limited == 1 and client.requests == 2
    assert 6.0 <= sleeps[0] <= 8.0  # Retry-After: 7


def test_retries_stop_at_the_policy(sandbox: WikiSandbox) -> None:
    sandbox.faults.add("503", times=10)
    client = _client(sandbox.base_url, replace(FAST, max_attempts=3))
    with pytest.raises(WikimediaRetriesExhausted, match="after 3 attempts"):
        client.daily("fr.wikipedia", "Jordan_Bardella", date(2026, 11, 1), date(2026, 11, 2))
    assert client.requests == 3
    sandbox.faults.clear()
    sandbox.faults.add("429", reset_in=3600)  # beyond the wait bound: give up at once
    client = _client(sandbox.base_url)
    with pytest.raises(WikimediaRetriesExhausted, match="Retry-After"):
        client.daily("fr.wikipedia", "Jordan_Bardella", date(2026, 11, 1), date(2026, 11, 2))
    assert client.requests == 1


def test_a_cut_body_is_retried(sandbox: WikiSandbox) -> None:
    sandbox.faults.add("truncated")
    client = _client(sandbox.base_url)
    assert client.daily("fr.wikipedia", "Jordan_Bardella", date(2026, 11, 1),
                        date(2026, 11, 2)).status == 200
    assert client.requests == 2


def test_a_client_without_contact_is_refused_once_and_not_retried(sandbox: WikiSandbox) -> None:
    client = WikiClient("python-requests/2.32", sandbox.base_url, FAST)
    with pytest.raises(WikimediaRefused, match="WIKIMEDIA_CONTACT"):
        client.daily("fr.wikipedia", "Jordan_Bardella", date(2026, 11, 1), date(2026, 11, 2))
    assert client.requests == 1


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert retry_after("30", now=1000.0) == 1030.0
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 1445412480.0
    assert retry_after(None) is None and retry_after("soon") is None


# ---- real answers, replayed ---------------------------------------------------------------

def test_a_partition_lands_exactly_its_day_from_a_longer_real_answer() -> None:
    """The recorded answers cover 2025-08-15..19; asking one day lands that day only."""
    names = ["wed__2025-11-04__001_en_wikipedia_HIV_AIDS_200",
             "wed__2025-11-04__004_en_wikipedia_Andr_the_Giant_200",
             "wed__2025-11-04__003_en_wikipedia_Weird_Al_Yankovic_200"]
    titles = ["HIV/AIDS", "André_the_Giant", '"Weird_Al"_Yankovic']
    with WikiReplay() as replay:
        client = WikiClient(UA, replay.base_url, FAST)
        targets = [Target(f"t{i}", "en.wikipedia", t) for i, t in enumerate(titles)]
        day = date(2025, 8, 17)
        result = collect_range(client, targets, day, day, now=datetime(2025, 11, 4, tzinfo=UTC))
    assert list(result.frames) == [day] and result.dropped == {"outside_asked_days": 12}
    got = {r["article"]: r["views"] for r in result.frames[day].iter_rows(named=True)}
    for name, title in zip(names, titles, strict=True):
        items = json.loads(recorded(name)["body"])["items"]
        assert got[title] == next(i["views"] for i in items if i["timestamp"] == "2025081700")
    assert all(not z for z in result.frames[day]["zero_filled"])
    assert {p.split("/")[-4] for p in replay.paths} == {
        "HIV%2FAIDS", "Andr%C3%A9_the_Giant", "%22Weird_Al%22_Yankovic"}
    assert all(ua.startswith("elex/") and "ops@example.org" in ua for ua in replay.user_agents)


def test_real_gaps_are_zero_only_on_days_known_loaded() -> None:
    """Toveri: 25 of 50 days, 16 of them 0; its missing days are 0 once another article of
    the project has a later row (loaded); the 404 title counts 0 on those days too."""
    with WikiReplay() as replay:
        client = WikiClient(UA, replay.base_url, FAST)
        targets = [Target("toveri", "en.wikipedia", "Toveri"),
                   Target("ghost", "en.wikipedia", "THIS_IS_NOT_A_REAL_ARTICLE")]
        result = collect_range(client, targets, date(2023, 8, 29), date(2023, 10, 17),
                               now=datetime(2025, 2, 3, tzinfo=UTC))
    items = json.loads(recorded("wed__2025-02-03_course__088_en_wikipedia_Toveri_200")["body"])
    items = items["items"]
    last = max(i["timestamp"] for i in items)
    landed = [d for d in result.frames]
    assert landed[-1] == datetime.strptime(last[:8], "%Y%m%d").date()
    toveri = [r for f in result.frames.values() for r in f.iter_rows(named=True)
              if r["candidate_id"] == "toveri"]
    assert sum(not r["zero_filled"] for r in toveri) == len(items)
    assert sum(r["views"] for r in toveri) == sum(i["views"] for i in items)


def test_an_answer_about_another_article_is_a_named_error() -> None:
    bard = recorded("wed__2025-11-04__000_en_wikipedia_Facebook_200")
    bard["params"] = {**bard["params"], "article": "Meta_Platforms"}  # served for another title
    with WikiReplay([bard]) as replay, pytest.raises(WikimediaMismatch, match="Facebook"):
        collect_range(WikiClient(UA, replay.base_url, FAST),
                      [Target("m", "en.wikipedia", "Meta_Platforms")], date(2025, 8, 15),
                      date(2025, 8, 19), now=datetime(2025, 11, 4, tzinfo=UTC))


def test_a_redirect_title_is_collected_as_its_own_series_and_flagged(
        sandbox: WikiSandbox) -> None:
    """The registry holds the article's title; a redirect listed by mistake is asked as
    written, never followed, and reads as Wikimedia counts it: its own (tiny or absent)
    views. ``Google_Bard`` was only ever a redirect (recorded monthly with its own views)."""
    ex = recorded("eval__2026-10-08__google_bard_monthly_redirect_only")
    assert json.loads(ex["body"])["items"][0]["article"] == "Google_Bard"
    targets = [TARGETS[0], Target("bard", "fr.wikipedia", "Google_Bard")]
    result = collect_range(_client(sandbox.base_url), targets, date(2026, 11, 1),
                           date(2026, 11, 2), now=NOW)
    assert any(r["path"].split("/")[-4] == "Google_Bard" for r in sandbox.requests)
    frame = result.frames[date(2026, 11, 1)]
    bard = frame.filter(pl.col("candidate_id") == "bard").row(0, named=True)
    assert (bard["article"], bard["views"], bard["zero_filled"]) == ("Google_Bard", 0, True)
    outcome = articles_answered(frame)
    assert not outcome.passed and "redirect" in outcome.description


def test_retry_after_holds_for_every_request_not_only_the_one_refused(
        sandbox: WikiSandbox) -> None:
    sandbox.faults.add("429", reset_in=4)
    sleeps: list[float] = []  # recorded, not slept: the clock does not move
    client = WikiClient(UA, sandbox.base_url, FAST, max_concurrent=1, sleep=sleeps.append)
    collect_range(client, TARGETS[:3], date(2026, 11, 1), date(2026, 11, 2), now=NOW)
    assert client.rate_limited == 1 and client.requests == 4
    # the refused request waited, and so did each request sent after it
    assert len(sleeps) >= 3 and all(3.0 <= s <= 5.0 for s in sleeps)


def test_the_first_refusal_stops_the_requests_not_sent_yet(sandbox: WikiSandbox) -> None:
    targets = [Target(f"c{i}", "fr.wikipedia", "Jordan_Bardella") for i in range(12)]
    client = WikiClient("", sandbox.base_url, FAST)  # no User-Agent: 403
    with pytest.raises(WikimediaRefused):
        collect_range(client, targets, date(2026, 11, 1), date(2026, 11, 2), now=NOW)
    assert len(sandbox.requests) <= 3  # those already in flight, none after


def test_a_404_in_the_pre_2023_restbase_shape_is_no_data_too() -> None:
    old = {"params": {"project": "en.wikipedia", "article": "Old_Shape",
                      "granularity": "daily"},
           "url": "https://wikimedia.org/api/rest_v1/metrics/pageviews/per-article/x",
           "status": 404, "headers": {"Content-Type": ["application/problem+json"]},
           "body": json.dumps({"type": "https://mediawiki.org/wiki/HyperSwitch/errors/not_found",
                               "title": "Not found.", "method": "get",
                               "detail": "The date(s) you used are valid, but we either do not "
                               "have data for those date(s), or the project you asked for is "
                               "not loaded yet.  Please check https://wikimedia.org/api/rest_v1/"
                               "?doc for more information.",
                               "uri": "/analytics.wikimedia.org/v1/pageviews/per-article/x"})}
    with WikiReplay([old]) as replay:
        answer = WikiClient(UA, replay.base_url, FAST).daily(
            "en.wikipedia", "Old_Shape", date(2020, 1, 1), date(2020, 1, 2))
    assert answer.status == 404 and answer.items == []
    with WikiReplay([]) as replay:  # a route that is not Wikimedia's: the base URL is wrong
        replay.answers[("en.wikipedia", "Html", "daily")] = {
            **old, "body": "<html>Not Found</html>", "headers": {"Content-Type": ["text/html"]}}
        with pytest.raises(WikimediaError, match="WIKIMEDIA_BASE_URL"):
            WikiClient(UA, replay.base_url, FAST).daily("en.wikipedia", "Html",
                                                       date(2020, 1, 1), date(2020, 1, 2))
