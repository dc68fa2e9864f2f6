"""A CLI run stops soon after SIGTERM and releases its pool slot, even while it waits
for the slot (before: it ignored SIGTERM for as long as another run held ``x_api``)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from elex_assets import PROJECT_DIR
from elex_assets.core.registry import load_registry
from elex_assets.sandbox.x_server import XSandbox

REGISTRY = load_registry("2027")


@pytest.fixture
def sandbox() -> Iterator[XSandbox]:
    with XSandbox(REGISTRY.selected(), REGISTRY.election, posts_per_day=600, seed=5) as box:
        yield box


def _materialize(env: dict[str, str], day: str) -> subprocess.Popen:
    dagster = Path(sys.executable).with_name("dagster")
    return subprocess.Popen(
        [str(dagster), "asset", "materialize", "-m", "elex_assets.definitions",
         "--select", "raw_tweets", "--partition", day],
        cwd=PROJECT_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def _until(condition, what: str, seconds: float = 180) -> None:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_sigterm_stops_a_run_waiting_for_its_pool_slot_and_frees_it(
    sandbox: XSandbox, tmp_path: Path
) -> None:
    (tmp_path / "home").mkdir()
    shutil.copy(PROJECT_DIR / "dagster.yaml", tmp_path / "home" / "dagster.yaml")
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "home"),
           "ELEX_LAKE_URL": str(tmp_path / "lake"), "ELEX_ELECTION": "2027",
           "X_API_BASE_URL": sandbox.base_url, "X_SEARCH_ENDPOINT": "all"}
    sandbox.faults.add("429", after=1, reset_in=600)  # the first run holds x_api, waiting
    holder = _materialize(env, "2026-11-20")
    waiter = None
    try:
        _until(lambda: sandbox.faults.injected, "the first run to hold the x_api slot")
        waiter = _materialize(env, "2026-11-21")
        with dg.DagsterInstance.from_config(str(tmp_path / "home")) as instance:
            storage = instance.event_log_storage

            def waiting() -> list:
                steps = storage.get_concurrency_info("x_api").pending_steps
                return [s for s in steps if s.assigned_timestamp is None]

            _until(waiting, "the second run to wait for the slot")
            started = time.monotonic()
            waiter.send_signal(signal.SIGTERM)
            waiter.wait(timeout=60)
            waited = time.monotonic() - started
            print(f"blocked run stopped {waited:.1f} s after SIGTERM")
            assert waiter.returncode != 0 and waited < 10
            assert not waiting()

            holder.send_signal(signal.SIGTERM)  # in the API client's rate-limit wait
            holder.wait(timeout=60)
            assert not storage.get_concurrency_info("x_api").claimed_slots
            statuses = {r.status for r in instance.get_runs()}
            assert statuses == {dg.DagsterRunStatus.FAILURE}
            # stopped on purpose: the instance's run retries (dagster.yaml) leave them be
            assert {r.tags.get("dagster/will_retry") for r in instance.get_runs()} == {"false"}
            # and the holder, stopped inside its partition's lease, gave the lease back
            assert not list((tmp_path / "lake" / "state" / "leases").rglob("*.json"))
    finally:
        for proc in (holder, waiter):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()


def _elex(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "elex_assets.cli.main", *args], cwd=PROJECT_DIR,
        env={**os.environ, **env}, capture_output=True, text=True, timeout=120,
    )


def test_an_elex_error_is_one_line_and_the_traceback_is_under_verbose() -> None:
    quiet = _elex("demo", ELEX_ELECTION="1999")
    assert quiet.returncode == 1
    assert quiet.stderr.strip().splitlines() == [
        "elex: error: invalid setting: ELEX_ELECTION='1999' is not supported; choose one of "
        "2017, 2022, 2027 (--verbose shows the traceback)"
    ]
    verbose = _elex("--verbose", "demo", ELEX_ELECTION="1999")
    assert verbose.returncode == 1 and "Traceback (most recent call last)" in verbose.stderr


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_a_trends_run_in_its_backoff_and_it_is_not_retried(
    tmp_path: Path, signum: signal.Signals
) -> None:
    """Before: the interrupt was a step failure that the step's retry policy queued again
    (STEP_UP_FOR_RETRY ... 43 s); SIGTERM and two SIGINTs left the run going, then STARTED."""
    from elex_assets.sandbox.trends_server import TrendsSandbox

    (tmp_path / "home").mkdir()
    shutil.copy(PROJECT_DIR / "dagster.yaml", tmp_path / "home" / "dagster.yaml")  # run retries
    with TrendsSandbox() as trends:
        trends.inject("503", times=None)
        env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "home"),
               "ELEX_LAKE_URL": str(tmp_path / "lake"), "ELEX_ELECTION": "2027",
               "TRENDS_BASE_URL": trends.base_url, "TRENDS_MIN_INTERVAL_SECONDS": "0"}
        dagster = Path(sys.executable).with_name("dagster")
        run = subprocess.Popen(
            [str(dagster), "asset", "materialize", "-m", "elex_assets.definitions",
             "--select", "trends_interest_over_time", "--partition", "fr|2026-11-20"],
            cwd=PROJECT_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            _until(lambda: len(trends.requests) >= 2, "the client's backoff on 503 answers")
            started = time.monotonic()
            run.send_signal(signum)
            run.wait(timeout=60)
            stopped = time.monotonic() - started
            print(f"Trends run stopped {stopped:.1f} s after {signum.name}")
            assert run.returncode != 0 and stopped < 10
            sent = len(trends.requests)
            time.sleep(1)
            assert len(trends.requests) == sent  # nothing more goes to Google
        finally:
            if run.poll() is None:
                run.kill()
                run.wait()
    with dg.DagsterInstance.from_config(str(tmp_path / "home")) as instance:
        (record,) = instance.get_runs()
        assert record.status == dg.DagsterRunStatus.FAILURE
        assert record.tags["dagster/will_retry"] == "false"
        assert not instance.event_log_storage.get_concurrency_info("google_trends").claimed_slots
        events = {e.dagster_event.event_type_value for e in instance.all_logs(record.run_id)
                  if e.dagster_event is not None}
        assert "STEP_UP_FOR_RETRY" not in events
