"""A dead run's pool slots come back: with no daemon, under the daemon, from another host.

Before: a ``tweet_counts`` run killed with ``kill -9`` kept its ``x_api`` slot for
ever (it takes no lease, so nothing judged it dead), and every later run of the
pool waited. Now every run's worker tags its run (host, pid) and beats; the next
run, the ``elex_run_health`` sensor and the X schedule free the slots of a run
whose worker is gone.
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
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from elex_assets import PROJECT_DIR
from elex_assets.core.registry import load_registry
from elex_assets.monitoring.run_health import (
    HEARTBEAT_EXPIRY_SECONDS,
    HEARTBEAT_TAG,
    WORKER_TAG,
    HeartbeatObserver,
    Worker,
    build_run_health_sensor,
    reap_dead_runs,
)
from elex_assets.sandbox.x_server import XSandbox

REGISTRY = load_registry("2027")
DAY = date(2026, 11, 20)


@pytest.fixture
def sandbox() -> Iterator[XSandbox]:
    with XSandbox(REGISTRY.selected(), REGISTRY.election, posts_per_day=200, seed=3) as box:
        yield box


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "dagster_home").mkdir()
    shutil.copy(PROJECT_DIR / "dagster.yaml", tmp_path / "dagster_home" / "dagster.yaml")
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    return tmp_path


def _materialize(env: dict[str, str], **kwargs) -> subprocess.Popen:  # noqa: ANN003
    dagster = Path(sys.executable).with_name("dagster")
    return subprocess.Popen(
        [str(dagster), "asset", "materialize", "-m", "elex_assets.definitions",
         "--select", "tweet_counts", "--partition", DAY.isoformat()],
        cwd=PROJECT_DIR, env=env, start_new_session=True, **kwargs,
    )


def test_a_killed_counts_run_gives_its_slot_to_the_next_cli_run(
    sandbox: XSandbox, home: Path
) -> None:
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home / "dagster_home"),
        "ELEX_LAKE_URL": str(home / "lake"),
        "ELEX_ELECTION": "2027",
        "X_API_BASE_URL": sandbox.base_url,
        "X_SEARCH_ENDPOINT": "all",
        "TMPDIR": str(home / "tmp"),
    }
    # A rate-limit wait (within the bound, so waited for): the run sits holding x_api.
    sandbox.faults.add("429", path="/2/tweets/counts", reset_in=600)
    first = _materialize(env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 180
        while not sandbox.faults.injected and time.monotonic() < deadline:
            assert first.poll() is None, "the run ended before it could be killed"
            time.sleep(0.2)
        assert sandbox.faults.injected == ["429"]
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    with dg.DagsterInstance.from_config(str(home / "dagster_home")) as instance:
        (dead,) = instance.get_runs()
        assert dead.status == dg.DagsterRunStatus.STARTED  # what the crash leaves
        assert instance.event_log_storage.get_concurrency_info("x_api").claimed_slots
        assert Worker.parse(dead.tags[WORKER_TAG]).pid == first.pid

    # No daemon: the next CLI run frees the slot as it starts, then takes it.
    second = _materialize(env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out, _ = second.communicate(timeout=240)  # before: waited for x_api for ever
    assert second.returncode == 0, out[-3000:]
    with dg.DagsterInstance.from_config(str(home / "dagster_home")) as instance:
        dead = instance.get_run_by_id(dead.run_id)
        assert dead.status == dg.DagsterRunStatus.FAILURE
        failure = instance.all_logs(dead.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
        assert f"its worker process {first.pid}" in failure[-1].message
        assert not instance.event_log_storage.get_concurrency_info("x_api").claimed_slots


@contextlib.contextmanager
def _run_holding_a_slot(instance: dg.DagsterInstance, worker: str, beat: str = "0"
                        ) -> Iterator[dg.DagsterRun]:
    run = instance.add_run(dg.DagsterRun(job_name="x_counts_job",
                                         status=dg.DagsterRunStatus.STARTED,
                                         tags={WORKER_TAG: worker, HEARTBEAT_TAG: beat}))
    instance.event_log_storage.set_concurrency_slots("x_api", 1)
    claim = instance.event_log_storage.claim_concurrency_slot("x_api", run.run_id, "tweet_counts")
    assert claim.is_claimed
    yield run


def _dead_local_worker() -> str:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    tag = Worker(Worker.this_process().host, proc.pid, "").tag()
    proc.kill()
    proc.wait()
    return tag


def test_under_the_daemon_the_sensor_frees_a_dead_runs_slot() -> None:
    with dg.instance_for_test() as instance, \
            _run_holding_a_slot(instance, _dead_local_worker()) as run:
        sensor = build_run_health_sensor()
        with dg.build_sensor_context(instance=instance) as context:
            result = sensor(context)
        assert "freed 1 dead run" in result.skip_message
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE
        assert not instance.event_log_storage.get_concurrency_info("x_api").claimed_slots


def test_a_live_local_run_keeps_its_slot() -> None:
    with dg.instance_for_test() as instance, \
            _run_holding_a_slot(instance, Worker.this_process().tag()) as run:
        assert reap_dead_runs(instance) == []
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED
        assert instance.event_log_storage.get_concurrency_info("x_api").claimed_slots


def test_a_run_on_another_host_expires_when_its_heartbeat_stops() -> None:
    clock = [1000.0]  # the observer's own clock; the other host's is never read
    observer = HeartbeatObserver(clock=lambda: clock[0])
    with dg.instance_for_test() as instance, \
            _run_holding_a_slot(instance, "another-host|4242|99", beat="7") as run:
        assert reap_dead_runs(instance, observer=observer) == []
        clock[0] += HEARTBEAT_EXPIRY_SECONDS - 1
        instance.add_run_tags(run.run_id, {HEARTBEAT_TAG: "8"})  # still beating
        assert reap_dead_runs(instance, observer=observer) == []
        clock[0] += HEARTBEAT_EXPIRY_SECONDS - 1
        assert reap_dead_runs(instance, observer=observer) == []  # 59 s without a beat
        clock[0] += 2
        assert reap_dead_runs(instance, observer=observer) == [run.run_id]
        assert not instance.event_log_storage.get_concurrency_info("x_api").claimed_slots


def test_an_ended_run_still_holding_a_slot_is_freed_without_a_daemon() -> None:
    with dg.instance_for_test() as instance, \
            _run_holding_a_slot(instance, Worker.this_process().tag()) as run:
        instance.report_run_failed(run, message="ended elsewhere")
        assert reap_dead_runs(instance) == []  # nothing to mark failed
        assert not instance.event_log_storage.get_concurrency_info("x_api").claimed_slots
