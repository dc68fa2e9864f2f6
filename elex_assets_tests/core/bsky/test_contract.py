"""Contract test: the recorded Bluesky exchanges (recordings/bsky/), replayed on loopback,
through the atproto SDK, elex's client, collector and normaliser."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from elex_assets.core import layout
from elex_assets.core.bsky.api import BskyAuthError, BskyPolicy
from elex_assets.core.bsky.client import BskyClient
from elex_assets.core.bsky.collect import (
    collect_day,
    incomplete_windows,
    raw_keys,
    read_manifests,
)
from elex_assets.core.bsky.normalise import iter_raw, normalise_day
from elex_assets.core.bsky.query import BskyQuery
from elex_assets.core.lake import Lake
from elex_assets.core.registry import load_registry
from elex_assets.core.x.accounting import check_accounting, recount_raw
from elex_assets_tests.bsky_replay import BskyReplay, exchange, recorded_posts

DAY = date(2025, 5, 19)  # the day of every post of the 2025 searchPosts recording
NOW = datetime(2025, 5, 20, 6, tzinfo=UTC)
QUERY = BskyQuery("redistricting", None, ("recorded",))
POLICY = BskyPolicy(max_attempts=2, backoff_base=0.01, backoff_max=0.02)


def _client(replay: BskyReplay) -> BskyClient:
    return BskyClient("bskyr.bsky.social", "xxxx-xxxx-xxxx-xxxx", replay.base_url, POLICY)


@pytest.fixture
def replay() -> Iterator[BskyReplay]:
    with BskyReplay() as server:
        yield server


def test_the_recorded_pages_parse_as_sent() -> None:
    """2025: no hitsTotal, an offset cursor; 2023: hitsTotal, a cursor on a short page."""
    with BskyReplay(verbatim=True) as replay:
        page = _client(replay).search("redistricting", since="2025-05-19T00:00:00.000Z",
                                      until="2025-05-20T00:00:00.000Z")
        assert page.raw == exchange("bskyr__vcr__f_search")["body"].encode()
        assert (len(page.posts), page.cursor, page.hits_total) == (25, "25", None)
    with BskyReplay("bskyr__httptest2__searchPosts", verbatim=True) as replay:
        page = _client(replay).search("redistricting", since="2023-12-13T00:00:00.000Z",
                                      until="2023-12-15T00:00:00.000Z")
        assert (len(page.posts), page.cursor, page.hits_total) == (23, "25", 908)


@pytest.mark.parametrize(("page_size", "hidden"), [(100, 190), (10, 25)])
def test_a_read_that_meets_an_empty_page_with_a_cursor_gets_every_post(
    tmp_path: Path, page_size: int, hidden: int
) -> None:
    """The service cuts a page, then removes what it cannot show: after the 10 newest
    posts, a burst of taken-down hits makes a page empty, with a cursor. Every recorded
    post still lands (elex stopped there: 10 of 25, every check green)."""
    lake = Lake.from_url(str(tmp_path))
    with BskyReplay(hidden=hidden, hidden_after=10) as replay:
        result = collect_day(_client(replay), lake, [QUERY], DAY, now=NOW, window_minutes=1440,
                             page_size=page_size)
        pages = [json.loads(r["params"]["cursor"][0]) if "cursor" in r["params"] else 0
                 for r in replay.requests if r["path"].endswith("searchPosts")]
    landed = {post["uri"] for _, post in iter_raw(lake, raw_keys(lake, DAY))}
    assert landed == {p["uri"] for p in recorded_posts("bskyr__vcr__f_search")}
    assert result.empty_pages_with_cursor >= 1 and result.stops == {}
    offsets = list(range(0, 10 + hidden + 15, page_size))
    assert pages[:len(offsets)] == offsets  # every offset once, empty pages included
    assert set(pages[len(offsets):]) <= {0}  # then a probe for anything older
    assert read_manifests(lake, DAY)[0].complete


def test_the_recorded_posts_normalise_every_one_accounted(tmp_path: Path) -> None:
    """langs absent, link facets, external/image/record embeds, createdAt with offsets or
    microseconds: 25 posts, 25 rows, none dropped."""
    lake = Lake.from_url(str(tmp_path))
    with BskyReplay() as replay:
        collect_day(_client(replay), lake, [QUERY], DAY, now=NOW, window_minutes=1440)
    keys = raw_keys(lake, DAY)
    target = layout.clean_bsky_key(DAY)
    result = normalise_day(lake, keys, load_registry("2027").candidates, DAY, target)
    table = lake.read_parquet(target)
    assert result.rows == table.height == 25 and result.accounting.dropped == {}
    passed, _ = check_accounting(recount_raw(lake, keys, "posts", "uri"), table.height,
                                 result.accounting, failing=("no_id",))
    assert passed
    posts = {p["uri"]: p for p in recorded_posts("bskyr__vcr__f_search")}
    no_langs = [u for u, p in posts.items() if not p["record"].get("langs")]
    assert no_langs and table.filter(table["id"].is_in(no_langs))["lang"].is_null().all()
    linked = {f["uri"] for p in posts.values() for facet in p["record"].get("facets", [])
              for f in facet["features"] if f["$type"].endswith("#link")}
    assert linked <= set(table["urls"].explode().drop_nulls())
    assert set(table["post_type"]) == {"original", "reply", "quote"}


@pytest.mark.parametrize("name", ["bskyr__vcr__f_getposts", "bskyr__httptest2__getPosts"])
def test_get_posts_answers_the_recorded_post(name: str) -> None:
    uri = exchange(name)["params"]["uris"][0]
    with BskyReplay(getposts=name) as replay:
        client = _client(replay)
        assert [p["uri"] for p in client.get_posts([uri])] == [uri]
        assert client.get_posts(["at://did:plc:gone/app.bsky.feed.post/x"]) == []


def test_a_get_posts_answer_for_other_posts_is_refused(replay: BskyReplay) -> None:
    """The recorded answer, replayed for URIs it does not hold (a stale cache): were it
    believed, every asked post would be judged deleted."""
    from elex_assets.core.bsky.api import BskyAnswerMismatch

    uri = exchange("bskyr__vcr__f_getposts")["params"]["uris"][0]
    replay.get_posts = lambda params: replay.__class__.get_posts(  # type: ignore[method-assign]
        replay, {"uris": [uri]})
    with pytest.raises(BskyAnswerMismatch, match="not asked"):
        _client(replay).get_posts(["at://did:plc:other/app.bsky.feed.post/a"])


def test_the_recorded_login_refusal_names_the_variable() -> None:
    with BskyReplay(login="bskyr__vcr__repo_auth_cache") as replay, \
            pytest.raises(BskyAuthError, match="BSKY_APP_PASSWORD"):
        _client(replay).login()


def test_a_cursor_handed_back_is_stopped_counted_and_the_rest_read_by_the_probe(
    tmp_path: Path,
) -> None:
    """A faulty answer hands the same cursor back: the sweep stops (no loop) and the reason
    is counted; the probe for what is older than the posts read gets the rest, so every
    recorded post lands and no window is left unread."""
    lake = Lake.from_url(str(tmp_path))
    with BskyReplay(stuck_cursor="20") as replay:
        result = collect_day(_client(replay), lake, [QUERY], DAY, now=NOW, window_minutes=1440,
                             page_size=10)
        asked = sum(1 for r in replay.requests if r["path"].endswith("searchPosts"))
    assert result.stops == {"cursor_repeat": 1} and asked < 10
    landed = {post["uri"] for _, post in iter_raw(lake, raw_keys(lake, DAY))}
    assert landed == {p["uri"] for p in recorded_posts("bskyr__vcr__f_search")}
    assert incomplete_windows(lake, DAY) == []
