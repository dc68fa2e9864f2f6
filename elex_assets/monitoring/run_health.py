"""Crashed runs free what they hold: pool slots, leases and the STARTED status.

A run killed with ``kill -9`` (or by the OOM killer) stays STARTED and keeps its
pool slots: every later run of the pool waits for ever. Dagster's run monitoring
cannot see the dead worker under the default run launcher (it has no worker
health check), so elex tells:

* **Who runs it.** Every run's worker process tags its run, as it starts, with
  ``elex/worker`` = ``host|pid|process start`` and then beats ``elex/heartbeat``
  (a counter, every ``HEARTBEAT_SECONDS``) while it runs
  (:func:`watch_run_worker`, entered by the executor of every job).
* **Who is dead.** A run is dead when its worker ran on this host and that
  process is gone (at once), or, from another host, when its heartbeat has not
  moved for ``HEARTBEAT_EXPIRY_SECONDS`` as timed by the observer's own clock
  (no clock of another host is read). A run without worker tags (older) is
  judged by the leases it owns in the lake.
* **Who frees.** A dead run is marked failed, its slots are freed and its leases
  removed, by (1) every run as it starts and, while it runs, every
  ``POLL_SECONDS`` (so a CLI-only instance with no daemon heals too: the run
  waiting for the slot frees it); (2) the ``elex_run_health`` sensor every
  ``SENSOR_SECONDS`` under the daemon (runs queued behind a full pool are not
  launched, so they cannot free it themselves); (3) the X schedule's tick. Runs
  that ended but still hold slots are freed at once too.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import dagster as dg

from elex_assets.core.lake import Lake
from elex_assets.core.lease import clear_lease, read_lease
from elex_assets.core.processes import process_gone, process_start

PARTITION_TAG = "dagster/partition"
WORKER_TAG = "elex/worker"
HEARTBEAT_TAG = "elex/heartbeat"
HEARTBEAT_SECONDS = 15.0
HEARTBEAT_EXPIRY_SECONDS = 60.0  # 4 beats missed: a run on another host is presumed dead
POLL_SECONDS = 5.0
SENSOR_SECONDS = 20

FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE,
            dg.DagsterRunStatus.CANCELED}


@dataclass(frozen=True)
class Worker:
    """The process that runs a run: host, pid and when that process started."""

    host: str
    pid: int
    started: str = ""

    @classmethod
    def this_process(cls) -> Worker:
        return cls(socket.gethostname(), os.getpid(), process_start(os.getpid()))

    @classmethod
    def parse(cls, tag: str | None) -> Worker | None:
        if not tag:
            return None
        host, _, rest = tag.partition("|")
        pid, _, started = rest.partition("|")
        try:
            return cls(host, int(pid), started)
        except ValueError:
            return None

    def tag(self) -> str:
        return f"{self.host}|{self.pid}|{self.started}"

    @property
    def local(self) -> bool:
        return self.host == socket.gethostname()

    def gone(self) -> bool:
        """True only when it ran on this host and that process no longer exists."""
        return process_gone(self.host, self.pid, self.started)


@dataclass
class HeartbeatObserver:
    """When this observer first saw each run's current heartbeat, by its own clock."""

    clock: Callable[[], float] = time.monotonic
    expiry: float = HEARTBEAT_EXPIRY_SECONDS
    seen: dict[str, tuple[str, float]] = field(default_factory=dict)

    def stale_for(self, run_id: str, beat: str) -> float:
        """Seconds the heartbeat ``beat`` of ``run_id`` has not moved (0 when it just did)."""
        now = self.clock()
        previous = self.seen.get(run_id)
        if previous is None or previous[0] != beat:
            self.seen[run_id] = (beat, now)
            return 0.0
        return now - previous[1]

    def forget_all_but(self, run_ids: set[str]) -> None:
        for run_id in set(self.seen) - run_ids:
            del self.seen[run_id]

    def to_json(self) -> str:
        return json.dumps(self.seen)

    @classmethod
    def from_json(cls, text: str | None, clock: Callable[[], float]) -> HeartbeatObserver:
        try:
            seen = {k: (str(v[0]), float(v[1])) for k, v in json.loads(text or "{}").items()}
        except (ValueError, TypeError, IndexError, AttributeError):
            seen = {}
        return cls(clock=clock, seen=seen)


def dead_run_reason(
    lake: Lake | None, run: dg.DagsterRun, observer: HeartbeatObserver | None = None
) -> str | None:
    """Why ``run`` is known dead; ``None`` when not known."""
    worker = Worker.parse(run.tags.get(WORKER_TAG))
    if worker is not None:
        if worker.gone():
            return f"its worker process {worker.pid} on {worker.host} is gone"
        beat = run.tags.get(HEARTBEAT_TAG)
        if worker.local or observer is None or beat is None:
            return None
        stale = observer.stale_for(run.run_id, beat)
        if stale >= observer.expiry:
            return (f"its worker on {worker.host} has not beaten for {stale:.0f} s "
                    f"(heartbeat {beat}; every {HEARTBEAT_SECONDS:g} s while alive)")
        return None
    return _lease_reason(lake, run) if lake is not None else None


def _lease_reason(lake: Lake, run: dg.DagsterRun) -> str | None:
    """Why ``run`` is known dead, from the leases it owns (runs without worker tags)."""
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
                    f"{info.age_seconds:.0f} s by the lake's clock (ttl "
                    f"{info.ttl_seconds:g} s, host {info.host})")
    return None


def reap_dead_runs(
    instance: dg.DagsterInstance,
    lake: Lake | None = None,
    job_name: str | None = None,
    log: Callable[[str], None] = lambda _m: None,
    observer: HeartbeatObserver | None = None,
    exclude: str | None = None,
) -> list[str]:
    """Mark dead runs failed, free their pool slots and leases; free the slots of ended
    runs. Returns the ids of the runs reaped."""
    storage = instance.event_log_storage
    holders = set(storage.get_concurrency_run_ids())
    started = {r.dagster_run.run_id: r.dagster_run for r in instance.get_run_records(
        dg.RunsFilter(job_name=job_name, statuses=[dg.DagsterRunStatus.STARTED]))}
    candidates = dict(started)
    if holders - set(started):
        candidates.update({r.dagster_run.run_id: r.dagster_run for r in instance.get_run_records(
            dg.RunsFilter(run_ids=sorted(holders - set(started))))})
    if observer is not None:
        observer.forget_all_but(set(candidates))
    reaped = []
    for run_id, run in sorted(candidates.items()):
        if run_id == exclude or (job_name and run.job_name != job_name):
            continue
        if run.status in FINISHED:
            if run_id in holders:  # ended without freeing (no daemon to do it here)
                storage.free_concurrency_slots_for_run(run_id)
                log(f"elex: freed the pool slots run {run_id} kept after it ended "
                    f"({run.status.value})")
            continue
        reason = dead_run_reason(lake, run, observer)
        if reason is None:
            continue
        message = f"elex: run {run_id} is dead: {reason}; marked failed, slots freed"
        instance.report_run_failed(run, message=message)
        storage.free_concurrency_slots_for_run(run_id)
        if lake is not None and run.tags.get(PARTITION_TAG):
            for key in run.asset_selection or ():
                with contextlib.suppress(Exception):
                    clear_lease(lake, key.to_user_string(), run.tags[PARTITION_TAG], run_id)
        log(message)
        reaped.append(run_id)
    return reaped


@contextlib.contextmanager
def watch_run_worker(
    instance: dg.DagsterInstance,
    run_id: str,
    log: Callable[[str], None] = lambda _m: None,
    lake: Lake | None = None,
) -> Iterator[None]:
    """While a run executes: tag it with its worker, beat, and free dead runs' slots.

    The first pass runs before any step claims a slot, so a run started after a crash
    finds the pool free; the thread keeps freeing while this run waits for a slot.
    """
    stop = threading.Event()
    observer = HeartbeatObserver()

    def reap() -> None:
        try:
            reap_dead_runs(instance, lake, log=log, observer=observer, exclude=run_id)
        except Exception as exc:  # best effort: the run itself must not fail for this
            log(f"elex: could not check other runs' health: {type(exc).__name__}: {exc}")

    def beat_and_reap() -> None:
        beats, last_beat = 0, time.monotonic()
        while not stop.wait(POLL_SECONDS):
            if time.monotonic() - last_beat >= HEARTBEAT_SECONDS:
                beats, last_beat = beats + 1, time.monotonic()
                with contextlib.suppress(Exception):
                    instance.add_run_tags(run_id, {HEARTBEAT_TAG: str(beats)})
            reap()

    try:
        instance.add_run_tags(run_id, {WORKER_TAG: Worker.this_process().tag(),
                                       HEARTBEAT_TAG: "0"})
    except Exception as exc:
        log(f"elex: could not tag the run with its worker: {type(exc).__name__}: {exc}")
    reap()
    thread = threading.Thread(target=beat_and_reap, name="elex-run-health", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def build_run_health_sensor() -> dg.SensorDefinition:
    """Under the daemon: frees the slots of dead runs, so runs queued behind them start."""

    @dg.sensor(
        name="elex_run_health", minimum_interval_seconds=SENSOR_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Marks failed the runs whose worker died (kill -9, OOM, a lost host) and frees "
            "their pool slots, leases and STARTED status, so queued runs of the pool start."
        ),
    )
    def elex_run_health(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        observer = HeartbeatObserver.from_json(context.cursor, time.time)
        lake = _lake_or_none()
        reaped = reap_dead_runs(context.instance, lake, log=context.log.warning,
                                observer=observer)
        context.update_cursor(observer.to_json())
        return dg.SkipReason(f"freed {len(reaped)} dead run(s): {', '.join(reaped)}"
                             if reaped else "no dead run holds a slot")

    return elex_run_health


def _lake_or_none() -> Lake | None:
    try:
        from elex_assets.settings import Settings

        return Settings.load().lake()
    except Exception:  # the lake only judges runs without worker tags
        return None
