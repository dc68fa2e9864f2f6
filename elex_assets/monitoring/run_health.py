"""Crashed runs free what they hold, judged by the leases they renew in the lake.

A run killed with ``kill -9`` (or by the OOM killer) stays STARTED in the
instance and keeps its pool slot: every later run of the pool waits, and the
X schedule would skip "while a refresh runs" forever. Dagster's run monitoring
cannot see a dead worker under the default run launcher; the lease can: a
partition writer renews it while it works, so a lease owned by a STARTED run
that has gone unrenewed for its ttl by the lake's clock (or whose process is
gone, on this host) means the run is dead. Such a run is marked failed and its concurrency slots are freed.
"""

from __future__ import annotations

from collections.abc import Callable

import dagster as dg

from elex_assets.core.lake import Lake
from elex_assets.core.lease import clear_lease, read_lease

PARTITION_TAG = "dagster/partition"


def dead_run_reason(lake: Lake, run: dg.DagsterRun) -> str | None:
    """Why ``run`` is known dead, from the leases it owns; ``None`` when not known."""
    partition = run.tags.get(PARTITION_TAG)
    if not partition or not run.asset_selection:
        return None
    for key in sorted(run.asset_selection, key=lambda k: k.to_user_string()):
        asset = key.to_user_string()
        info = read_lease(lake, asset, partition)
        if info is None or info.owner != run.run_id:
            continue
        if info.process_dead:
            return (f"its process {info.pid} on {info.host} is gone (lease on {asset} "
                    f"{partition})")
        if info.expired:
            return (f"its lease on {asset} {partition} was not renewed for "
                    f"{info.age_seconds:.0f} s (ttl {info.ttl_seconds:g} s, host {info.host})")
    return None


def reap_dead_runs(
    instance: dg.DagsterInstance,
    lake: Lake,
    job_name: str | None = None,
    log: Callable[[str], None] = lambda _m: None,
) -> list[str]:
    """Mark dead STARTED runs failed and free their pool slots; returns their ids."""
    reaped = []
    records = instance.get_run_records(
        dg.RunsFilter(job_name=job_name, statuses=[dg.DagsterRunStatus.STARTED])
    )
    for record in records:
        run = record.dagster_run
        reason = dead_run_reason(lake, run)
        if reason is None:
            continue
        message = f"elex: run {run.run_id} is dead: {reason}; marked failed, slots freed"
        instance.report_run_failed(run, message=message)
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        for key in run.asset_selection or ():
            clear_lease(lake, key.to_user_string(), run.tags[PARTITION_TAG], run.run_id)
        log(message)
        reaped.append(run.run_id)
    return reaped
