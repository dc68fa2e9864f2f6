"""Shared limits across processes, measured: slot recovery, the dollar ceiling, the cool-down.

    .venv/bin/python bench/shared_limits.py

Prints, on this machine, against the sandboxes (and moto's S3 server):
- seconds from ``kill -9`` of a ``tweet_counts`` CLI run holding ``x_api`` until the
  next CLI run (no daemon) has failed the dead run and taken the slot;
- dollars billed to three processes with ``X_MAX_USD_PER_DAY=1`` on one lake
  (local folder, then S3);
- requests that reached Google after the first refusal was recorded, three
  processes in block mode (local folder, then S3).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from elex_assets.settings.env import apply_env, child_env  # noqa: E402
from elex_assets_tests.core.trends import test_cooldown_processes as cooldown  # noqa: E402
from elex_assets_tests.core.x import test_spend_processes as spend  # noqa: E402


def slot_recovery(tmp: Path) -> float:
    import dagster as dg

    from elex_assets.core.registry import load_registry
    from elex_assets.sandbox.x_server import XSandbox
    from elex_assets_tests.monitoring.test_run_health import _materialize

    registry = load_registry("2027")
    (tmp / "home").mkdir(parents=True)
    shutil.copy(ROOT / "dagster.yaml", tmp / "home" / "dagster.yaml")
    with XSandbox(registry.selected(), registry.election, posts_per_day=200, seed=3) as box:
        env = child_env({"DAGSTER_HOME": str(tmp / "home"), "ELEX_LAKE_URL": str(tmp / "lake"),
               "ELEX_ELECTION": "2027", "X_API_BASE_URL": box.base_url,
               "X_SEARCH_ENDPOINT": "all", "TMPDIR": str(tmp)})
        box.faults.add("429", path="/2/tweets/counts", reset_in=600)
        first = _materialize(env, stdout=open(os.devnull, "w"), stderr=open(os.devnull, "w"))  # noqa: SIM115
        while not box.faults.injected:
            time.sleep(0.1)
        os.killpg(first.pid, signal.SIGKILL)
        killed = time.time()
        first.wait()
        second = _materialize(env, stdout=open(os.devnull, "w"), stderr=open(os.devnull, "w"))  # noqa: SIM115
        second.wait(timeout=600)
    with dg.DagsterInstance.from_config(str(tmp / "home")) as instance:
        runs = {r.tags.get("elex/worker", "").split("|")[1]: r for r in instance.get_runs()}
        dead, new = runs[str(first.pid)], runs[str(second.pid)]
        failed = instance.all_logs(dead.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
        starts = instance.all_logs(new.run_id, of_type=dg.DagsterEventType.STEP_START)
        print(f"  dead run failed {failed[-1].timestamp - killed:.1f} s after kill -9; "
              f"next run's step started {starts[0].timestamp - killed:.1f} s after "
              f"(includes the next run's own start-up)")
        return starts[0].timestamp - killed


def main() -> None:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log

    from elex_assets.sandbox.trends_server import TrendsSandbox
    from elex_assets.sandbox.x_server import XSandbox

    with tempfile.TemporaryDirectory(prefix="elex-bench-") as tmpdir:
        tmp = Path(tmpdir)
        print("kill -9 of a tweet_counts run holding x_api, no daemon:")
        slot_recovery(tmp / "slots")

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        apply_env({"AWS_ENDPOINT_URL": f"http://{host}:{port}",
                           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                           "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"})
        import boto3

        bucket = f"elex-{uuid.uuid4().hex[:12]}"
        boto3.client("s3", endpoint_url=f"http://{host}:{port}",
                     region_name="us-east-1").create_bucket(Bucket=bucket)
        try:
            for where, url in (("local", str(tmp / "lake-spend")),
                               ("s3", f"s3://{bucket}/spend")):
                work = tmp / f"spend-{where}"
                work.mkdir()
                with XSandbox(election="2022", posts_per_day=2000, seed=7) as box:
                    spend._spend_together(url, box, work)
                    billed = box.served["posts_read"] * 0.005
                print(f"3 processes, X_MAX_USD_PER_DAY=1, {where} lake: billed ${billed:.2f}")
            for where, url in (("local", str(tmp / "lake-trends")),
                               ("s3", f"s3://{bucket}/trends")):
                work = tmp / f"trends-{where}"
                work.mkdir()
                with TrendsSandbox() as box:
                    after = cooldown._three_processes_in_block_mode(url, box, work)
                print(f"3 processes in block mode, {where} lake: {len(after)} request(s) after "
                      "the first refusal was recorded")
        finally:
            with contextlib.suppress(Exception):
                server.stop()


if __name__ == "__main__":
    main()
