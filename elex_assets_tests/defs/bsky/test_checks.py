"""Bluesky's checks on a sandbox day (real HTTP, through Dagster): they pass on the day as
collected and fail, each naming what is wrong, on a damaged copy of it."""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from elex_assets.core import layout
from elex_assets.core.bsky.collect import raw_keys
from elex_assets.core.lake import Lake
from elex_assets.core.registry import load_registry
from elex_assets.core.x.accounting import ACCOUNTING_KEY
from elex_assets.defs.bsky.assets import build_bsky_assets
from elex_assets.defs.bsky.checks import (
    BSKY_POSTS_ACCOUNTED,
    BSKY_WINDOWS_READ,
    build_bsky_accounting_checks,
    build_bsky_read_checks,
)
from elex_assets.defs.bsky.resources import BskyResource
from elex_assets.monitoring.content import build_content_checks
from elex_assets.monitoring.thresholds import Thresholds
from elex_assets.resources import LakeResource, RegistryResource
from elex_assets.sandbox.bsky_server import BskySandbox
from elex_assets_tests.clock import NOW, at

ELECTION = load_registry("2027").election
RAW, CLEAN, _, _ = build_bsky_assets(ELECTION, monitored=True)
CHECKS = [*build_content_checks([RAW, CLEAN], ELECTION, Thresholds()),
          *build_bsky_accounting_checks([RAW, CLEAN]), *build_bsky_read_checks([RAW, CLEAN])]
DAY = (NOW - timedelta(days=8)).date()  # collected a week late: full-day search, fixed data
CONTENT = {"no_duplicate_ids", "required_columns", "posts_present", "posts_within_day",
           "candidates_known", "posts_name_a_candidate"}


def _resources(lake_dir: Path, base_url: str = "http://127.0.0.1:9") -> dict:
    return {"lake": LakeResource(url=str(lake_dir)), "registry": RegistryResource(election="2027"),
            "bsky": BskyResource(base_url=base_url, max_attempts=2)}


@pytest.fixture(scope="module", autouse=True)
def _now() -> Iterator[None]:
    """The module runs at the tests' fixed "now" (the day's partition exists, its data is fixed)."""
    with at(NOW):
        yield


@pytest.fixture(scope="module")
def collected(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict]]:
    """One sandbox day collected and normalised with its checks (once for the module)."""
    lake = tmp_path_factory.mktemp("bsky_day")
    with BskySandbox(election="2027", posts_per_day=120, seed=7, deletion_rate=0.0) as sandbox, \
            dg.instance_for_test() as instance:
        result = dg.materialize([RAW, CLEAN, *CHECKS], partition_key=DAY.isoformat(),
                                instance=instance, resources=_resources(lake, sandbox.base_url))
        assert result.success
        yield lake, {e.check_name: e for e in result.get_asset_check_evaluations()}


@pytest.fixture
def lake_copy(collected: tuple[Path, dict], tmp_path: Path) -> Path:
    """A private copy of the collected day, to damage."""
    shutil.copytree(collected[0], tmp_path / "lake")
    return tmp_path / "lake"


@dg.asset(name="bsky_posts", partitions_def=CLEAN.partitions_def)
def _recorded_only() -> dg.MaterializeResult:
    """Stands in for ``bsky_posts``: records the materialisation, leaves the damaged file be."""
    return dg.MaterializeResult()


def run_checks(lake_dir: Path) -> dict[str, dg.AssetCheckEvaluation]:
    """The checks of ``bsky_posts`` over the (damaged) day, as the refresh job runs them."""
    job = dg.define_asset_job("bsky_checks", selection=dg.AssetSelection.assets("bsky_posts"))
    defs = dg.Definitions(assets=[_recorded_only], asset_checks=CHECKS, jobs=[job],
                          resources=_resources(lake_dir))
    with dg.instance_for_test() as instance:
        result = defs.resolve_job_def("bsky_checks").execute_in_process(
            instance=instance, partition_key=DAY.isoformat(), raise_on_error=False)
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def clean_path(lake_dir: Path) -> Path:
    return lake_dir / layout.clean_bsky_key(DAY)


def rewrite_clean(lake_dir: Path, change) -> None:  # noqa: ANN001 - a frame -> frame function
    """Damage the day's table, keeping the accounting the normaliser stored."""
    path = clean_path(lake_dir)
    meta = pl.read_parquet_metadata(path)
    change(pl.read_parquet(path)).write_parquet(path, metadata=meta)


def first_page_with_posts(lines: list[bytes]) -> int:
    """The first raw line whose page holds posts (a window may have none)."""
    return next(i for i, line in enumerate(lines) if json.loads(line)["response"]["posts"])


def failed(verdicts: dict[str, dg.AssetCheckEvaluation]) -> set[str]:
    return {name for name, e in verdicts.items() if not e.passed}


def test_every_check_passes_on_a_sandbox_day(collected: tuple[Path, dict]) -> None:
    lake_dir, verdicts = collected
    assert set(verdicts) == CONTENT | {BSKY_POSTS_ACCOUNTED, BSKY_WINDOWS_READ}
    assert not failed(verdicts), {n: e.description for n, e in verdicts.items() if not e.passed}
    clean = pl.read_parquet(clean_path(lake_dir))
    accounted = verdicts[BSKY_POSTS_ACCOUNTED]
    assert accounted.metadata["rows"].value == clean.height > 0
    assert accounted.metadata["raw_unique_posts"].value == clean.height  # nothing dropped
    assert accounted.metadata["dropped"].value == {}
    assert verdicts["posts_name_a_candidate"].severity == dg.AssetCheckSeverity.WARN
    assert verdicts["no_duplicate_ids"].severity == dg.AssetCheckSeverity.ERROR
    # The damaged-day tests start from a day whose checks pass when run on their own.
    assert not failed(run_checks(lake_dir))


def test_a_duplicated_id_fails(lake_copy: Path) -> None:
    first = pl.read_parquet(clean_path(lake_copy))["id"][0]
    rewrite_clean(lake_copy, lambda df: pl.concat([df, df.head(1)]))
    verdicts = run_checks(lake_copy)
    assert "no_duplicate_ids" in failed(verdicts)
    assert verdicts["no_duplicate_ids"].description == f"1 duplicated id value(s): {first}"


def test_a_post_outside_its_day_fails(lake_copy: Path) -> None:
    moved = pl.read_parquet(clean_path(lake_copy))["id"][0]
    rewrite_clean(lake_copy, lambda df: df.with_columns(
        [pl.when(pl.col("id") == moved).then(pl.col(c) - timedelta(days=2))
         .otherwise(pl.col(c)).alias(c) for c in ("created_at", "indexed_at")]))
    verdicts = run_checks(lake_copy)
    assert failed(verdicts) == {"posts_within_day"}
    assert verdicts["posts_within_day"].description == (
        f"1 row(s) not on {DAY} by created_at or indexed_at: {moved}")


def test_an_unaccounted_post_fails(lake_copy: Path) -> None:
    """A raw post the day's table neither holds nor counted as dropped."""
    lake = Lake(str(lake_copy))
    key = raw_keys(lake, DAY)[0]
    lines = gzip.decompress(lake.read_bytes(key)).splitlines()
    at = first_page_with_posts(lines)
    page = json.loads(lines[at])
    extra = dict(page["response"]["posts"][0], uri="at://did:plc:unaccounted/app.bsky.feed.post/x")
    page["response"]["posts"].append(extra)
    lines[at] = json.dumps(page).encode()
    lake.write_bytes(key, gzip.compress(b"\n".join(lines)))
    verdicts = run_checks(lake_copy)
    assert failed(verdicts) == {BSKY_POSTS_ACCOUNTED}
    assert "1 posts are unaccounted for" in verdicts[BSKY_POSTS_ACCOUNTED].description


def test_a_table_without_its_accounting_fails(lake_copy: Path) -> None:
    path = clean_path(lake_copy)
    pl.read_parquet(path).write_parquet(path)  # metadata dropped
    verdicts = run_checks(lake_copy)
    assert failed(verdicts) == {BSKY_POSTS_ACCOUNTED}
    assert "carries no accounting" in verdicts[BSKY_POSTS_ACCOUNTED].description
    assert pl.read_parquet_metadata(path).get(ACCOUNTING_KEY) is None


def test_an_unknown_candidate_and_a_post_naming_none_fail(lake_copy: Path) -> None:
    ids = pl.read_parquet(clean_path(lake_copy))["id"]
    rewrite_clean(lake_copy, lambda df: df.with_columns(
        pl.when(pl.col("id") == ids[0]).then(pl.lit(["nobody"]))
        .when(pl.col("id") == ids[1]).then(pl.lit([], pl.List(pl.String)))
        .otherwise(pl.col("candidates")).alias("candidates")))
    verdicts = run_checks(lake_copy)
    assert failed(verdicts) == {"candidates_known", "posts_name_a_candidate"}
    assert verdicts["candidates_known"].description == "1 id(s) not in the registry: nobody"
    assert verdicts["posts_name_a_candidate"].description.endswith(f"name no candidate: {ids[1]}")


def test_a_null_required_column_fails(lake_copy: Path) -> None:
    rewrite_clean(lake_copy, lambda df: df.with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(None).otherwise(pl.col("collected_at"))
        .alias("collected_at")))
    verdicts = run_checks(lake_copy)
    assert failed(verdicts) == {"required_columns"}
    assert verdicts["required_columns"].description == (
        "nulls in required column(s): collected_at (1 null)")


def test_a_campaign_day_without_posts_fails(lake_copy: Path) -> None:
    if not ELECTION.campaign_start <= DAY <= ELECTION.campaign_end:
        pytest.skip(f"{DAY} is outside the campaign: posts_present does not judge it")
    rewrite_clean(lake_copy, lambda df: df.head(0))
    verdicts = run_checks(lake_copy)
    assert "posts_present" in failed(verdicts)
    assert verdicts["posts_present"].description.startswith(f"zero posts on campaign day {DAY}")


def test_a_raw_post_of_another_day_is_dropped_counted_and_the_checks_pass(lake_copy: Path) -> None:
    """What Bluesky should not have returned for the day is a counted drop, not a row."""
    lake = Lake(str(lake_copy))
    key = raw_keys(lake, DAY)[0]
    lines = gzip.decompress(lake.read_bytes(key)).splitlines()
    at = first_page_with_posts(lines)
    page = json.loads(lines[at])
    stray = json.loads(json.dumps(page["response"]["posts"][0]))
    stray["uri"] = "at://did:plc:stray/app.bsky.feed.post/y"
    when = f"{DAY - timedelta(days=3)}T12:00:00.000Z"
    stray["record"]["createdAt"] = stray["indexedAt"] = when
    page["response"]["posts"].append(stray)
    lines[at] = json.dumps(page).encode()
    lake.write_bytes(key, gzip.compress(b"\n".join(lines)))
    with dg.instance_for_test() as instance:
        result = dg.materialize([CLEAN, *CHECKS], partition_key=DAY.isoformat(),
                                instance=instance, resources=_resources(lake_copy))
    meta = result.asset_materializations_for_node("bsky_posts")[0].metadata
    assert meta["dropped_by_reason"].value == {"outside_day": 1}
    assert meta["raw_unique_posts"].value == meta["rows"].value + 1
    assert stray["uri"] not in pl.read_parquet(clean_path(lake_copy))["id"].to_list()
    assert not failed({e.check_name: e for e in result.get_asset_check_evaluations()})


def test_a_raw_post_whose_times_cannot_be_read_is_a_counted_drop_and_the_check_passes(
    lake_copy: Path,
) -> None:
    """An author's record with no readable createdAt and no indexedAt cannot be placed in a
    day: it is an 'unparsable' drop, and bsky_posts_accounted balances (it failed on it)."""
    lake = Lake(str(lake_copy))
    key = raw_keys(lake, DAY)[0]
    lines = gzip.decompress(lake.read_bytes(key)).splitlines()
    at = first_page_with_posts(lines)
    page = json.loads(lines[at])
    odd = json.loads(json.dumps(page["response"]["posts"][0]))
    odd["uri"] = "at://did:plc:odd/app.bsky.feed.post/z"
    odd["record"]["createdAt"] = "yesterday, around noon"
    odd.pop("indexedAt")
    page["response"]["posts"].append(odd)
    lines[at] = json.dumps(page).encode()
    lake.write_bytes(key, gzip.compress(b"\n".join(lines)))
    with dg.instance_for_test() as instance:
        result = dg.materialize([CLEAN, *CHECKS], partition_key=DAY.isoformat(),
                                instance=instance, resources=_resources(lake_copy))
    meta = result.asset_materializations_for_node("bsky_posts")[0].metadata
    assert meta["dropped_by_reason"].value == {"unparsable": 1}
    verdicts = {e.check_name: e for e in result.get_asset_check_evaluations()}
    accounted = verdicts[BSKY_POSTS_ACCOUNTED]
    assert accounted.passed, accounted.description
    assert "(1 unparsable)" in accounted.description


def test_a_window_left_with_its_cursor_going_fails_naming_it(lake_copy: Path) -> None:
    """A sweep elex stopped while the cursor still went on (here: a cursor handed back)
    is recorded on its last page; the check names the window until a run re-reads it."""
    from elex_assets.core.bsky.collect import PageSummary, read_manifests
    from elex_assets.core.raw_pages import manifest_key

    lake = Lake(str(lake_copy))
    manifest = read_manifests(lake, DAY)[0]
    window = manifest.pages[0].window
    manifest.pages.append(PageSummary(manifest.pages[0].key, window, 0, None, None, False,
                                      "cursor_repeat"))  # a sweep that read nothing
    lake.write_bytes(manifest_key(manifest.raw_key), json.dumps(manifest.to_json()).encode())
    verdicts = run_checks(lake_copy)
    assert failed(verdicts) == {BSKY_WINDOWS_READ}
    description = verdicts[BSKY_WINDOWS_READ].description
    assert description.startswith("1 window(s) left partly unread") and "cursor_repeat" in description
