"""Every post of a day's raw Bluesky pages is a row of ``bsky_posts`` or a drop counted by
reason, and the independent recount of ``bsky_posts_accounted`` agrees."""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path
from typing import Any

from elex_assets.core import layout
from elex_assets.core.bsky.normalise import normalise_day
from elex_assets.core.lake import Lake
from elex_assets.core.registry import load_registry
from elex_assets.core.x.accounting import check_accounting, read_accounting, recount_raw

DAY = date(2026, 11, 20)
CANDIDATES = load_registry("2027").candidates
NAME = CANDIDATES[0].name


def post(rkey: str, created: str | None, indexed: str | None = None, **extra: Any) -> dict:
    out: dict[str, Any] = {
        "uri": f"at://did:plc:author/app.bsky.feed.post/{rkey}", "cid": f"cid{rkey}",
        "author": {"did": "did:plc:author", "handle": "someone.bsky.social"},
        "record": {"$type": "app.bsky.feed.post", "text": f"{NAME} en meeting", "langs": ["fr"]},
        "indexedAt": indexed, **extra,
    }
    if created:
        out["record"]["createdAt"] = created
    return out


def land(lake: Lake, *pages: list[dict], collected_at: str = "2026-11-20T23:00:00+00:00") -> list[str]:
    lines = [json.dumps({"collected_at": collected_at, "request": {"q": f'"{NAME}"'},
                         "response": {"posts": posts}}) for posts in pages]
    key = f"{layout.raw_bsky_prefix(DAY)}20261120T230000-run.jsonl.gz"
    lake.write_bytes(key, gzip.compress("\n".join(lines).encode()))
    return [key]


def normalise(lake: Lake, keys: list[str]):  # noqa: ANN201
    target = layout.clean_bsky_key(DAY)
    result = normalise_day(lake, keys, CANDIDATES, DAY, target)
    count = recount_raw(lake, keys, entries_field="posts", id_field="uri")
    return result, count, read_accounting(lake, target), lake.read_parquet(target)


def test_posts_outside_the_day_and_without_time_are_dropped_and_counted(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path))
    keys = land(lake, [
        post("a", "2026-11-20T10:00:00.000Z", "2026-11-20T10:00:01.000Z"),
        # created the day before, indexed on the day: searchPosts placed it here, kept
        post("b", "2026-11-19T23:59:00.000Z", "2026-11-20T00:00:05.000Z"),
        post("c", "2026-11-18T10:00:00.000Z", "2026-11-18T10:00:01.000Z"),  # another day
        post("d", None, None),  # no time at all
    ], [post("a", "2026-11-20T10:00:00.000Z", "2026-11-20T10:00:01.000Z")])  # a duplicate
    result, count, acc, table = normalise(lake, keys)
    assert sorted(table["id"].str.split("/").list.last()) == ["a", "b"]
    assert result.read == 5 and result.duplicates == 1
    assert acc is not None and acc.dropped == {"outside_day": 1, "unparsable": 1}
    assert acc.raw_unique == count.posts == 4 and acc.rows == 2
    # Bluesky: a post without a readable time is the author's record, a counted drop.
    passed, why = check_accounting(count, table.height, acc, table="bsky_posts",
                                   unreadable="no URI", failing=("no_id",))
    assert passed and why == ("4 unique raw posts = 2 rows + 2 counted drops "
                              "(1 outside_day, 1 unparsable)")
    # X: a post always carries its time in its id, so one without is a fault.
    passed, why = check_accounting(count, table.height, acc)
    assert not passed and why.startswith("1 unparsable post(s) among 4 raw posts")


def test_a_post_without_uri_is_counted_and_fails_the_check(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path))
    orphan = post("z", "2026-11-20T11:00:00.000Z")
    del orphan["uri"]
    keys = land(lake, [post("a", "2026-11-20T10:00:00.000Z"), orphan])
    result, count, acc, table = normalise(lake, keys)
    assert table.height == 1 and result.read == 2
    assert acc is not None and acc.dropped == {"no_id": 1}
    assert count.posts == acc.raw_unique == 2
    passed, why = check_accounting(count, table.height, acc, table="bsky_posts")
    assert not passed and "1 no_id post(s)" in why


def test_a_clean_day_balances(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path))
    keys = land(lake, [post(str(i), f"2026-11-20T{i:02d}:00:00.000Z") for i in range(24)])
    _, count, acc, table = normalise(lake, keys)
    assert acc is not None and acc.dropped == {} and table.height == 24
    assert check_accounting(count, table.height, acc, table="bsky_posts") == (
        True, "24 unique raw posts = 24 rows + 0 counted drops")
    assert table["candidates"].list.len().min() >= 1


def test_outline_tags_and_bridged_full_text_are_kept_and_matched(tmp_path: Path) -> None:
    """record.tags (hashtags set outside the text) reach hashtags; a post bridged from the
    fediverse, cut at 300 characters, keeps its whole text (bridgyOriginalText, HTML) as
    text, and a candidate named only past the cut is matched."""
    lake = Lake(str(tmp_path))
    tail = f"… et pour finir, {NAME} a répondu sur l'école &amp; la santé."
    cut = ("Long fil repris de Mastodon sur le débat de ce soir. " * 6)[:299] + "…"
    bridged = post("br", "2026-11-20T09:00:00.000Z", "2026-11-20T09:00:01.000Z")
    bridged["record"].update(text=cut, tags=["Presidentielle2027", "#debat"],
                             bridgyOriginalText=f"<p>{cut[:-1]}</p><p>{tail}</p>")
    plain = post("pl", "2026-11-20T09:30:00.000Z", "2026-11-20T09:30:01.000Z")
    plain["record"]["tags"] = ["Presidentielle2027"]
    keys = land(lake, [bridged, plain])
    _, _, _, table = normalise(lake, keys)
    rows = {r["id"].rsplit("/", 1)[-1]: r for r in table.to_dicts()}
    assert rows["br"]["hashtags"] == ["Presidentielle2027", "debat"]
    assert rows["pl"]["hashtags"] == ["Presidentielle2027"]
    assert rows["br"]["text"].endswith("l'école & la santé.") and "<p>" not in rows["br"]["text"]
    assert rows["br"]["candidates"] == [CANDIDATES[0].id]
