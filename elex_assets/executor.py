"""The in-process executor, made to stop within seconds of SIGTERM or Ctrl-C.

Dagster defers an interrupt until the run reaches a point where it is safe to
raise it (a step's code, a resource's setup). A run whose step waits for a pool
slot (``x_api`` held by another run) never reaches one: it ignored SIGTERM for as
long as the slot was held, and ``kill -9`` was the only way out, which leaves the
run STARTED. Here a watchdog thread sees the deferred interrupt; if the run has
not acted on it within ``GRACE_SECONDS`` it raises Dagster's own interruption in
the run's thread, so the run ends as interrupted, its pending claim and slots are
released by Dagster's normal clean-up, and the process exits. An interrupted run
is tagged so that the instance's run retries leave it failed: it was stopped on
purpose.
"""

from __future__ import annotations

import contextlib
import ctypes
import threading
from collections.abc import Iterator

import dagster as dg

from elex_assets.dagster_private import (
    IN_PROC_CONFIG,
    DagsterExecutionInterruptedError,
    InProcessExecutor,
    _core_in_process_executor_creation,
    check_captured_interrupt,
)
from elex_assets.failures import no_run_retry

GRACE_SECONDS = 3.0
POLL_SECONDS = 0.2


@contextlib.contextmanager
def interrupt_watchdog(grace_seconds: float = GRACE_SECONDS) -> Iterator[None]:
    """While the body runs, turn an interrupt deferred for ``grace_seconds`` into an error."""
    target = threading.current_thread()
    if target is not threading.main_thread():
        yield  # signals reach the main thread only
        return
    stop = threading.Event()

    def watch() -> None:
        pending = 0.0
        while not stop.wait(POLL_SECONDS):
            pending = pending + POLL_SECONDS if check_captured_interrupt() else 0.0
            if pending >= grace_seconds:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(target.ident or 0),
                    ctypes.py_object(DagsterExecutionInterruptedError),
                )
                return

    thread = threading.Thread(target=watch, name="elex-interrupt-watchdog", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=1)


class StoppableInProcessExecutor(InProcessExecutor):
    def execute(self, plan_context, execution_plan):  # noqa: ANN001, ANN201
        # The run's worker tags itself and frees the pool slots of dead runs, first of all
        # before its own steps claim slots (elex_assets/monitoring/run_health.py).
        from elex_assets.monitoring.run_health import watch_run_worker

        log = plan_context.log.warning
        try:
            with interrupt_watchdog(), watch_run_worker(plan_context.instance,
                                                        plan_context.run_id, log=log):
                yield from super().execute(plan_context, execution_plan)
        except (KeyboardInterrupt, DagsterExecutionInterruptedError):
            # Stopped on purpose: the instance's run retries must not start it again.
            no_run_retry(plan_context.instance, plan_context.run_id)
            raise


@dg.executor(name="in_process", config_schema=IN_PROC_CONFIG)
def stoppable_in_process_executor(init_context: dg.InitExecutorContext) -> InProcessExecutor:
    """Dagster's in-process executor (same config) with :func:`interrupt_watchdog`."""
    base = _core_in_process_executor_creation(init_context.executor_config)
    return StoppableInProcessExecutor(
        retries=base.retries,
        step_dependency_config=base.step_dependency_config,
        marker_to_close=base.marker_to_close,
    )
