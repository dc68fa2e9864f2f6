"""The sandbox speaks X API v2 over real HTTP: shapes, query, pagination, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from elex_assets.sandbox.x_generator import snowflake_ms
from elex_assets.sandbox.x_server import XSandbox
from elex_assets_tests.clock import NOW

pytestmark = pytest.mark.usefixtures("fixed_now")  # "now" is clock.NOW: fixed data

AUTH = {"Authorization": "Bearer test"}
FIELDS = {
    "tweet.fields": "created_at,lang,author_id,entities,referenced_tweets,public_metrics",
    "expansions": "author_id,referenced_tweets.id,referenced_tweets.id.author_id",
    "user.fields": "location",
}


def _get(sb: XSandbox, endpoint: str = "all", **params: str) -> requests.Response:
    return requests.get(f"{sb.base_url}/2/tweets/search/{endpoint}",
                        params={**FIELDS, **params}, headers=AUTH, timeout=10)


def test_search_returns_v2_shape_with_includes_and_honours_the_query(x_sandbox: XSandbox) -> None:
    r = _get(x_sandbox, query='("Emmanuel Macron" OR @EmmanuelMacron) lang:fr',
             start_time="2022-04-10T00:00:00Z", end_time="2022-04-11T00:00:00Z",
             max_results="100")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"data", "includes", "meta"}
    assert body["meta"]["result_count"] == len(body["data"]) == 100
    assert body["meta"]["newest_id"] == body["data"][0]["id"]
    assert body["meta"]["oldest_id"] == body["data"][-1]["id"]
    ids = [int(t["id"]) for t in body["data"]]
    assert ids == sorted(ids, reverse=True)  # newest first, snowflake ids
    users = {u["id"] for u in body["includes"]["users"]}
    refs = {t["id"] for t in body["includes"]["tweets"]}
    for t in body["data"]:
        assert t["lang"] == "fr"
        assert t["author_id"] in users
        assert {"like_count", "retweet_count"} <= set(t["public_metrics"])
        withheld = {e["resource_id"] for e in body.get("errors", [])}
        for ref in t.get("referenced_tweets", []):
            assert ref["id"] in refs or ref["id"] in withheld
        text = t["text"].lower()
        ref_texts = [x["text"].lower() for x in body["includes"]["tweets"]
                     if x["id"] in {r["id"] for r in t.get("referenced_tweets", [])}]
        assert any("emmanuel macron" in s or "@emmanuelmacron" in s for s in [text, *ref_texts])
    assert {"retweeted", "quoted", "replied_to"} <= {
        r["type"] for t in body["data"] for r in t.get("referenced_tweets", [])}


def test_pages_are_deterministic_and_disjoint(x_sandbox: XSandbox) -> None:
    params = {"query": '"Marine Le Pen"', "start_time": "2022-04-09T00:00:00Z",
              "end_time": "2022-04-09T12:00:00Z", "max_results": "10"}
    first = _get(x_sandbox, **params).json()
    again = _get(x_sandbox, **params).json()
    assert [t["id"] for t in first["data"]] == [t["id"] for t in again["data"]]
    second = _get(x_sandbox, next_token=first["meta"]["next_token"], **params).json()
    assert int(second["data"][0]["id"]) < int(first["data"][-1]["id"])


def test_empty_result_and_time_bounds(x_sandbox: XSandbox) -> None:
    r = _get(x_sandbox, query='"Nobody Here"', start_time="2022-04-09T00:00:00Z",
             end_time="2022-04-09T01:00:00Z")
    assert r.status_code == 200 and r.json() == {"meta": {"result_count": 0}}
    r = _get(x_sandbox, query="Macron", start_time="2022-04-09T18:00:00Z",
             end_time="2022-04-09T19:00:00Z", max_results="100")
    assert r.json()["data"]
    for t in r.json()["data"]:
        created = datetime.fromisoformat(t["created_at"].replace("Z", "+00:00"))
        assert datetime(2022, 4, 9, 18, tzinfo=UTC) <= created < datetime(2022, 4, 9, 19,
                                                                          tzinfo=UTC)
        assert abs(snowflake_ms(int(t["id"])) - created.timestamp() * 1000) < 1


def test_errors_use_x_problem_format(x_sandbox: XSandbox) -> None:
    old = (NOW - timedelta(days=8)).strftime("%Y-%m-%dT%H:%M:%SZ")
    r = _get(x_sandbox, "recent", query="@EmmanuelMacron", start_time=old)
    assert r.status_code == 400
    assert r.json()["type"] == "https://api.twitter.com/2/problems/invalid-request"
    assert "start_time" in r.json()["errors"][0]["message"]
    r = _get(x_sandbox, "recent", query="x", max_results="500")
    assert r.status_code == 400 and "between 10 and 100" in r.json()["errors"][0]["message"]
    r = _get(x_sandbox, query="x", since_id="1", start_time="2022-04-09T00:00:00Z")
    assert r.status_code == 400 and "in conjunction" in r.json()["errors"][0]["message"]
    r = requests.get(f"{x_sandbox.base_url}/2/tweets/search/all", params={"query": "x"},
                     timeout=10)
    assert r.status_code == 401 and r.json()["title"] == "Unauthorized"


def test_injected_faults_answer_like_x(x_sandbox: XSandbox) -> None:
    params = {"query": "Macron", "start_time": "2022-04-09T18:00:00Z",
              "end_time": "2022-04-09T19:00:00Z"}
    x_sandbox.faults.add("429", reset_in=5)
    r = _get(x_sandbox, **params)
    assert r.status_code == 429 and int(r.headers["x-rate-limit-reset"]) > NOW.timestamp()
    x_sandbox.faults.add("usage_cap")
    r = _get(x_sandbox, **params)
    assert r.status_code == 429
    assert r.json()["type"] == "https://api.twitter.com/2/problems/usage-capped"
    x_sandbox.faults.add("403")
    assert _get(x_sandbox, **params).json()["reason"] == "client-not-enrolled"
    x_sandbox.faults.add("503")
    assert _get(x_sandbox, **params).status_code == 503
    x_sandbox.faults.add("truncate")
    r = _get(x_sandbox, **params)
    assert r.status_code == 200
    try:
        r.json()
        raise AssertionError("a truncated body must not parse")
    except ValueError:
        pass
    assert _get(x_sandbox, **params).json()["meta"]["result_count"] > 0  # faults are one-shot


def test_raw_days_written_without_http_normalise_like_collected_ones(tmp_path) -> None:  # noqa: ANN001
    from datetime import date

    from elex_assets.core.lake import Lake
    from elex_assets.core.registry import load_registry
    from elex_assets.core.x.normalise import normalise_day
    from elex_assets.sandbox.x_generator import XGenerator
    from elex_assets.sandbox.x_raw import write_raw_day

    reg = load_registry("2022")
    gen = XGenerator(reg.selected(), reg.election, posts_per_day=1000)
    lake = Lake.from_url(str(tmp_path))
    (tmp_path / "raw").mkdir()
    n = write_raw_day(gen, date(2022, 4, 9), tmp_path / "raw" / "d.jsonl.gz", page_size=100)
    rows = normalise_day(lake, ["raw/d.jsonl.gz"], reg.candidates, date(2022, 4, 9), "t.parquet")
    assert n == rows > 500
    table = lake.read_parquet("t.parquet")
    assert table["candidates"].list.len().gt(0).mean() > 0.9  # noise posts name nobody


def test_operators_from_lang_and_retweet_exclusion(x_sandbox: XSandbox) -> None:
    window = {"start_time": "2022-04-09T06:00:00Z", "end_time": "2022-04-09T23:00:00Z",
              "max_results": "500", "expansions": "author_id"}
    body = _get(x_sandbox, query="(Macron OR Zemmour) lang:en -is:retweet", **window).json()
    assert body["data"]
    assert all(t["lang"] == "en" and not t["text"].startswith("RT @") for t in body["data"])
    with_rt = _get(x_sandbox, query="(Macron OR Zemmour) lang:en", **window).json()
    assert with_rt["meta"]["result_count"] > body["meta"]["result_count"]
    authored = _get(x_sandbox, query="from:EmmanuelMacron OR from:enmarchefr", **window).json()
    names = {u["id"]: u["username"] for u in authored["includes"]["users"]}
    assert {names[t["author_id"]] for t in authored["data"]} <= {"EmmanuelMacron", "enmarchefr"}


DAY = {"start_time": "2022-04-09T00:00:00Z", "end_time": "2022-04-10T00:00:00Z"}


def test_the_wire_format_is_the_recorded_one(x_sandbox: XSandbox) -> None:
    """Compact JSON, opaque ~45-character tokens, api-version, a draining rate window."""
    import json

    responses = []
    token = None
    for _ in range(4):
        extra = {"next_token": token} if token else {}
        r = _get(x_sandbox, query='"Marine Le Pen"', max_results="10", **DAY, **extra)
        responses.append(r)
        token = r.json()["meta"]["next_token"]
    raw = responses[0].content
    assert raw == json.dumps(json.loads(raw), ensure_ascii=False, separators=(",", ":")).encode()
    tokens = [r.json()["meta"]["next_token"] for r in responses]
    assert all(len(t) == 45 and t.startswith("b26v89c19zqg8o3f") for t in tokens)
    assert len(set(tokens)) == 4
    assert all(r.headers["api-version"] == "2.52" for r in responses)
    resets = {r.headers["x-rate-limit-reset"] for r in responses}
    remaining = [int(r.headers["x-rate-limit-remaining"]) for r in responses]
    if len(resets) == 1:  # the 15-minute window did not end between the requests
        assert remaining == sorted(remaining, reverse=True) and len(set(remaining)) == 4
        assert int(resets.pop()) % 900 == 0


def test_an_unknown_or_altered_next_token_answers_400(x_sandbox: XSandbox) -> None:
    good = _get(x_sandbox, query='"Marine Le Pen"', max_results="10", **DAY).json()
    token = good["meta"]["next_token"]
    for bad in ("zzzz", token[:-1] + ("0" if token[-1] != "0" else "1"),
                "b26v89c19zqg8o3fpzbn1e0frlukytxrp1o8pel01jb7h"):
        r = _get(x_sandbox, query='"Marine Le Pen"', max_results="10", next_token=bad, **DAY)
        assert r.status_code == 400
        assert r.json()["errors"][0]["parameters"] == {"next_token": [bad]}


def test_long_posts_carry_note_tweet_and_some_references_come_back_as_errors(
    x_sandbox: XSandbox,
) -> None:
    notes, errors, cut = [], [], []
    token = None
    while True:
        extra = {"next_token": token} if token else {}
        r = _get(x_sandbox, query="Macron OR Zemmour OR Pécresse", max_results="500",
                 **{"tweet.fields": "created_at,referenced_tweets,note_tweet"}, **DAY, **extra)
        body = r.json()
        for t in body.get("data", []):
            if "note_tweet" in t:
                notes.append(t)
            elif t["text"].endswith("…"):
                cut.append(t)
        errors += body.get("errors", [])
        token = body["meta"].get("next_token")
        if not token:
            break
    assert notes and not cut
    for t in notes:
        assert len(t["note_tweet"]["text"]) > 280 and len(t["text"]) == 280
        assert t["note_tweet"]["text"].startswith(t["text"][:-1])
    assert errors and {e["type"] for e in errors} == {
        "https://api.twitter.com/2/problems/resource-not-found"}


def test_counts_match_what_search_returns(x_sandbox: XSandbox) -> None:
    query = '"Marine Le Pen" lang:fr'
    r = requests.get(f"{x_sandbox.base_url}/2/tweets/counts/all", headers=AUTH,
                     params={"query": query, "granularity": "hour", **DAY}, timeout=10)
    assert r.status_code == 200 and r.headers["api-version"]
    body = r.json()
    assert len(body["data"]) == 24
    assert body["data"][0] == {**body["data"][0], "start": "2022-04-09T00:00:00.000Z",
                               "end": "2022-04-09T01:00:00.000Z"}
    total = body["meta"]["total_tweet_count"]
    assert total == sum(b["tweet_count"] for b in body["data"]) > 0
    found, token = 0, None
    while True:
        extra = {"next_token": token} if token else {}
        page = _get(x_sandbox, query=query, max_results="500", **DAY, **extra).json()
        found += page["meta"]["result_count"]
        token = page["meta"].get("next_token")
        if not token:
            break
    assert found == total
    bad = requests.get(f"{x_sandbox.base_url}/2/tweets/counts/all", headers=AUTH,
                       params={"query": query, "granularity": "week", **DAY}, timeout=10)
    assert bad.status_code == 400
