"""The parts of Dagster's private API (``dagster._…``) that elex relies on, in one place.

Dagster 1.13 does not export these at the top level; each is imported here, and only
here, so that a Dagster upgrade that moves one breaks this module (and
``elex_assets_tests/test_dagster_private.py``, which pins each) rather than a
collector at run time. Why each is needed:

- ``UnresolvedAssetJobDefinition``: the class ``dg.define_asset_job`` returns. elex
  names it in type hints only (functions that build a job and hand it to a schedule
  or sensor); ``dg.UnresolvedAssetJobDefinition`` does not exist.
- ``FreshnessState``: the freshness daemon's verdict on an asset (``FAIL`` is what the
  alert sensor announces). The public API exposes freshness policies, not the states
  the instance records.
- ``PartitionKeyFilter``: narrows the asset-check history query to one partition, so
  the alert sensor reads the latest evaluation of a check *for that day*.
- ``IN_PROC_CONFIG``, ``_core_in_process_executor_creation``, ``InProcessExecutor``:
  the in-process executor's config schema, its construction from that config and its
  class; ``elex_assets.executor`` subclasses it to add the interrupt watchdog while
  keeping Dagster's own config and behaviour.
- ``DagsterExecutionInterruptedError``: the error Dagster raises when a run is
  interrupted; the watchdog raises it in the run's thread so the run ends as
  interrupted (not failed) and Dagster's normal clean-up runs.
- ``check_captured_interrupt``: whether Dagster has deferred a SIGTERM/SIGINT; the
  watchdog polls it to know an interrupt is pending.
- ``is_valid_cron_string``: the cron parser Dagster's schedules and freshness policies
  use; ``ELEX_FRESHNESS_KAGGLE_CRON`` is checked with it when the settings load, so a
  bad string is refused naming the variable (not as an invariant failure later).
"""

from __future__ import annotations

from dagster._core.definitions.executor_definition import (
    IN_PROC_CONFIG,
    _core_in_process_executor_creation,
)
from dagster._core.definitions.freshness import FreshnessState
from dagster._core.definitions.unresolved_asset_job_definition import (
    UnresolvedAssetJobDefinition,
)
from dagster._core.errors import DagsterExecutionInterruptedError
from dagster._core.event_api import PartitionKeyFilter
from dagster._core.executor.in_process import InProcessExecutor
from dagster._utils.interrupts import check_captured_interrupt
from dagster._utils.schedules import is_valid_cron_string

__all__ = [
    "IN_PROC_CONFIG",
    "DagsterExecutionInterruptedError",
    "FreshnessState",
    "InProcessExecutor",
    "PartitionKeyFilter",
    "UnresolvedAssetJobDefinition",
    "_core_in_process_executor_creation",
    "check_captured_interrupt",
    "is_valid_cron_string",
]
