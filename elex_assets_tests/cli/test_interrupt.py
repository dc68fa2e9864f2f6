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
        "elex: error: ValueError: ELEX_ELECTION='1999' is not supported; choose one of "
        "2017, 2022, 2027 (--verbose shows the traceback)"
    ]
    verbose = _elex("--verbose", "demo", ELEX_ELECTION="1999")
    assert verbose.returncode == 1 and "Traceback (most recent call last)" in verbose.stderr
