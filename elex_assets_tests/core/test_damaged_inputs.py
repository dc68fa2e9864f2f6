"""Every damaged input is named and healed, never read as an empty day (issue 25, item 2).

A zero-byte raw file, a raw file with a cut JSON line and a ``tweets`` file
overwritten in place (same size, same mtime) each get the treatment truncation
gets: the file is named, and ``mode: full`` (raw) or the next refresh (clean) heals
the day.
"""

from __future__ import annotations

import gzip
import os
import re
from datetime import UTC, date, datetime, timedelta

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
from elex_assets.core.x.normalise import RawFileError
from elex_assets.core.x.query import build_queries
from elex_assets.core.x.tweets_day import footer_digest, read_summary, refresh_day
from elex_assets.sandbox.x_server import XSandbox
from elex_assets_tests.x_helpers import expected_ids

DAY = date(2022, 4, 9)
START = datetime(2022, 4, 9, tzinfo=UTC)
END = START + timedelta(days=1)
REGISTRY = load_registry("2022")
QUERIES = build_queries(REGISTRY.selected()[:4], max_length=1024)
TARGET = layout.clean_tweets_key(DAY)


@pytest.fixture
def lake(tmp_path) -> Lake:  # noqa: ANN001
    return Lake.from_url(str(tmp_path / "lake"))


@pytest.fixture
def client(x_sandbox: XSandbox) -> XClient:
    return XClient(
        "sandbox-token-faults", x_sandbox.base_url, RetryPolicy(max_attempts=2, backoff_base=0.01))


def _refresh(lake: Lake):  # noqa: ANN202
    return refresh_day(lake, raw_keys(lake, DAY), REGISTRY.candidates, DAY, TARGET, set())


def _ids(x_sandbox: XSandbox) -> set[str]:
    return set().union(*expected_ids(x_sandbox, QUERIES, START, END).values())


def _empty(lake: Lake, key: str) -> None:
    lake.write_bytes(key, b"")


def _cut_a_line(lake: Lake, key: str) -> None:
    """A whole gzip file whose third line stops halfway (a writer cut mid-line)."""
    lines = gzip.decompress(lake.read_bytes(key)).splitlines(keepends=True)
    assert len(lines) >= 3
    lines[2] = lines[2][: len(lines[2]) // 2] + b"\n"
    lake.write_bytes(key, gzip.compress(b"".join(lines)))


@pytest.mark.parametrize(
    ("damage", "message"),
    [(_empty, "empty file (0 bytes)"), (_cut_a_line, "line 3 is not valid JSON")],
    ids=["zero-bytes", "cut-json-line"],
)
def test_a_damaged_raw_file_is_named_and_mode_full_heals_the_day(
    x_sandbox, client, lake, damage, message  # noqa: ANN001
) -> None:
    """Before: a zero-byte file gave rc=0 and 0 of 1,695 rows; a cut line failed with
    polars' ComputeError naming no file."""
    collect_day(client, lake, QUERIES, DAY, endpoint="all", page_size=100, run_id="one")
    assert _refresh(lake).summary.rows > 0
    (key,) = raw_keys(lake, DAY)
    damage(lake, key)
    with pytest.raises(RawFileError, match=rf"{re.escape(lake.uri(key))}: {re.escape(message)}.*mode: full"):
        _refresh(lake)
    assert lake.read_parquet(TARGET).height > 0  # the day kept, not emptied
    lake.delete(manifest_key(key))  # without its manifest, collection names it too
    with pytest.raises(RawManifestError, match=rf"{re.escape(lake.uri(key))}: damaged raw file.*mode: full"):
        read_manifests(lake, DAY)

    healed = collect_day(client, lake, QUERIES, DAY, endpoint="all", run_id="two", mode="full")
    assert key in healed.replaced
    done = _refresh(lake)
    assert set(lake.read_parquet(TARGET)["id"]) == _ids(x_sandbox)
    assert done.summary.rows == len(_ids(x_sandbox))


def test_a_day_file_overwritten_in_place_is_not_trusted_and_heals(
    x_sandbox, client, lake  # noqa: ANN001
) -> None:
    """Before: garbage keeping the recorded size and mtime was trusted by the summary and
    left unreadable."""
    collect_day(client, lake, QUERIES, DAY, endpoint="all", run_id="one")
    first = _refresh(lake)
    path = lake.uri(TARGET)
    stat = os.stat(path)
    with open(path, "r+b") as handle:  # same size, then the same mtime
        handle.write(os.urandom(stat.st_size))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert lake.version(TARGET) == first.summary.version  # what the summary recorded
    assert footer_digest(path) is None

    assert read_summary(lake, DAY) is None  # the footer check refuses it
    again = _refresh(lake)
    assert again.written
    assert set(lake.read_parquet(TARGET)["id"]) == _ids(x_sandbox)
    assert read_summary(lake, DAY) is not None  # and the new file is trusted again


def test_a_valid_summary_still_spares_the_work(client, lake) -> None:  # noqa: ANN001
    collect_day(client, lake, QUERIES, DAY, endpoint="all", run_id="one")
    _refresh(lake)
    assert not _refresh(lake).written  # nothing new: neither file nor raw pages rewritten


# ---- Bluesky raw pages: the same treatment -------------------------------------------

BSKY_DAY = date(2026, 11, 20)
BSKY_NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)  # "now" passed in: no wall clock


@pytest.mark.parametrize(
    ("damage", "message"),
    [(_empty, "empty file (0 bytes)"), (_cut_a_line, "line 3 is not valid JSON")],
    ids=["zero-bytes", "cut-json-line"],
)
def test_a_damaged_bluesky_raw_file_is_named_and_mode_full_heals_the_day(
    lake, damage, message  # noqa: ANN001
) -> None:
    """Before: a zero-byte Bluesky page file was read as a day without posts."""
    from elex_assets.core.bsky.client import BskyClient, BskyPolicy
    from elex_assets.core.bsky.collect import collect_day as bsky_collect
    from elex_assets.core.bsky.collect import raw_keys as bsky_raw_keys
    from elex_assets.core.bsky.collect import read_manifests as bsky_manifests
    from elex_assets.core.bsky.normalise import normalise_day as bsky_normalise
    from elex_assets.core.bsky.query import build_queries as bsky_queries
    from elex_assets.core.raw_pages import DamagedRawFile
    from elex_assets.sandbox.bsky_server import BskySandbox

    registry = load_registry("2027")
    queries = bsky_queries(registry.selected()[:3])
    target = layout.clean_bsky_key(BSKY_DAY)
    with BskySandbox(registry.selected()[:3], posts_per_day=300, seed=5) as sandbox:
        def client() -> BskyClient:
            return BskyClient(None, None, sandbox.base_url,  # type: ignore[arg-type]
                              BskyPolicy(max_attempts=2, backoff_base=0.01), sleep=lambda _s: None)

        bsky_collect(client(), lake, queries, BSKY_DAY, now=BSKY_NOW, run_id="one",
                     window_minutes=1440)
        (key,) = bsky_raw_keys(lake, BSKY_DAY)
        rows = bsky_normalise(lake, [key], registry.candidates, BSKY_DAY, target).rows
        assert rows > 0
        good = bsky_manifests(lake, BSKY_DAY)
        lake.write_bytes(manifest_key(key), b"{not json")  # a broken manifest is rebuilt
        (rebuilt,) = bsky_manifests(lake, BSKY_DAY)
        assert (rebuilt.raw_key, rebuilt.pages) == (good[0].raw_key, good[0].pages)
        damage(lake, key)
        pattern = rf"{re.escape(lake.uri(key))}: {re.escape(message)}.*raw_bsky_posts.*mode: full"
        with pytest.raises(DamagedRawFile, match=pattern):
            bsky_normalise(lake, [key], registry.candidates, BSKY_DAY, target)
        lake.write_bytes(manifest_key(key), b"{not json")  # rebuilt from a raw file that is
        with pytest.raises(DamagedRawFile, match=pattern):  # damaged: named, not JSONDecodeError
            bsky_manifests(lake, BSKY_DAY)

        bsky_collect(client(), lake, queries, BSKY_DAY, now=BSKY_NOW, run_id="two",
                     window_minutes=1440, mode="full")
        keys = bsky_raw_keys(lake, BSKY_DAY)
        assert key not in keys
        assert bsky_normalise(lake, keys, registry.candidates, BSKY_DAY, target).rows == rows


def test_through_dagster_the_damaged_day_fails_named_unretried_then_mode_full_heals(
    x_sandbox, tmp_path  # noqa: ANN001
) -> None:
    """Before: the refresh ended rc=0 with 0 of 1,695 rows."""
    import dagster as dg

    from elex_assets.defs.x.assets import x_assets_for
    from elex_assets.defs.x.resources import XResource
    from elex_assets.resources import LakeResource, RegistryResource

    raw, tweets = x_assets_for(REGISTRY.election)
    resources = {
        "lake": LakeResource(url=str(tmp_path / "lake")),
        "registry": RegistryResource(election="2022"),
        "x": XResource(base_url=x_sandbox.base_url, endpoint="all", backoff_base=0.01),
    }
    lake = Lake.from_url(str(tmp_path / "lake"))
    retries = {"run_retries": {"enabled": True, "max_retries": 2}}
    with dg.instance_for_test(overrides=retries) as instance:
        def run(*assets: dg.AssetsDefinition, mode: str = "auto") -> dg.ExecuteInProcessResult:
            return dg.materialize(
                list(assets), partition_key=DAY.isoformat(), instance=instance,
                resources=resources, raise_on_error=False,
                run_config={"ops": {"raw_tweets": {"config": {"mode": mode}}}}
                if raw in assets else None)

        assert run(raw, tweets).success
        rows = lake.read_parquet(TARGET).height
        (key,) = raw_keys(lake, DAY)
        lake.write_bytes(key, b"")
        failed = run(tweets)
        assert not failed.success
        (failure,) = failed.get_step_failure_events()
        assert f"{key}: empty file (0 bytes)" in failure.step_failure_data.error.to_string()
        assert instance.get_run_by_id(failed.run_id).tags["dagster/will_retry"] == "false"
        assert lake.read_parquet(TARGET).height == rows  # the day is kept

        assert run(raw, tweets, mode="full").success
        assert lake.read_parquet(TARGET).height == rows
