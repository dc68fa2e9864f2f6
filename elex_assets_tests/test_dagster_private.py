"""Pins each private Dagster name elex uses (``elex_assets.dagster_private``).

A Dagster upgrade that moves or changes one fails here, naming it, instead of in a
collector or the alert sensor at run time.
"""

from __future__ import annotations

import inspect
import os
import signal
from datetime import timedelta

import dagster as dg
import pytest

from elex_assets import dagster_private as dp

DAYS = dg.DailyPartitionsDefinition(start_date="2026-01-01", end_date="2026-01-04")


def test_only_the_adapter_imports_dagster_private_modules() -> None:
    import pathlib

    package = pathlib.Path(dp.__file__).parent
    offenders = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if path.name != "dagster_private.py"
        and any(
            line.lstrip().startswith(("from dagster._", "import dagster._"))
            for line in path.read_text().splitlines()
        )
    ]
    assert offenders == []


def test_define_asset_job_returns_the_unresolved_job_class() -> None:
    @dg.asset(partitions_def=DAYS)
    def daily() -> None: ...

    job = dg.define_asset_job("probe_job", selection=[daily])
    assert isinstance(job, dp.UnresolvedAssetJobDefinition)
    assert not hasattr(dg, "UnresolvedAssetJobDefinition")
    # The job takes its partitions from the assets, without the deprecated argument.
    schedule = dg.build_schedule_from_partitioned_job(job)
    defs = dg.Definitions(assets=[daily], jobs=[job], schedules=[schedule])
    assert defs.resolve_job_def("probe_job").partitions_def == DAYS


def test_freshness_state_fail_and_its_value() -> None:
    assert dp.FreshnessState.FAIL in set(dp.FreshnessState)
    assert isinstance(dp.FreshnessState.FAIL.value, str)
    assert dp.FreshnessState.FAIL != dp.FreshnessState.PASS


def test_partition_key_filter_narrows_check_history_to_one_partition() -> None:
    @dg.asset(partitions_def=DAYS)
    def counted() -> None: ...

    @dg.asset_check(asset=counted, partitions_def=DAYS)
    def non_empty(context) -> dg.AssetCheckResult:  # noqa: ANN001 (Dagster reads the annotation)
        return dg.AssetCheckResult(passed=context.partition_key != "2026-01-02")

    instance = dg.DagsterInstance.ephemeral()
    for day in ("2026-01-01", "2026-01-02", "2026-01-03"):
        dg.materialize([counted, non_empty], partition_key=day, instance=instance)
    key = non_empty.check_key
    history = instance.event_log_storage.get_asset_check_execution_history(
        key, limit=1, partition_filter=dp.PartitionKeyFilter(key="2026-01-02")
    )
    assert [r.partition for r in history] == ["2026-01-02"]


def test_in_process_executor_parts_the_stoppable_executor_rebuilds() -> None:
    assert isinstance(dp.IN_PROC_CONFIG, dg.Field)
    base = dp._core_in_process_executor_creation({"retries": {"enabled": {}}})
    assert isinstance(base, dp.InProcessExecutor)
    rebuilt = dp.InProcessExecutor(
        retries=base.retries,
        step_dependency_config=base.step_dependency_config,
        marker_to_close=base.marker_to_close,
    )
    assert rebuilt.retries == base.retries
    assert list(inspect.signature(dp.InProcessExecutor.execute).parameters) == [
        "self", "plan_context", "execution_plan",
    ]


def test_interrupted_error_is_not_an_exception() -> None:
    # A BaseException, so a step's ``except Exception`` does not swallow the interrupt.
    assert issubclass(dp.DagsterExecutionInterruptedError, BaseException)
    assert not issubclass(dp.DagsterExecutionInterruptedError, Exception)


def test_check_captured_interrupt_sees_a_deferred_sigint() -> None:
    from dagster._utils.interrupts import capture_interrupts

    assert dp.check_captured_interrupt() is False
    with capture_interrupts():
        os.kill(os.getpid(), signal.SIGINT)  # deferred by Dagster, not a KeyboardInterrupt
        assert dp.check_captured_interrupt() is True
    assert dp.check_captured_interrupt() is False  # cleared when the capture ends


def test_a_deprecated_dagster_call_from_elex_code_fails_the_tests() -> None:
    """The pytest filters in pyproject.toml turn it into an error (third parties' stay ignored)."""
    source = 'import dagster as dg\ndg.define_asset_job("old", selection="*", partitions_def=DAYS)\n'
    with pytest.raises(DeprecationWarning, match="partitions_def"):
        exec(compile(source, "elex_assets/probe.py", "exec"), {"__name__": "elex_assets.probe", "DAYS": DAYS})
    exec(compile(source, "thirdparty/probe.py", "exec"), {"__name__": "thirdparty.probe", "DAYS": DAYS})


def test_is_valid_cron_string_is_dagsters_cron_check() -> None:
    assert dp.is_valid_cron_string("0 12 * * 1")
    assert not dp.is_valid_cron_string("not a cron")
    with pytest.raises(Exception, match="cron"):
        dg.FreshnessPolicy.cron(deadline_cron="not a cron", lower_bound_delta=timedelta(hours=1))
