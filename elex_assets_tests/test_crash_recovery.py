"""A raw_tweets run killed with SIGKILL under a local instance frees what it holds.

Before: the run stayed STARTED with its ``x_api`` slot, every later run waited
forever and the X schedule skipped every tick. Now the schedule finds it dead by
its lease, marks it failed and frees its slot; the next refresh completes with
the clean run's posts and removes the dead run's temporary folder.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from elex_assets import PROJECT_DIR
from elex_assets.core.lake import Lake
from elex_assets.core.lease import lease_key, read_lease
from elex_assets.core.registry import load_registry
from elex_assets.core.run_temp import runs_root
from elex_assets.defs.x.assets import x_assets_for
from elex_assets.defs.x.automation import build_x_automation
from elex_assets.defs.x.resources import XResource
from elex_assets.resources import LakeResource, RegistryResource
from elex_assets.sandbox.x_server import XSandbox
from elex_assets_tests.clock import NOW, at
from elex_assets_tests.x_helpers import expected_ids, landed_ids

REGISTRY = load_registry("2027")
DAY = date(2026, 11, 20)


@pytest.fixture
def sandbox() -> Iterator[XSandbox]:
    with XSandbox(REGISTRY.selected(), REGISTRY.election, posts_per_day=600, seed=3) as box:
        yield box


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "dagster_home").mkdir()
    shutil.copy(PROJECT_DIR / "dagster.yaml", tmp_path / "dagster_home" / "dagster.yaml")
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    return tmp_path


def test_a_killed_run_is_failed_its_slot_freed_and_the_next_refresh_is_clean(
    sandbox: XSandbox, home: Path
) -> None:
    lake = Lake.from_url(str(home / "lake"))
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home / "dagster_home"),
        "ELEX_LAKE_URL": lake.url,
        "ELEX_ELECTION": "2027",
        "X_API_BASE_URL": sandbox.base_url,
        "X_SEARCH_ENDPOINT": "all",
        "TMPDIR": str(home / "tmp"),
    }
    # A long rate-limit wait after a few pages: the run is caught holding its day.
    sandbox.faults.add("429", after=1, reset_in=600)
    dagster = Path(sys.executable).with_name("dagster")
    proc = subprocess.Popen(
        [str(dagster), "asset", "materialize", "-m", "elex_assets.definitions",
         "--select", "raw_tweets", "--partition", DAY.isoformat()],
        cwd=PROJECT_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while not sandbox.faults.injected and time.monotonic() < deadline:
            assert proc.poll() is None, "the run ended before it could be killed"
            time.sleep(0.2)
        assert sandbox.faults.injected == ["429"]
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

    with dg.DagsterInstance.from_config(str(home / "dagster_home")) as instance:
        (dead,) = instance.get_runs()
        assert dead.status == dg.DagsterRunStatus.STARTED  # what the crash leaves
        assert instance.event_log_storage.get_concurrency_info("x_api").claimed_slots
        assert read_lease(lake, "raw_tweets", DAY.isoformat()).owner == dead.run_id
        assert (runs_root("raw_tweets") / dead.run_id).is_dir()

        # The next schedule tick: the dead run does not count as "in progress".
        raw, tweets = x_assets_for(REGISTRY.election)
        _, (schedule,), _ = build_x_automation(raw, tweets)
        # A tick at a fixed moment of the campaign ("now" set for this process; the crashed
        # run, in its own process, ran at the machine's time).
        with at(NOW):
            tick = dg.build_schedule_context(
                instance=instance, scheduled_execution_time=NOW,
                resources={"lake": LakeResource(url=lake.url)},
            )
            requests = schedule(tick)
        assert [r.partition_key for r in requests] == [NOW.date().isoformat()]
        assert instance.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.FAILURE
        assert not instance.event_log_storage.get_concurrency_info("x_api").claimed_slots
        assert not lake.exists(lease_key("raw_tweets", DAY.isoformat()))

        # The next refresh of the day claims the slot and ends with the clean posts.
        sandbox.faults.clear()
        x = XResource(base_url=sandbox.base_url, endpoint="all", backoff_base=0.01)
        result = dg.materialize(
            [raw], partition_key=DAY.isoformat(), instance=instance,
            resources={"lake": LakeResource(url=lake.url), "x": x,
                       "registry": RegistryResource(election="2027")},
        )
        assert result.success
    start = datetime(DAY.year, DAY.month, DAY.day, tzinfo=UTC)
    queries = x.queries(REGISTRY)
    truth = expected_ids(sandbox, queries, start, start + timedelta(days=1))
    landed = landed_ids(lake, DAY)
    for q in queries:
        got = landed.get(q.text, [])
        assert len(got) == len(set(got)) and set(got) == truth[q.text]
    assert not runs_root("raw_tweets").exists() or not any(runs_root("raw_tweets").iterdir())


def test_a_refresh_started_hours_ago_no_longer_skips_the_schedule(
    tmp_path: Path, fixed_now: datetime
) -> None:
    raw, tweets = x_assets_for(REGISTRY.election)
    _, (schedule,), _ = build_x_automation(raw, tweets)
    with dg.instance_for_test() as instance:
        run = instance.add_run(dg.DagsterRun(job_name="x_refresh_job",
                                             status=dg.DagsterRunStatus.STARTED))
        start = dg.DagsterEvent(dg.DagsterEventType.RUN_START.value, job_name="x_refresh_job")
        tick = dg.build_schedule_context(
            instance=instance, scheduled_execution_time=datetime(2026, 12, 1, 12, 5, tzinfo=UTC),
            resources={"lake": LakeResource(url=str(tmp_path))},
        )
        instance.run_storage.handle_run_event(run.run_id, start, fixed_now)
        assert isinstance(schedule(tick), dg.SkipReason)  # started just now: in progress
        hours_ago = fixed_now - timedelta(hours=3)
        instance.run_storage.handle_run_event(run.run_id, start, hours_ago)
        requests = schedule(tick)
        assert [r.partition_key for r in requests] == ["2026-12-01"]
