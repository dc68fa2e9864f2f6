"""The sandbox Bluesky XRPC service: real response shapes, cursor cap, limits, sessions."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from atproto import Client, models
from atproto_client.exceptions import BadRequestError, UnauthorizedError

from elex_assets.core.registry import load_registry
from elex_assets.sandbox.bsky_server import SANDBOX_APP_PASSWORD, SANDBOX_IDENTIFIER, BskySandbox
from elex_assets_tests.clock import NOW

pytestmark = pytest.mark.usefixtures("fixed_now")  # "now" is clock.NOW: fixed data

DAY = (NOW - timedelta(days=3)).date()


@pytest.fixture
def sandbox() -> Iterator[BskySandbox]:
    cands = list(load_registry("2027").selected())
    cands[1] = replace(cands[1], bluesky_person=("jordanbardella.bsky.social",))
    with BskySandbox(cands, posts_per_day=600, seed=3) as server:
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
    assert status == 200 and set(body) >= {"posts", "cursor", "hitsTotal"}
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
        q='"Jordan Bardella"', since=f"{DAY}", limit=5, cursor=body["cursor"]))
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
    seen, cursor = [], None
    while True:
        page = client.app.bsky.feed.search_posts(models.AppBskyFeedSearchPosts.Params(
            q="Bardella", since=f"{DAY}", until=f"{DAY + timedelta(days=1)}", limit=8,
            cursor=cursor))
        seen += page.posts
        cursor = page.cursor
        if not cursor:
            break
    assert len(seen) == 20 < page.hits_total


def test_lang_and_from_filters(sandbox: BskySandbox) -> None:
    client = _login(sandbox)
    en = client.app.bsky.feed.search_posts(models.AppBskyFeedSearchPosts.Params(
        q="Bardella", since=f"{DAY}", until=f"{DAY + timedelta(days=1)}", lang="en", limit=100))
    assert en.posts and all(p.record.langs == ["en"] for p in en.posts)
    own = client.app.bsky.feed.search_posts(models.AppBskyFeedSearchPosts.Params(
        q="from:jordanbardella.bsky.social", since=f"{DAY}", until=f"{DAY + timedelta(days=1)}",
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
    assert int(headers["ratelimit-reset"]) >= int(NOW.timestamp()) + 29


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
        q="Bardella", since=f"{DAY}", until=f"{DAY + timedelta(days=1)}", limit=10)
    uris = [p.uri for p in client.app.bsky.feed.search_posts(params).posts]
    sandbox.delete(uris[0])
    got = client.app.bsky.feed.get_posts(models.AppBskyFeedGetPosts.Params(uris=uris))
    assert [p.uri for p in got.posts] == uris[1:]
    assert uris[0] not in [p.uri for p in client.app.bsky.feed.search_posts(params).posts]
    old = sandbox.generator.day(DAY - timedelta(days=3))
    assert any(p.deleted_at for p in old)  # some posts are deleted by their authors over time
