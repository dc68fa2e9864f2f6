"""Damaged lake files are named, and healed where the lake can heal itself."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from elex_assets.core import layout
from elex_assets.core.lake import Lake
from elex_assets.core.registry import load_registry
from elex_assets.core.x.client import RetryPolicy, XClient
from elex_assets.core.x.collect import (
    RawManifestError,
    collect_day,
    manifest_key,
    raw_keys,
    read_manifests,
)
from elex_assets.core.x.normalise import RawFileError, normalise_day
from elex_assets.core.x.query import build_queries
from elex_assets.sandbox.x_server import XSandbox
from elex_assets_tests.x_helpers import expected_ids

DAY = date(2022, 4, 9)
START = datetime(2022, 4, 9, tzinfo=UTC)
END = START + timedelta(days=1)


@pytest.fixture
def candidates():  # noqa: ANN201
    return load_registry("2022").candidates


@pytest.fixture
def queries():  # noqa: ANN201
    return build_queries(load_registry("2022").selected()[:4], max_length=1024)


@pytest.fixture
def lake(tmp_path) -> Lake:  # noqa: ANN001
    return Lake.from_url(str(tmp_path / "lake"))


@pytest.fixture
def client(x_sandbox: XSandbox) -> XClient:
    return XClient(
        "sandbox-token-faults", x_sandbox.base_url, RetryPolicy(max_attempts=2, backoff_base=0.01))


def _truncate_at_flush_point(lake: Lake, key: str) -> None:
    """Cut a raw file the way an interrupted copy does: a valid deflate prefix, no end."""
    lines = gzip.decompress(lake.read_bytes(key)).splitlines(keepends=True)
    import zlib

    comp = zlib.compressobj(5, zlib.DEFLATED, 31)
    head = comp.compress(b"".join(lines[: len(lines) // 2])) + comp.flush(zlib.Z_SYNC_FLUSH)
    lake.write_bytes(key, head)


def _clean_ids(x_sandbox: XSandbox, queries) -> set[str]:  # noqa: ANN001
    return set().union(*expected_ids(x_sandbox, queries, START, END).values())


def test_a_truncated_raw_file_is_named_and_mode_full_heals_the_day(
    x_sandbox, client, lake, queries, candidates
) -> None:
    collect_day(client, lake, queries, DAY, endpoint="all", run_id="one")
    (key,) = raw_keys(lake, DAY)
    _truncate_at_flush_point(lake, key)
    # Its lines decompress cleanly up to the cut: only the missing end tells.
    with pytest.raises(RawFileError, match=rf"{key}.*truncated gzip.*mode: full"):
        normalise_day(lake, [key], candidates, DAY, layout.clean_tweets_key(DAY))
    lake.delete(manifest_key(key))  # without its manifest, collection names it too
    with pytest.raises(RawManifestError, match=rf"{key}.*mode: full"):
        collect_day(client, lake, queries, DAY, endpoint="all", run_id="two")

    healed = collect_day(client, lake, queries, DAY, endpoint="all", run_id="three", mode="full")
    assert key in healed.replaced
    keys = raw_keys(lake, DAY)
    assert len(keys) == 1 and keys[0].endswith("-three.jsonl.gz")
    normalise_day(lake, keys, candidates, DAY, layout.clean_tweets_key(DAY))
    table = lake.read_parquet(layout.clean_tweets_key(DAY))
    assert set(table["id"]) == _clean_ids(x_sandbox, queries)


def test_an_unreadable_day_table_is_replaced_not_read(
    x_sandbox, client, lake, queries, candidates
) -> None:
    collect_day(client, lake, queries, DAY, endpoint="all")
    target = layout.clean_tweets_key(DAY)
    lake.write_bytes(target, b"PAR1 this is not a parquet file")
    rows = normalise_day(lake, raw_keys(lake, DAY), candidates, DAY, target)
    table = lake.read_parquet(target)
    assert rows == table.height and set(table["id"]) == _clean_ids(x_sandbox, queries)


@pytest.mark.parametrize("damage", [b"", b"{not json", b'{"run_id": "x"}', b"[1, 2]"])
def test_a_broken_manifest_is_rebuilt_from_its_raw_file(
    x_sandbox, client, lake, queries, damage
) -> None:
    first = collect_day(client, lake, queries, DAY, endpoint="all", page_size=100, run_id="one")
    (key,) = raw_keys(lake, DAY)
    good = read_manifests(lake, DAY)[0]
    lake.write_bytes(manifest_key(key), damage)
    (rebuilt,) = read_manifests(lake, DAY)
    assert rebuilt.refresh_id == good.refresh_id and rebuilt.coverage() == good.coverage()
    # Every mode runs again (a past day in auto mode is refreshed whole).
    for mode in ("fill", "auto", "full"):
        result = collect_day(client, lake, queries, DAY, endpoint="all", mode=mode)
        assert result.posts in (0, first.posts)


def test_a_stream_file_without_its_manifest_is_read(
    x_sandbox, client, lake, queries, candidates
) -> None:
    collect_day(client, lake, queries, DAY, endpoint="all", run_id="one")
    post = {"id": "1512345678901234567", "text": "Macron en direct", "author_id": "42",
            "created_at": "2022-04-09T12:00:00.000Z"}
    line = {"run_id": "s1", "refresh_id": None, "day": DAY.isoformat(), "endpoint": "stream",
            "open_end": True, "collected_at": "2022-04-09T12:00:01+00:00",
            "request": {"endpoint": "stream", "query": "macron"}, "summary": None,
            "response": {"data": [post], "includes": {}}}
    stream_key = layout.raw_tweets_key(DAY, datetime(2022, 4, 9, 12, tzinfo=UTC), "s1-stream")
    lake.write_bytes(stream_key, gzip.compress(json.dumps(line).encode() + b"\n"))
    manifests = {m.raw_key: m for m in read_manifests(lake, DAY)}
    assert manifests[stream_key].endpoint == "stream" and manifests[stream_key].pages == []
    fill = collect_day(client, lake, queries, DAY, endpoint="all", mode="fill")
    assert fill.posts == 0
    normalise_day(lake, raw_keys(lake, DAY), candidates, DAY, layout.clean_tweets_key(DAY))
    ids = set(pl.read_parquet(lake.uri(layout.clean_tweets_key(DAY)))["id"])
    assert post["id"] in ids
