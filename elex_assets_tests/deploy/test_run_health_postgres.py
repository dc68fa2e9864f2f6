"""The Postgres deployment frees a dead run's pool slot (deploy/dagster.yaml, real PostgreSQL).

The same mechanism as on sqlite (``elex_assets/monitoring/run_health.py``): the
``elex_run_health`` sensor marks a run whose worker process is gone failed and frees
its slot in Postgres' concurrency tables, so the runs queued behind it start.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from elex_assets import PROJECT_DIR
from elex_assets.monitoring.run_health import (
    HEARTBEAT_TAG,
    WORKER_TAG,
    Worker,
    build_run_health_sensor,
)
from elex_assets_tests.deploy.postgres import PostgresServer


def test_the_sensor_frees_a_dead_runs_slot_in_postgres(
    postgres: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in postgres.env.items():
        monkeypatch.setenv(name, value)
    shutil.copy(PROJECT_DIR / "deploy" / "dagster.yaml", tmp_path / "dagster.yaml")
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    worker.kill()  # kill -9: the run's worker dies holding its slot
    worker.wait()
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        run = instance.add_run(dg.DagsterRun(
            job_name="trends_job", status=dg.DagsterRunStatus.STARTED,
            tags={WORKER_TAG: Worker(Worker.this_process().host, worker.pid).tag(),
                  HEARTBEAT_TAG: "3"}))
        storage = instance.event_log_storage
        storage.set_concurrency_slots("google_trends", 1)
        assert storage.claim_concurrency_slot("google_trends", run.run_id, "s").is_claimed
        waiting = instance.add_run(dg.DagsterRun(job_name="trends_job",
                                                 status=dg.DagsterRunStatus.STARTED))
        assert not storage.claim_concurrency_slot("google_trends", waiting.run_id, "s").is_claimed

        with dg.build_sensor_context(instance=instance) as context:
            result = build_run_health_sensor()(context)
        assert "freed 1 dead run" in result.skip_message
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE
        assert storage.claim_concurrency_slot("google_trends", waiting.run_id, "s").is_claimed
