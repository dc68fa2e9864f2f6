"""Contract test: every recorded X exchange, replayed on loopback, through tweepy and the normaliser.

The recordings asked for no ``tweet.fields`` (posts hold only ``id`` and ``text``);
none may be lost: each unique post becomes a row of its day or is counted as a
drop with a reason, and its creation time comes from its snowflake id.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from elex_assets.core import layout
from elex_assets.core.lake import Lake
from elex_assets.core.registry import load_registry
from elex_assets.core.x.accounting import (
    check_accounting,
    read_accounting,
    recount_raw,
    snowflake_datetime,
)
from elex_assets.core.x.client import RetryPolicy, XApiError, XClient
from elex_assets.core.x.collect import collect_day, raw_keys
from elex_assets.core.x.normalise import normalise_day
from elex_assets.core.x.query import XQuery
from elex_assets_tests.x_replay import XReplay, recorded_exchanges, recorded_posts

QUERY = XQuery("Tweepy", ("Tweepy",), ("tweepy",))
DAY_2026 = date(2026, 11, 20)
STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) ")


@pytest.fixture
def replay() -> Iterator[XReplay]:
    with XReplay() as server:
        yield server


def _collect(replay: XReplay, lake: Lake, endpoint: str, day: date) -> None:
    client = XClient("tok", replay.base_url, RetryPolicy(backoff_base=0.01))
    now = datetime(day.year, day.month, day.day, 23, tzinfo=UTC) + timedelta(hours=2)
    collect_day(client, lake, [QUERY], day, endpoint=endpoint, now=now, mode="full")


def _normalise(lake: Lake, day: date) -> tuple[pl.DataFrame, object]:
    target = layout.clean_tweets_key(day)
    normalise_day(lake, raw_keys(lake, day), load_registry("2022").candidates, day, target)
    with lake.local_copy(target) as path:
        table = pl.read_parquet(path)
    return table, read_accounting(lake, target)


def test_the_replay_serves_every_recorded_exchange(replay: XReplay, tmp_path) -> None:  # noqa: ANN001
    lake = Lake.from_url(str(tmp_path))
    for endpoint in ("recent", "all"):
        _collect(replay, lake, endpoint, DAY_2026)
    served = {(r["path"], r["params"].get("next_token")) for r in replay.requests}
    for ex in recorded_exchanges():
        assert any(path == ex["endpoint"] for path, _ in served)
        assert (ex["endpoint"], ex["next_token"]) in served  # the page after it was asked for
    assert replay.served_posts() == sum(ex["result_count"] for ex in recorded_exchanges())


@pytest.mark.parametrize(("endpoint", "unique"), [("recent", 40), ("all", 38)])
def test_every_recorded_post_is_a_row_or_counted(
    replay: XReplay, tmp_path, endpoint: str, unique: int  # noqa: ANN001
) -> None:
    lake = Lake.from_url(str(tmp_path))
    _collect(replay, lake, endpoint, DAY_2026)
    posts = recorded_posts(endpoint)
    assert len(posts) == unique

    # A day of 2026: every post (2021-22, by its id) is outside the day, and counted so.
    table, acc = _normalise(lake, DAY_2026)
    assert table.height == 0
    assert acc.raw_unique == unique and acc.dropped == {"outside_day": unique}
    count = recount_raw(lake, raw_keys(lake, DAY_2026))
    assert count.posts == unique
    assert check_accounting(count, table.height, acc)[0]

    # The day the most posts were written on: those are rows, timed from their ids.
    days = pl.Series([snowflake_datetime(i).date() for i in posts]).value_counts(sort=True)
    busiest = days[0, 0]
    lake2 = Lake.from_url(str(tmp_path / "busiest"))
    _collect(replay, lake2, endpoint, busiest)
    table, acc = _normalise(lake2, busiest)
    assert table.height == days[0, 1] > 0
    assert acc.rows + acc.dropped["outside_day"] == unique
    assert acc.created_at_from_id == table.height
    assert set(table["id"]) <= set(posts)
    assert table["text"].to_list() == [posts[i]["text"] for i in table["id"]]
    # tweepy's own test posts carry their creation time in their text: the id agrees.
    for post_id, created in table.select("id", "created_at").iter_rows():
        if m := STAMP.match(posts[post_id]["text"]):
            written = datetime.fromisoformat(m.group(1)).replace(tzinfo=UTC)
            assert abs((created - written).total_seconds()) < 5
    edits = dict(zip(table["id"], table["edit_history_tweet_ids"], strict=True))
    for post_id, history in edits.items():
        assert (None if history is None else history.to_list()) == posts[post_id].get(
            "edit_history_tweet_ids")


def test_an_injected_unparsable_post_fails_the_accounting_check(
    replay: XReplay, tmp_path  # noqa: ANN001
) -> None:
    replay.inject("recent", {"id": "not-a-snowflake", "text": "no time, no id"})
    lake = Lake.from_url(str(tmp_path))
    _collect(replay, lake, "recent", DAY_2026)
    table, acc = _normalise(lake, DAY_2026)
    count = recount_raw(lake, raw_keys(lake, DAY_2026))
    assert count.posts == 41
    assert acc.dropped == {"outside_day": 40, "unparsable": 1}
    passed, why = check_accounting(count, table.height, acc)
    assert not passed and "1 unparsable" in why


def test_rows_lost_without_a_count_fail_the_check(replay: XReplay, tmp_path) -> None:  # noqa: ANN001
    lake = Lake.from_url(str(tmp_path))
    _collect(replay, lake, "all", DAY_2026)
    _, acc = _normalise(lake, DAY_2026)
    acc.dropped["outside_day"] -= 3  # as if three posts had vanished silently
    passed, why = check_accounting(recount_raw(lake, raw_keys(lake, DAY_2026)), 0, acc)
    assert not passed and "3 posts are unaccounted for" in why


def test_an_unknown_next_token_is_refused_like_x(replay: XReplay) -> None:
    client = XClient("tok", replay.base_url, RetryPolicy(backoff_base=0.01))
    with pytest.raises(XApiError, match="HTTP 400.*next_token"):
        client.search("recent", "Tweepy", next_token="b26v89c19zqg8o3fnotarealtokenatall00000000")


def test_a_file_without_accounting_passes_only_when_there_is_nothing_to_account() -> None:
    from elex_assets.core.x.accounting import RawCount

    assert check_accounting(RawCount(0, 0), 0, None)[0]
    passed, why = check_accounting(RawCount(3, 0), 3, None)
    assert not passed and "re-materialise" in why
