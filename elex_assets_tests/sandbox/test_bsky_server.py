"""The sandbox Bluesky XRPC service: real response shapes, cursor cap, limits, sessions."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from atproto import Client, models
from atproto_client.exceptions import BadRequestError, UnauthorizedError

from elex_assets.core.registry import load_registry
from elex_assets.sandbox.bsky_server import SANDBOX_APP_PASSWORD, SANDBOX_IDENTIFIER, BskySandbox

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)  # the sandbox's clock: no test reads the wall's
DAY = (NOW - timedelta(days=3)).date()
SINCE, UNTIL = f"{DAY}T00:00:00.000Z", f"{DAY + timedelta(days=1)}T00:00:00.000Z"


@pytest.fixture
def sandbox() -> Iterator[BskySandbox]:
    cands = list(load_registry("2027").selected())
    cands[1] = replace(cands[1], bluesky_person=("jordanbardella.bsky.social",))
    with BskySandbox(cands, posts_per_day=600, seed=3, clock=lambda: NOW) as server:
        yield server


def _login(sandbox: BskySandbox) -> Client:
    client = Client(base_url=sandbox.base_url)
    client.login(SANDBOX_IDENTIFIER, SANDBOX_APP_PASSWORD, fetch_bsky_profile=False)
    return client


def _raw(sandbox: BskySandbox, path: str, token: str, **params: Any) -> tuple[int, dict, Any]:
    query = "&".join(f"{k}={urllib.request.quote(str(v))}" for k, v in params.items())
    req = urllib.request.Request(f"{sandbox.base_url}/xrpc/{path}?{query}",
                                 headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req) as resp:
            return resp.status, json.loads(resp.read()), resp.headers
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read()), err.headers


def test_search_answers_postviews_the_sdk_parses(sandbox: BskySandbox) -> None:
    client = _login(sandbox)
    token = client._session.access_jwt
    status, body, headers = _raw(sandbox, "app.bsky.feed.searchPosts", token,
                                 q='"Jordan Bardella"', since=f"{DAY}T00:00:00Z",
                                 until=f"{DAY + timedelta(days=1)}T00:00:00Z", limit=5,
                                 sort="latest")
    assert status == 200 and set(body) == {"posts", "cursor"}  # no hitsTotal since 2024
    assert body["cursor"] == "5"  # an offset
    assert headers["ratelimit-limit"] == "3000" and int(headers["ratelimit-remaining"]) < 3000
    post = body["posts"][0]
    assert post["uri"].startswith("at://did:plc:") and "/app.bsky.feed.post/" in post["uri"]
    assert set(post["author"]) >= {"did", "handle", "displayName"}
    assert post["record"]["$type"] == "app.bsky.feed.post"
    assert set(post) >= {"cid", "replyCount", "repostCount", "likeCount", "quoteCount",
                         "indexedAt"}
    times = [p["record"]["createdAt"] for p in body["posts"]]
    assert times == sorted(times, reverse=True)  # sort=latest: newest first
    parsed = client.app.bsky.feed.search_posts(models.AppBskyFeedSearchPosts.Params(
        q='"Jordan Bardella"', since=SINCE, limit=5, cursor=body["cursor"]))
    assert len(parsed.posts) == 5 and parsed.posts[0].uri not in {p["uri"] for p in body["posts"]}


def test_seeded_posts_cover_every_hour_in_french_and_english(sandbox: BskySandbox) -> None:
    posts = sandbox.generator.day(DAY)
    assert {p.created.hour for p in posts} == set(range(24))
    assert {p.lang for p in posts} == {"fr", "en"}
    assert any(p.reply for p in posts) and any(p.quote for p in posts)
    assert any(p.author.handle == "jordanbardella.bsky.social" for p in posts)
    assert any(p.mentions for p in posts)
    again = BskySandbox(sandbox.generator.candidates, posts_per_day=600, seed=3)
    assert [p.view() for p in again.generator.day(DAY)] == [p.view() for p in posts]


def test_cursor_stops_before_the_end_of_the_results(sandbox: BskySandbox) -> None:
    sandbox.max_depth = 20
    client = _login(sandbox)
    seen, cursor, cursors = [], None, []
    while True:
        page = client.app.bsky.feed.search_posts(models.AppBskyFeedSearchPosts.Params(
            q="Bardella", since=SINCE, until=UNTIL, limit=8, cursor=cursor))
        seen += page.posts
        cursor = page.cursor
        if not cursor:
            break
        cursors.append(cursor)
    assert cursors == ["8", "16"]  # offsets, then none: 20 hits is the cap here
    assert len(seen) <= 20 < len(sandbox.generator.day(DAY))
    assert page.hits_total is None


def test_lang_and_from_filters(sandbox: BskySandbox) -> None:
    client = _login(sandbox)
    en = client.app.bsky.feed.search_posts(models.AppBskyFeedSearchPosts.Params(
        q="Bardella", since=SINCE, until=UNTIL, lang="en", limit=100))
    langs = [p.record.langs for p in en.posts]
    assert en.posts and all(not ls or ls[0].startswith("en") for ls in langs)
    own = client.app.bsky.feed.search_posts(models.AppBskyFeedSearchPosts.Params(
        q="from:jordanbardella.bsky.social", since=SINCE, until=UNTIL,
        limit=100))
    assert own.posts and {p.author.handle for p in own.posts} == {"jordanbardella.bsky.social"}


def test_limit_over_100_is_refused(sandbox: BskySandbox) -> None:
    token = _login(sandbox)._session.access_jwt
    status, body, _ = _raw(sandbox, "app.bsky.feed.searchPosts", token, q="x", limit=101)
    assert status == 400 and body["error"] == "InvalidRequest"


def test_rate_limit_answers_429_with_reset(sandbox: BskySandbox) -> None:
    token = _login(sandbox)._session.access_jwt
    sandbox.faults.add("429", reset_in=30)
    status, body, headers = _raw(sandbox, "app.bsky.feed.searchPosts", token, q="Bardella")
    assert status == 429 and body["error"] == "RateLimitExceeded"
    assert headers["ratelimit-remaining"] == "0"
    # on the server's own clock (its Date header), as the client counts it
    sent = parsedate_to_datetime(headers["date"])
    assert int(headers["ratelimit-reset"]) >= int(sent.timestamp()) + 29


def test_expired_session_and_wrong_password(sandbox: BskySandbox) -> None:
    client = _login(sandbox)
    sandbox.expire_sessions()
    with pytest.raises(BadRequestError) as err:
        client.app.bsky.feed.search_posts(models.AppBskyFeedSearchPosts.Params(q="Bardella"))
    assert err.value.response.content.error == "ExpiredToken"
    client._refresh_and_set_session()  # a refresh token renews the session
    client.app.bsky.feed.search_posts(models.AppBskyFeedSearchPosts.Params(q="Bardella"))
    with pytest.raises(UnauthorizedError):
        Client(base_url=sandbox.base_url).login(SANDBOX_IDENTIFIER, "wrong-pass-word-here",
                                                fetch_bsky_profile=False)


def test_deleted_posts_disappear_from_search_and_get_posts(sandbox: BskySandbox) -> None:
    client = _login(sandbox)
    params = models.AppBskyFeedSearchPosts.Params(
        q="Bardella", since=SINCE, until=UNTIL, limit=10)
    uris = [p.uri for p in client.app.bsky.feed.search_posts(params).posts]
    sandbox.delete(uris[0])
    got = client.app.bsky.feed.get_posts(models.AppBskyFeedGetPosts.Params(uris=uris))
    assert [p.uri for p in got.posts] == uris[1:]
    assert uris[0] not in [p.uri for p in client.app.bsky.feed.search_posts(params).posts]
    old = sandbox.generator.day(DAY - timedelta(days=3))
    assert any(p.deleted_at for p in old)  # some posts are deleted by their authors over time


# ---- fidelity: the sandbox speaks what the recordings (recordings/bsky/) show ------------

def _recorded(name: str) -> dict:
    from elex_assets_tests.bsky_replay import exchange

    return exchange(name)


def _day_views(sandbox: BskySandbox, token: str) -> list[dict]:
    """Every post view the sandbox answers for the day (one query naming everyone)."""
    views, cursor = [], None
    for cand in sandbox.generator.candidates:
        cursor = None
        while True:
            extra = {"cursor": cursor} if cursor else {}
            status, body, _ = _raw(sandbox, "app.bsky.feed.searchPosts", token, q=cand.surname
                                   or cand.name, since=SINCE, until=UNTIL, limit=100, **extra)
            assert status == 200
            views += body["posts"]
            cursor = body.get("cursor")
            if not cursor:
                break
    return views


def test_post_views_have_the_recorded_structure(sandbox: BskySandbox) -> None:
    """Keys of post, author and record as recorded; the variety the recordings show:
    langs absent, with regions or several; tags; link facets; image, external, record and
    record-with-media embeds; bridged full text."""
    token = _login(sandbox)._session.access_jwt
    views = _day_views(sandbox, token)
    recorded = json.loads(_recorded("bskyr__vcr__f_search")["body"])["posts"]
    post_keys = {k for p in recorded for k in p}
    author_keys = [list(p["author"]) for p in recorded]
    for view in views:
        assert set(view) <= post_keys | {"embed"}, set(view) - post_keys
        assert set(post_keys) - {"embed"} <= set(view)
        assert list(view["author"]) in author_keys
    records = [v["record"] for v in views]
    langs = [tuple(r.get("langs", ())) for r in records]
    assert () in langs and any(len(ls) > 1 for ls in langs)
    assert any("-" in lang for ls in langs for lang in ls)
    assert any(r.get("tags") for r in records)
    assert any(f["features"][0]["$type"] == "app.bsky.richtext.facet#link"
               for r in records for f in r.get("facets", []))
    embeds = {v.get("embed", {}).get("$type") for v in views}
    recorded_embeds = {p.get("embed", {}).get("$type") for p in recorded}
    assert recorded_embeds <= embeds
    assert "app.bsky.embed.recordWithMedia#view" in embeds
    assert any("bridgyOriginalText" in r and len(r["text"]) <= 300 for r in records)


def test_get_posts_answers_the_recorded_structure(sandbox: BskySandbox) -> None:
    token = _login(sandbox)._session.access_jwt
    uris = [p.uri for p in sandbox.generator.day(DAY)[:3]]
    status, body, headers = _raw(sandbox, "app.bsky.feed.getPosts", token, uris=uris[0])
    recorded = _recorded("bskyr__vcr__f_getposts")
    assert status == 200 and list(body) == list(json.loads(recorded["body"])) == ["posts"]
    rec_post = json.loads(recorded["body"])["posts"][0]
    assert set(body["posts"][0]) <= set(rec_post) | {"quoteCount", "embed"}
    assert list(body["posts"][0]["author"]) == list(rec_post["author"])
    assert headers["ratelimit-policy"] == recorded["headers"]["ratelimit-policy"]


def test_pages_are_cut_then_filtered_short_and_empty_pages_carry_a_cursor(
    sandbox: BskySandbox,
) -> None:
    token = _login(sandbox)._session.access_jwt
    at = datetime.combine(DAY, datetime.min.time(), UTC) + timedelta(hours=12)
    sandbox.take_down(at, 150)  # a burst of posts taken down after indexing
    pages, cursor = [], None
    while True:
        extra = {"cursor": cursor} if cursor else {}
        status, body, _ = _raw(sandbox, "app.bsky.feed.searchPosts", token, q="Bardella",
                               since=SINCE, until=UNTIL, limit=25, **extra)
        pages.append((len(body["posts"]), body.get("cursor")))
        cursor = body.get("cursor")
        if not cursor:
            break
    assert (0, pages[1][1]) in pages  # an empty page that carries a cursor
    assert any(0 < n < 25 and c for n, c in pages)  # a short one too
    assert [c for _, c in pages[:-1]] == [str(25 * (i + 1)) for i in range(len(pages) - 1)]


def test_the_cursor_stops_at_the_cap_near_10000(sandbox: BskySandbox) -> None:
    token = _login(sandbox)._session.access_jwt
    at = datetime.combine(DAY, datetime.min.time(), UTC) + timedelta(hours=12)
    sandbox.take_down(at, 10_050)
    _, body, _ = _raw(sandbox, "app.bsky.feed.searchPosts", token, q="Bardella", since=SINCE,
                      until=UNTIL, limit=100, cursor="9800")
    assert body["cursor"] == "9900"
    _, body, _ = _raw(sandbox, "app.bsky.feed.searchPosts", token, q="Bardella", since=SINCE,
                      until=UNTIL, limit=100, cursor="9900")
    assert "cursor" not in body  # more match, the cursor ends


def test_bare_dates_are_refused(sandbox: BskySandbox) -> None:
    token = _login(sandbox)._session.access_jwt
    status, body, _ = _raw(sandbox, "app.bsky.feed.searchPosts", token, q="Bardella",
                           since=str(DAY), until=UNTIL)
    assert status == 400 and body["error"] == "InvalidRequest" and "since" in body["message"]


def test_create_session_has_its_own_limit_of_10_a_day(sandbox: BskySandbox) -> None:
    recorded = _recorded("bskyr__vcr__repo_auth_direct")
    url = f"{sandbox.base_url}/xrpc/com.atproto.server.createSession"
    data = json.dumps({"identifier": SANDBOX_IDENTIFIER, "password": SANDBOX_APP_PASSWORD})
    answers = []
    for _ in range(11):
        req = urllib.request.Request(url, data=data.encode(), method="POST",
                                     headers={"content-type": "application/json"})
        try:
            with urllib.request.urlopen(req) as resp:
                answers.append((resp.status, json.loads(resp.read()), resp.headers))
        except urllib.error.HTTPError as err:
            answers.append((err.code, json.loads(err.read()), err.headers))
    status, body, headers = answers[0]
    assert status == 200 and list(body) == [k for k in json.loads(recorded["body"])]
    assert headers["ratelimit-policy"] == recorded["headers"]["ratelimit-policy"] == "10;w=86400"
    assert [int(h["ratelimit-remaining"]) for _, _, h in answers[:10]] == list(range(9, -1, -1))
    status, body, headers = answers[10]
    assert status == 429 and body["error"] == "RateLimitExceeded"
    assert int(headers["ratelimit-reset"]) - int(answers[0][2]["ratelimit-reset"]) < 5
