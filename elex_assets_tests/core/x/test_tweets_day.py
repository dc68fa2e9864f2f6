"""The day's tweets file refreshed from what was written: the summary beside it, and when
it is trusted (the file unchanged) or not (rewritten by anything else)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import polars as pl

from elex_assets.core import layout
from elex_assets.core.lake import Lake
from elex_assets.core.registry import load_registry
from elex_assets.core.x.collect import manifest_key
from elex_assets.core.x.compliance import apply_removals, drop_removed
from elex_assets.core.x.tweets_day import read_summary, refresh_day
from elex_assets_tests.core.x.test_normalise import DAY, page, tweet

CANDIDATES = load_registry("2022").candidates
TARGET = layout.clean_tweets_key(DAY)


def land(lake: Lake, name: str, posts: list[dict]) -> str:
    key = f"{layout.raw_tweets_prefix(DAY)}{name}.jsonl.gz"
    lake.write_bytes(key, gzip.compress(page("2022-04-09T13:00:00Z", posts) + b"\n"))
    lake.write_bytes(manifest_key(key), json.dumps({"posts": len(posts)}).encode())
    return key


def test_nothing_new_reads_and_writes_nothing_and_reports_the_same(tmp_path: Path) -> None:
    lake = Lake.from_url(str(tmp_path))
    keys = [land(lake, "a", [tweet("10", "Macron", "1"), tweet("11", "Zemmour", "1")])]
    first = refresh_day(lake, keys, CANDIDATES, DAY, TARGET, set())
    assert first.written and first.summary.rows == 2 == lake.read_parquet(TARGET).height
    version = lake.version(TARGET)
    keys.append(land(lake, "b", []))  # a refresh that found nothing lands an empty file
    second = refresh_day(lake, keys, CANDIDATES, DAY, TARGET, set())
    assert not second.written and lake.version(TARGET) == version
    assert second.summary.rows == 2 and second.summary.preview_md == first.summary.preview_md
    keys.append(land(lake, "c", [tweet("12", "Macron encore", "1")]))
    third = refresh_day(lake, keys, CANDIDATES, DAY, TARGET, set())
    assert third.written and third.summary.rows == 3 == lake.read_parquet(TARGET).height


def test_a_file_rewritten_elsewhere_makes_the_summary_stale_not_wrong(tmp_path: Path) -> None:
    lake = Lake.from_url(str(tmp_path))
    keys = [land(lake, "a", [tweet("10", "Macron", "1"), tweet("11", "Zemmour", "1")])]
    refresh_day(lake, keys, CANDIDATES, DAY, TARGET, set())
    assert read_summary(lake, DAY) is not None
    assert drop_removed(lake, TARGET, {"11"}) == 1  # a compliance run rewrites the file
    assert read_summary(lake, DAY) is None
    again = refresh_day(lake, keys, CANDIDATES, DAY, TARGET, {"11"})
    assert not again.written and again.summary.rows == 1  # the file itself, not the summary
    assert again.summary.accounting and again.summary.accounting["dropped"] == {
        "removed_by_compliance": 1}


def test_a_compliance_run_keeps_the_summary_true(tmp_path: Path) -> None:
    lake = Lake.from_url(str(tmp_path))
    keys = [land(lake, "a", [tweet("10", "Macron", "1"), tweet("11", "Zemmour", "1")])]
    refresh_day(lake, keys, CANDIDATES, DAY, TARGET, set())
    assert apply_removals(lake, [DAY], {"11": {}})[2] == {DAY.isoformat(): 1}
    summary = read_summary(lake, DAY)
    assert summary is not None and summary.rows == 1 == lake.read_parquet(TARGET).height
    assert "Zemmour" not in summary.preview_md
    assert summary.accounting and summary.accounting["rows"] == 1


def test_new_removals_are_applied_without_renormalising(tmp_path: Path) -> None:
    lake = Lake.from_url(str(tmp_path))
    keys = [land(lake, "a", [tweet("10", "Macron", "1"), tweet("11", "Zemmour", "1")])]
    refresh_day(lake, keys, CANDIDATES, DAY, TARGET, set())
    done = refresh_day(lake, keys, CANDIDATES, DAY, TARGET, {"10": {}})
    assert done.written and done.removed == 1
    assert lake.read_parquet(TARGET)["id"].to_list() == ["11"]
    assert read_summary(lake, DAY).rows == 1  # type: ignore[union-attr]
    assert not refresh_day(lake, keys, CANDIDATES, DAY, TARGET, {"10": {}}).written


def test_a_damaged_summary_is_ignored(tmp_path: Path) -> None:
    lake = Lake.from_url(str(tmp_path))
    keys = [land(lake, "a", [tweet("10", "Macron", "1")])]
    refresh_day(lake, keys, CANDIDATES, DAY, TARGET, set())
    lake.write_bytes(layout.tweets_summary_key(DAY), b"{not json")
    assert read_summary(lake, DAY) is None
    done = refresh_day(lake, keys, CANDIDATES, DAY, TARGET, set())
    assert not done.written and done.summary.rows == 1  # the file's own fingerprint matched
    assert pl.read_parquet(tmp_path / TARGET).height == 1
    assert read_summary(lake, DAY) is not None
