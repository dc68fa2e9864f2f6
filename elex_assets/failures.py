"""Failures that running again cannot fix end the run at once: no step retry, no run retry.

A step retry is stopped by ``dg.Failure(allow_retries=False)``. The instance's
run retries (``run_retries`` in ``dagster.yaml``) would still re-queue the whole
run, so the run is also tagged ``dagster/retry_on_asset_or_op_failure=false``
before it fails: the instance reads that tag when it decides whether to retry.
Transient faults (exhausted API retries, lost workers) keep both retries.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import dagster as dg

# dagster._core.storage.tags.RETRY_ON_ASSET_OR_OP_FAILURE_TAG (not exported publicly).
NO_RUN_RETRY_TAG = "dagster/retry_on_asset_or_op_failure"
# dagster._core.storage.tags.MAX_RETRIES_TAG: the instance reads it for any failure reason
# (an interrupted run fails as UNEXPECTED_TERMINATION, which the tag above does not cover).
MAX_RETRIES_TAG = "dagster/max_retries"
NO_RUN_RETRY_TAGS = {NO_RUN_RETRY_TAG: "false", MAX_RETRIES_TAG: "0"}


def no_run_retry(instance: dg.DagsterInstance, run_id: str) -> None:
    """Tag the run so that the instance's run retries leave it failed (best effort)."""
    with contextlib.suppress(Exception):  # tagging is best effort; the failure is not
        instance.add_run_tags(run_id, NO_RUN_RETRY_TAGS)


def stop_without_retry(
    context: dg.AssetExecutionContext | dg.OpExecutionContext, exc: BaseException | str
) -> dg.Failure:
    """The failure to raise for ``exc``: its message (and notes), never retried."""
    if isinstance(exc, BaseException):
        message = "\n".join([f"{type(exc).__name__}: {exc}", *getattr(exc, "__notes__", [])])
    else:
        message = exc
    no_run_retry(context.instance, context.run.run_id)
    return dg.Failure(description=message, allow_retries=False)


@contextlib.contextmanager
def deterministic(
    context: dg.AssetExecutionContext | dg.OpExecutionContext,
    errors: tuple[type[BaseException], ...],
    transient: tuple[type[BaseException], ...] = (),
) -> Iterator[None]:
    """Turn ``errors`` (but not their ``transient`` subclasses) into unretried failures."""
    try:
        yield
    except dg.Failure:
        raise
    except transient:
        raise
    except errors as exc:
        raise stop_without_retry(context, exc) from None
