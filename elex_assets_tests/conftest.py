"""Shared fixtures: real servers on loopback for the external systems."""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from datetime import datetime

import pytest
from moto.server import ThreadedMotoServer

from elex_assets.sandbox.trends_server import TrendsSandbox
from elex_assets_tests.clock import CALENDAR_INSTANTS, NOW, at

# The slowest modules (docs/changes/ci-speed.md), longest first. Under pytest-xdist
# (`make test`) each module runs whole on one worker, modules in collection order: these
# start first, so that none of them is left running alone at the end.
SLOW_MODULES = (
    "deploy/test_production.py",
    "ui/test_browser.py",
    "defs/kaggle/test_assets.py",
    "cli/test_interrupt.py",
    "cli/test_materialize.py",
    "deploy/test_run_health_postgres.py",  # a PostgreSQL server and a Dagster subprocess
    "core/kaggle/test_starter_notebook.py",
    "core/test_lease.py",
    "defs/trends/test_assets.py",
    "test_crash_recovery.py",
)


def _in_own_context(runtest: Callable[[], None]) -> Callable[[], None]:
    """A test body run in a copy of the context variables, so nothing it leaves behind can
    change another test's.

    The cause of the "undefined DagsterInstance weakref" (or "unable to open database
    file") failures that struck tests at random (the dollar-ceiling test, the Bluesky
    monitoring test): entering a Dagster instance sets a ContextVar to its storage, and an
    object that entered one and is closed late (a sensor or schedule context built without
    ``with``, closed when the garbage collector gets to it, during a later test) calls
    ``ContextVar.reset`` with its token, putting back the value of its own time: the
    storage of an instance disposed since. Whichever test loaded definitions next failed,
    depending on when the collector ran. A token made in another test's context cannot be
    reset in this one (Dagster then clears the variable instead).
    """

    def run() -> None:
        contextvars.copy_context().run(runtest)

    return run


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that takes ``calendar_now`` is a calendar test: ``pytest -m calendar`` runs
    them. Slow modules go first (stable: every other test keeps its place)."""
    for item in items:
        if "calendar_now" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.calendar)
        if isinstance(item, pytest.Function):
            item.runtest = _in_own_context(item.runtest)  # type: ignore[method-assign]

    def rank(item: pytest.Item) -> int:
        module = item.nodeid.split("::", 1)[0].removeprefix("elex_assets_tests/")
        return SLOW_MODULES.index(module) if module in SLOW_MODULES else len(SLOW_MODULES)

    items.sort(key=rank)


@pytest.fixture(autouse=True)
def _dagster_state_storage_per_test() -> Iterator[None]:
    """Each test starts with no current Dagster definitions-state storage.

    A Dagster context that enters an instance and is never closed (a schedule context
    built without ``with``) leaves that instance's state storage current; once the
    instance is collected, the next ``materialize`` in the same process fails with
    "Attempted to resolve undefined DagsterInstance weakref". Resetting it per test
    keeps tests independent of their order.
    """
    from dagster._core.storage.defs_state.base import set_defs_state_storage

    with set_defs_state_storage(None):
        yield




@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto's HTTP server on a free loopback port; yields its endpoint URL."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_env(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """AWS environment pointing boto3 and polars at the moto server."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return moto_server


@pytest.fixture
def s3_bucket(aws_env: str) -> str:
    """A fresh bucket on the moto server; yields its name."""
    import uuid

    import boto3

    name = f"elex-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=aws_env, region_name="us-east-1").create_bucket(Bucket=name)
    return name


@pytest.fixture
def x_sandbox() -> Iterator:
    """The sandbox X API (2022 registry, 2,000 posts/day) on a free loopback port."""
    from elex_assets.sandbox.x_server import XSandbox

    with XSandbox(election="2022", posts_per_day=2000, seed=7) as sandbox:
        yield sandbox


@pytest.fixture
def trends_sandbox() -> Iterator[TrendsSandbox]:
    """The sandbox Google Trends server on a free loopback port, fresh for each test."""
    with TrendsSandbox() as sandbox:
        yield sandbox


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the lines tests gave as ``("summary: <title>", line)`` user properties.

    User properties travel with the test report, so this works alike when the test ran
    in a pytest-xdist worker (where a list kept by the test's module would stay). Here,
    not in a sub-folder's conftest: xdist's controller loads only this one.
    """
    sections: dict[str, list[str]] = {}
    for reports in terminalreporter.stats.values():
        for rep in reports:
            if getattr(rep, "when", None) != "call":
                continue
            for key, value in getattr(rep, "user_properties", ()):
                if str(key).startswith("summary: "):
                    sections.setdefault(str(key).removeprefix("summary: "), []).append(value)
    for title, lines in sections.items():
        terminalreporter.write_sep("-", title)
        for line in lines:
            terminalreporter.write_line(str(line))

def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "calendar: runs at each instant of elex_assets_tests.clock.CALENDAR_INSTANTS")


@pytest.fixture(params=list(CALENDAR_INSTANTS), ids=list(CALENDAR_INSTANTS))
def calendar_now(request: pytest.FixtureRequest) -> Iterator[datetime]:
    """"now" set to each instant where calendars break; yields the instant."""
    instant = CALENDAR_INSTANTS[request.param]
    with at(instant):
        yield instant


@pytest.fixture
def fixed_now() -> Iterator[datetime]:
    """"now" set to ``clock.NOW`` (mid-campaign) for tests that need some fixed moment."""
    with at(NOW):
        yield NOW


@pytest.fixture
def frozen_now() -> Iterator[datetime]:
    """"now" stands still at ``clock.NOW``: for code that measures a distance to a time."""
    with at(NOW, tick=False):
        yield NOW
