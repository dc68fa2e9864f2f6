"""Deterministic errors end their run at once (no step retry, no run retry); transient ones
keep the instance's run retries."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from elex_assets.core.registry import load_registry
from elex_assets.defs.x.assets import x_assets_for
from elex_assets.defs.x.resources import XResource
from elex_assets.resources import LakeResource, RegistryResource
from elex_assets.sandbox.x_server import XSandbox

RAW, _ = x_assets_for(load_registry("2022").election)
RETRIES = {"run_retries": {"enabled": True, "max_retries": 2}}


def _run(instance: dg.DagsterInstance, lake: Path, base_url: str, **x: object):  # noqa: ANN202
    return dg.materialize(
        [RAW], partition_key="2022-04-09", instance=instance, raise_on_error=False,
        resources={
            "lake": LakeResource(url=str(lake)),
            "registry": RegistryResource(election="2022"),
            "x": XResource(base_url=base_url, endpoint="all", backoff_base=0.01, **x),
        },
    )


@pytest.mark.parametrize(
    ("fault", "times", "will_retry", "error"),
    [
        ("401", 1, "false", "XAuthError"),
        ("usage_cap", 1, "false", "XUsageCapError"),
        ("503", 50, "true", "XRetriesExhausted"),
    ],
)
def test_only_transient_failures_are_retried(
    x_sandbox: XSandbox, tmp_path: Path, fault: str, times: int, will_retry: str, error: str
) -> None:
    x_sandbox.faults.add(fault, times=times)
    with dg.instance_for_test(overrides=RETRIES) as instance:
        result = _run(instance, tmp_path, x_sandbox.base_url, max_attempts=2)
        assert not result.success
        failure = result.get_step_failure_events()[0].step_failure_data.error
        assert error in failure.to_string()
        run = instance.get_run_by_id(result.run_id)
        assert run.tags["dagster/will_retry"] == will_retry
        assert len(x_sandbox.search_requests()) == (1 if will_retry == "false" else 2)


def test_a_bad_mode_fails_without_retry(x_sandbox: XSandbox, tmp_path: Path) -> None:
    with dg.instance_for_test(overrides=RETRIES) as instance:
        result = dg.materialize(
            [RAW], partition_key="2022-04-09", instance=instance, raise_on_error=False,
            run_config={"ops": {"raw_tweets": {"config": {"mode": "everything"}}}},
            resources={
                "lake": LakeResource(url=str(tmp_path)),
                "registry": RegistryResource(election="2022"),
                "x": XResource(base_url=x_sandbox.base_url, endpoint="all"),
            },
        )
        assert not result.success
        assert instance.get_run_by_id(result.run_id).tags["dagster/will_retry"] == "false"
        assert not x_sandbox.search_requests()
