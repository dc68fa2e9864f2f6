"""x_compliance against the sandbox X API: deletions reach raw, tweets and exports, and stay."""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from elex_assets.core import layout
from elex_assets.core.kaggle.export import export_week
from elex_assets.core.lake import Lake
from elex_assets.core.registry import load_registry
from elex_assets.core.x import compliance as comp
from elex_assets.core.x.collect import raw_keys
from elex_assets.defs.x.assets import x_assets_for
from elex_assets.defs.x.compliance import x_compliance_asset
from elex_assets.defs.x.resources import XResource
from elex_assets.resources import LakeResource, RegistryResource
from elex_assets.sandbox.x_server import XSandbox

ELECTION = load_registry("2022").election
RAW, TWEETS = x_assets_for(ELECTION)
COMPLIANCE = x_compliance_asset(ELECTION)
DAYS = ["2022-04-08", "2022-04-09"]
FAST = {"ops": {"x_compliance": {"config": {"poll_seconds": 0.01, "backoff_seconds": 0.01}}}}


@pytest.fixture
def sandbox():
    with XSandbox(election="2022", posts_per_day=400, seed=11) as server:
        yield server


def resources(lake_dir: Path, base_url: str) -> dict:
    return {
        "lake": LakeResource(url=str(lake_dir)),
        "registry": RegistryResource(election="2022"),
        "x": XResource(base_url=base_url, endpoint="all", backoff_base=0.01),
    }


def collect(tmp_path: Path, sandbox: XSandbox, mode: str = "auto") -> None:
    for day in DAYS:
        assert dg.materialize(
            [RAW, TWEETS], partition_key=day, resources=resources(tmp_path, sandbox.base_url),
            run_config={"ops": {"raw_tweets": {"config": {"mode": mode}}}},
        ).success


def raw_posts(lake: Lake) -> dict[str, list[dict]]:
    """Every entry of the raw pages (results and referenced posts), by id."""
    out: dict[str, list[dict]] = {}
    for day in DAYS:
        for key in raw_keys(lake, date.fromisoformat(day)):
            for line in gzip.decompress(lake.read_bytes(key)).splitlines():
                if line.strip():
                    response = json.loads(line).get("response") or {}
                    for post in (response.get("data") or []) + (
                        (response.get("includes") or {}).get("tweets") or []
                    ):
                        out.setdefault(post["id"], []).append(post)
    return out


def clean_ids(lake: Lake) -> set[str]:
    return {
        i
        for day in DAYS
        for i in lake.read_parquet(layout.clean_tweets_key(date.fromisoformat(day)))["id"]
    }


def assert_accounted(lake: Lake) -> None:
    """What the tweets_accounted check judges: every raw post a row or a counted drop."""
    from elex_assets.core.x.accounting import check_accounting, read_accounting, recount_raw

    for day in DAYS:
        target = layout.clean_tweets_key(date.fromisoformat(day))
        count = recount_raw(lake, raw_keys(lake, date.fromisoformat(day)))
        rows = lake.read_parquet(target).height
        passed, why = check_accounting(count, rows, read_accounting(lake, target))
        assert passed, f"{day}: {why}"


def run_compliance(tmp_path: Path, sandbox: XSandbox, **config) -> dg.ExecuteInProcessResult:
    run_config = {"ops": {"x_compliance": {"config": {**FAST["ops"]["x_compliance"]["config"],
                                                     **config}}}}
    return dg.materialize([COMPLIANCE], resources=resources(tmp_path, sandbox.base_url),
                          run_config=run_config, raise_on_error=False)


def test_a_full_cycle_removes_content_everywhere_and_keeps_tombstones(tmp_path, sandbox):
    lake = Lake.from_url(str(tmp_path))
    collect(tmp_path, sandbox)
    export = export_week(lake, ELECTION, "tweets", 2022, 14, allow_incomplete=True)
    before = raw_posts(lake)
    rows_before = len(clean_ids(lake))

    result = run_compliance(tmp_path, sandbox)
    assert result.success
    meta = result.asset_materializations_for_node("x_compliance")[0].metadata
    removed = comp.removed_ids(lake)
    # X (the sandbox) reported a seeded share of the submitted ids; each is in the log.
    uploaded = set(sandbox.compliance.uploaded[meta["job_id"].value])
    assert set(before) <= uploaded  # every raw id, referenced posts included
    assert 0 < len(removed) == meta["reported"].value < len(uploaded) // 10
    assert set(removed) <= uploaded
    assert {e["reason"] for e in removed.values()} <= {"deleted", "suspended", "protected",
                                                       "deactivated"}
    assert all(e["job_id"] == meta["job_id"].value and e["redacted_at"] for e in removed.values())
    # Raw: same entries (counts stay true), removed ones are tombstones without content.
    after = raw_posts(lake)
    assert {k: len(v) for k, v in after.items()} == {k: len(v) for k, v in before.items()}
    for pid in removed:
        for entry in after.get(pid, []):
            assert set(entry) == {"id", "created_at", "elex_compliance"}
            assert entry["elex_compliance"]["action"] == "delete"
    kept = set(before) - set(removed)
    assert all("text" in e for pid in kept for e in after[pid] if "text" in before[pid][0])
    # tweets: their rows are gone, and so is the text they lent to quotes and retweets.
    ids = clean_ids(lake)
    assert not ids & set(removed)
    assert meta["rows_removed"].value == rows_before - len(ids) > 0
    for day in DAYS:
        table = lake.read_parquet(layout.clean_tweets_key(date.fromisoformat(day)))
        lent = table.filter(pl.col("referenced_id").is_in(list(removed)))
        assert lent["referenced_text"].null_count() == lent.height
    # The export of the week was written again without them.
    assert meta["weeks_reexported"].value == ["2022-W14"]
    csv = pl.read_csv(lake.read_bytes(export.files[0]), schema_overrides={"id": pl.String})
    assert not set(csv["id"]) & set(removed) and csv.height == len(ids)
    # The log says what, when and why.
    (job_file,) = [k for k in lake.list("state/compliance/jobs/") if k.endswith(".json")]
    job = json.loads(lake.read_bytes(job_file))
    assert job["events"] == len(removed) and sum(job["by_reason"].values()) == len(removed)
    assert job["rows_removed"] == meta["rows_removed"].value
    # The removed posts are counted drops: the accounting check still balances.
    assert_accounted(lake)

    # Run again: the removed ids are not submitted again, nothing more changes.
    again = run_compliance(tmp_path, sandbox)
    meta2 = again.asset_materializations_for_node("x_compliance")[0].metadata
    assert meta2["submitted"].value == len(uploaded) - len(removed)
    assert meta2["reported"].value == meta2["rows_removed"].value == 0
    assert meta2["removed_in_log"].value == len(removed)
    assert comp.removed_ids(lake) == removed

    # A later full refresh and re-normalisation does not bring them back.
    collect(tmp_path, sandbox, mode="full")
    assert not clean_ids(lake) & set(removed)
    for pid, entries in raw_posts(lake).items():
        if pid in removed:
            assert all("text" not in e for e in entries)
    assert_accounted(lake)


def test_a_job_that_expires_applies_nothing(tmp_path, sandbox):
    lake = Lake.from_url(str(tmp_path))
    collect(tmp_path, sandbox)
    before = raw_posts(lake)
    from elex_assets.sandbox.x_compliance import compliance_for

    compliance_for(sandbox).outcomes.append("expire")
    result = run_compliance(tmp_path, sandbox)
    assert not result.success
    message = result.failure_data_for_node("x_compliance").error.message
    assert "ended with status 'expired'" in message and "run x_compliance again" in message
    assert comp.removed_ids(lake) == {} and raw_posts(lake) == before
    # The next run submits a new job and completes.
    assert run_compliance(tmp_path, sandbox).success
    assert comp.removed_ids(lake)


def test_a_failed_upload_applies_nothing_and_a_transient_one_is_retried(tmp_path, sandbox):
    lake = Lake.from_url(str(tmp_path))
    collect(tmp_path, sandbox, mode="auto")
    before = raw_posts(lake)
    sandbox.faults.add("403", path="/compliance-storage/upload")
    result = run_compliance(tmp_path, sandbox)
    assert not result.success
    message = result.failure_data_for_node("x_compliance").error.message
    assert "could not upload the ids of compliance job" in message and "HTTP 403" in message
    assert comp.removed_ids(lake) == {} and raw_posts(lake) == before
    # The job left behind is in progress on X's side: cancel it as X would after its window.
    for job in sandbox.compliance.jobs.values():
        job["status"] = "expired"
    sandbox.faults.add("503", times=2, path="/compliance-storage/upload")
    result = run_compliance(tmp_path, sandbox)
    assert result.success and sandbox.faults.injected.count("503") == 2
    assert comp.removed_ids(lake)


def test_a_range_from_run_config_and_a_bad_date(tmp_path, sandbox):
    collect(tmp_path, sandbox)
    result = run_compliance(tmp_path, sandbox, start="2022-04-09", end="2022-04-09")
    assert result.success
    meta = result.asset_materializations_for_node("x_compliance")[0].metadata
    assert meta["range"].value == "2022-04-09 .. 2022-04-09"
    assert set(meta["rows_removed_by_day"].value) <= {"2022-04-09"}
    bad = run_compliance(tmp_path, sandbox, start="9 April")
    assert "start='9 April' is not a date (YYYY-MM-DD)" in bad.failure_data_for_node(
        "x_compliance").error.message


def test_the_project_checks_compliance_every_week():
    from elex_assets.definitions import get_defs

    defs = get_defs()

    schedule = defs.resolve_schedule_def("x_compliance_weekly")
    assert schedule.cron_schedule == "0 5 * * 1"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert schedule.job_name == "x_compliance_job"
    graph = defs.resolve_asset_graph()
    # The published folder is re-assembled after deletions were applied.
    assert dg.AssetKey("x_compliance") in graph.get(dg.AssetKey("kaggle_dataset")).parent_keys
