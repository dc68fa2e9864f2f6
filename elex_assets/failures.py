"""Failures that running again cannot fix end the run at once: no step retry, no run retry.

What is deterministic is defined once, in the core (``core.retrying.is_deterministic``:
each error says whether it is ``transient``); this module makes Dagster honour it.
A step retry is stopped by ``dg.Failure(allow_retries=False)``. The instance's
run retries (``run_retries`` in ``dagster.yaml``) would still re-queue the whole
run, so the run is also tagged before it fails (``NO_RUN_RETRY_TAGS``): the
instance reads those tags when it decides whether to retry. Transient faults
(exhausted API retries, lost workers, a full disk) keep both retries.

Every asset and op body runs under :func:`final_errors` (the decorator
:func:`final_on_deterministic`), so no collector can forget it.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import dagster as dg

from elex_assets.core.retrying import is_deterministic

F = TypeVar("F", bound=Callable[..., Any])

# dagster._core.storage.tags.RETRY_ON_ASSET_OR_OP_FAILURE_TAG (not exported publicly).
NO_RUN_RETRY_TAG = "dagster/retry_on_asset_or_op_failure"
# dagster._core.storage.tags.MAX_RETRIES_TAG: the instance reads it for any failure reason
# (an interrupted run fails as UNEXPECTED_TERMINATION, which the tag above does not cover).
MAX_RETRIES_TAG = "dagster/max_retries"
NO_RUN_RETRY_TAGS = {NO_RUN_RETRY_TAG: "false", MAX_RETRIES_TAG: "0"}

Context = dg.AssetExecutionContext | dg.OpExecutionContext


def no_run_retry(instance: dg.DagsterInstance, run_id: str) -> None:
    """Tag the run so that the instance's run retries leave it failed (best effort)."""
    with contextlib.suppress(Exception):  # tagging is best effort; the failure is not
        instance.add_run_tags(run_id, NO_RUN_RETRY_TAGS)


def stop_without_retry(context: Context, exc: BaseException | str) -> dg.Failure:
    """The failure to raise for ``exc``: its message (and notes), never retried."""
    if isinstance(exc, BaseException):
        message = "\n".join([f"{type(exc).__name__}: {exc}", *getattr(exc, "__notes__", [])])
    else:
        message = exc
    no_run_retry(context.instance, context.run.run_id)
    return dg.Failure(description=message, allow_retries=False)


@contextlib.contextmanager
def final_errors(context: Context) -> Iterator[None]:
    """Make every deterministic error of the body final: a ``dg.Failure(allow_retries=
    False)`` raised in it, or any error that says it is not transient, ends the step
    unretried and tags the run against run retries. Anything else passes unchanged."""
    try:
        yield
    except dg.Failure as failure:
        if not failure.allow_retries:
            no_run_retry(context.instance, context.run.run_id)
        raise
    except dg.RetryRequested:
        raise
    except Exception as exc:
        if is_deterministic(exc):
            raise stop_without_retry(context, exc) from None
        raise


def final_on_deterministic(fn: F) -> F:
    """An asset or op body (context first) run under :func:`final_errors`."""

    if inspect.isgeneratorfunction(fn):  # a body that yields its results (a range run)

        @functools.wraps(fn)
        def body(context: Context, *args: Any, **kwargs: Any) -> Any:
            with final_errors(context):
                yield from fn(context, *args, **kwargs)
    else:

        @functools.wraps(fn)
        def body(context: Context, *args: Any, **kwargs: Any) -> Any:
            with final_errors(context):
                return fn(context, *args, **kwargs)

    # Dagster reads parameters and their types off the signature: the body's own, with
    # the annotations resolved (a module with postponed annotations holds strings).
    body.__signature__ = inspect.signature(fn, eval_str=True)  # type: ignore[attr-defined]
    body.final_on_deterministic = True  # type: ignore[attr-defined]  # tests find it
    return body  # type: ignore[return-value]


@contextlib.contextmanager
def deterministic(
    context: Context,
    errors: tuple[type[BaseException], ...],
    transient: tuple[type[BaseException], ...] = (),
) -> Iterator[None]:
    """Turn ``errors`` (but not their ``transient`` subclasses) into unretried failures:
    for errors that are deterministic *here* although not everywhere (a ``ValueError``
    while the settings and registry load)."""
    try:
        yield
    except dg.Failure:
        raise
    except transient as exc:
        if is_deterministic(exc):  # a rate limit past the wait bound
            raise stop_without_retry(context, exc) from None
        raise
    except errors as exc:
        raise stop_without_retry(context, exc) from None
