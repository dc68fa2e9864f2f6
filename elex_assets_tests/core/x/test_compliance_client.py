"""The compliance client against the sandbox: polling with a growing pause, retries, refusals."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from elex_assets.core.x.compliance_client import (
    ComplianceClient,
    ComplianceError,
    ComplianceJobEnded,
    CompliancePolicy,
    ComplianceTransientError,
)
from elex_assets.sandbox.x_compliance import compliance_for
from elex_assets.sandbox.x_server import XSandbox
from elex_assets_tests.sandbox.test_x_compliance_sandbox import ids_posted


@pytest.fixture
def sandbox():
    with XSandbox(election="2022") as server:
        yield server


def client(sandbox: XSandbox, sleeps: list[float], **policy) -> ComplianceClient:
    return ComplianceClient("secret-token", sandbox.base_url,
                            CompliancePolicy(**{"poll_first": 5.0, **policy}),
                            sleep=sleeps.append)


def test_polls_with_a_doubling_pause_until_complete(sandbox):
    compliance_for(sandbox).polls_to_complete = 4
    sleeps: list[float] = []
    ids = ids_posted(datetime(2022, 4, 2, tzinfo=UTC), 3000)
    job, events = client(sandbox, sleeps).run(ids, "test")
    assert job["status"] == "complete"
    assert sleeps == [5.0, 10.0, 20.0]  # three polls in progress, the fourth complete
    assert events and {e.id for e in events} <= set(ids)


def test_transient_faults_are_retried_deterministic_ones_are_not(sandbox):
    sleeps: list[float] = []
    sandbox.faults.add("503", times=2, path="/2/compliance/jobs")
    c = client(sandbox, sleeps, backoff_base=1.0)
    job = c.create_job("t")
    assert job["status"] == "created" and len(sleeps) == 2 and c.requests == 3
    sandbox.faults.add("403", path="/2/compliance/jobs")
    with pytest.raises(ComplianceError, match="HTTP 403.*X_BEARER_TOKEN") as info:
        c.wait(job["id"])
    assert "secret-token" not in str(info.value)
    sandbox.faults.add("503", times=10, path="/2/compliance/jobs")
    with pytest.raises(ComplianceTransientError, match="after 3 attempts"):
        client(sandbox, [], max_attempts=3).wait(job["id"])


def test_a_failed_job_and_a_timeout(sandbox):
    comp = compliance_for(sandbox)
    comp.outcomes.append("fail")
    with pytest.raises(ComplianceJobEnded, match="status 'failed'"):
        client(sandbox, []).run(["1"], "t")
    comp.polls_to_complete = 100
    with pytest.raises(ComplianceTransientError, match="still 'in_progress'"):
        client(sandbox, [], max_wait=30).run(["1"], "t2")


def test_a_429_waits_for_its_reset_and_a_far_reset_is_not_waited_for(sandbox):
    sleeps: list[float] = []
    sandbox.faults.add("429", path="/2/compliance/jobs", reset_in=3)
    c = client(sandbox, sleeps)
    assert c.create_job("t")["status"] == "created"
    assert c.requests == 2 and len(sleeps) == 1 and 3.0 < sleeps[0] <= 4.5
    sandbox.faults.add("429", path="/2/compliance/jobs", reset_in=3600)
    sleeps.clear()
    with pytest.raises(ComplianceTransientError, match="reset in .* exceeds the bound of 960s"):
        c.create_job("t")
    assert c.requests == 3 and sleeps == []
