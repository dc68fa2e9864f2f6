"""The production set-up, exercised for real: deploy/dagster.yaml on a PostgreSQL
server, the lake on S3 (moto's server), code server + webserver + daemon as
separate processes, and a backfill carried out by the daemon.

To backfill more assets, add them to ``BACKFILLS`` with their partition keys,
their lake keys to ``expected_lake_keys`` and the servers they call (sandbox
APIs) to ``service_env``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest

from elex_assets.core.layout import (
    TRENDS_KINDS,
    clean_trends_key,
    clean_tweets_key,
    registry_key,
)
from elex_assets_tests.deploy.postgres import PostgresServer
from elex_assets_tests.deploy.stack import BIN_DIR, DEPLOY_DIR, DagsterStack

ELECTION = "2027"
LAKE_PREFIX = "elex-prod"

# One asset backfill per entry: asset key -> partition keys (None: unpartitioned).
# Assets sharing a partitioning go in one entry; e.g. with DAYS a few past days:
#   {"raw_tweets": DAYS, "tweets": DAYS},
#   {"trends_interest_over_time": [f"{area}|{day}" for area in AREAS for day in DAYS]},
# their lake keys go in expected_lake_keys() and their sandbox URLs in service_env.
DAYS = ["2026-11-18", "2026-11-19"]
BACKFILLS: list[dict[str, list[str] | None]] = [
    {"candidates": None},
    {"raw_tweets": DAYS, "tweets": DAYS},
    {f"trends_{kind}": [f"fr|{DAYS[0]}"] for kind in TRENDS_KINDS},
]

# The daemons deploy/dagster.yaml turns on, each seen heartbeating in Postgres.
EXPECTED_DAEMONS = {
    "SCHEDULER",
    "SENSOR",
    "BACKFILL",
    "QUEUED_RUN_COORDINATOR",  # run queue + concurrency limits
    "MONITORING",  # run monitoring
    "EVENT_LOG_CONSUMER",  # run retries
    "ASSET",  # declarative automation
    "FRESHNESS_DAEMON",
}


def expected_lake_keys() -> list[str]:
    from datetime import date

    days = [date.fromisoformat(d) for d in DAYS]
    trends = [clean_trends_key(k, "fr", days[0]) for k in TRENDS_KINDS]
    return [registry_key(ELECTION), *(clean_tweets_key(d) for d in days), *trends]


@pytest.fixture(scope="module")
def trends_sandbox_url() -> Iterator[str]:
    from elex_assets.sandbox.trends_server import TrendsSandbox

    with TrendsSandbox() as sandbox:
        yield sandbox.base_url


@pytest.fixture(scope="module")
def x_sandbox_url() -> Iterator[str]:
    """The sandbox X API for the production processes (full-archive search: past days)."""
    from elex_assets.sandbox.x_server import XSandbox

    with XSandbox(election=ELECTION, posts_per_day=500, seed=11) as sandbox:
        yield sandbox.base_url


@pytest.fixture(scope="module")
def bucket(moto_server: str) -> str:
    name = "elex-production-test"
    s3 = boto3.client(
        "s3",
        endpoint_url=moto_server,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="module")
def service_env(
    moto_server: str, bucket: str, x_sandbox_url: str, trends_sandbox_url: str
) -> dict[str, str]:
    """What the production processes read: the lake on S3 through the AWS chain."""
    return {
        "TRENDS_BASE_URL": trends_sandbox_url,
        "TRENDS_MIN_INTERVAL_SECONDS": "0",
        "X_API_BASE_URL": x_sandbox_url,
        "X_SEARCH_ENDPOINT": "all",
        "ELEX_ELECTION": ELECTION,
        "ELEX_LAKE_URL": f"s3://{bucket}/{LAKE_PREFIX}",
        "AWS_ENDPOINT_URL": moto_server,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


@pytest.fixture(scope="module")
def stack(postgres: PostgresServer, service_env: dict[str, str]) -> Iterator[DagsterStack]:
    stack = DagsterStack(env={**service_env, **postgres.env})
    try:
        stack.start(daemon=False)
        yield stack
    finally:
        stack.stop()


def test_instance_info_validates_the_production_config(
    postgres: PostgresServer, service_env: dict[str, str], tmp_path: Path
) -> None:
    """`dagster instance info` loads deploy/dagster.yaml, reaches Postgres, schema up to date."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(DEPLOY_DIR / "dagster.yaml", home / "dagster.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAGSTER_")}
    env.update(service_env, **postgres.env, DAGSTER_HOME=str(home))
    result = subprocess.run(
        [str(BIN_DIR / "dagster"), "instance", "info"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    info = result.stdout
    for storage in ("PostgresRunStorage", "PostgresEventLogStorage", "PostgresScheduleStorage"):
        assert f": {storage}" in info, info
    schema = info[info.index("Storage schema state") :]
    currents = re.findall(r"current: (\w+)", schema)
    latests = re.findall(r"latest: (\w+)", schema)
    assert len(currents) == 3 and currents == latests, schema


@pytest.mark.timeout(600)
def test_backfill_through_the_daemon_lands_in_s3_and_postgres(
    stack: DagsterStack,
    postgres: PostgresServer,
    moto_server: str,
    bucket: str,
    report: Callable[[str], None],
) -> None:
    # Backfills are requested first and the daemon started after: its first
    # backfill iteration picks them up at once instead of after its 30 s sleep.
    backfill_ids = [stack.launch_backfill(selection) for selection in BACKFILLS]
    stack.start_daemon()

    runs: list[dict] = []
    for backfill_id, selection in zip(backfill_ids, BACKFILLS, strict=True):
        status = stack.wait_backfill(backfill_id, timeout=420)
        backfill_runs = stack.backfill_runs(backfill_id)
        report(f"backfill {backfill_id} {sorted(selection)}: {status}")
        for run in backfill_runs:
            report(f"  run {run['runId'][:8]} {run['status']} {run['assets']} {run['partition']}")
        assert status == "COMPLETED_SUCCESS", stack.logs()
        runs += backfill_runs
    succeeded = [r for r in runs if r["status"] == "SUCCESS"]
    report(f"runs launched: {len(runs)}, succeeded: {len(succeeded)}")
    assert runs and len(succeeded) == len(runs)

    # The event log is in Postgres: every requested asset partition materialised.
    run_ids = [r["runId"] for r in runs]
    rows = postgres.query(
        "SELECT asset_key, partition FROM event_logs "
        "WHERE dagster_event_type = 'ASSET_MATERIALIZATION' AND run_id = ANY(%s)",
        (run_ids,),
    )
    materialised = {("/".join(json.loads(key)), part) for key, part in rows}
    requested = {
        (key, part)
        for selection in BACKFILLS
        for key, parts in selection.items()
        for part in (parts if parts is not None else [None])
    }
    report(f"materialisations in Postgres event_logs: {len(rows)}")
    assert requested <= materialised, f"missing: {requested - materialised}"
    enqueued = postgres.query(
        "SELECT count(DISTINCT run_id) FROM event_logs "
        "WHERE dagster_event_type = 'PIPELINE_ENQUEUED' AND run_id = ANY(%s)",
        (run_ids,),
    )[0][0]
    assert enqueued == len(runs), "every run went through the run queue"

    heartbeats = {row[0] for row in postgres.query("SELECT daemon_type FROM daemon_heartbeats")}
    report(f"daemons heartbeating in Postgres: {sorted(heartbeats)}")
    assert heartbeats >= EXPECTED_DAEMONS, f"missing: {EXPECTED_DAEMONS - heartbeats}"

    # The lake objects are in S3 under the configured prefix.
    s3 = boto3.client(
        "s3",
        endpoint_url=moto_server,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=f"{LAKE_PREFIX}/")
    objects = {o["Key"]: o["Size"] for o in listing.get("Contents", [])}
    report(f"lake objects in s3://{bucket}/{LAKE_PREFIX}/: {len(objects)}")
    for key, size in sorted(objects.items()):
        report(f"  {key} ({size} bytes)")
    for key in expected_lake_keys():
        assert objects.get(f"{LAKE_PREFIX}/{key}", 0) > 0, f"{key} missing from the lake"
