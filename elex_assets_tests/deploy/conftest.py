"""Fixtures of the production test: a real PostgreSQL server and the Dagster stack."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from elex_assets_tests.deploy.postgres import PostgresServer, find_pg_bin


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    """A fresh PostgreSQL cluster on a free loopback port, removed afterwards."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        pytest.skip(
            "PostgreSQL server binaries (initdb, pg_ctl) not found on PATH nor in "
            "/usr/lib/postgresql/*/bin; install them with `apt-get install postgresql` "
            "(.ci/run does this on a fresh machine)"
        )
    server = PostgresServer.start(bin_dir)
    try:
        yield server
    finally:
        server.stop()


_REPORT: list[str] = []


@pytest.fixture
def report() -> Callable[[str], None]:
    """Lines for the run's summary: shown by `make test` even when the test passes."""

    def add(line: str) -> None:
        print(line)
        _REPORT.append(line)

    return add


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _REPORT:
        terminalreporter.write_sep("-", "production test (PostgreSQL + S3 + daemon)")
        for line in _REPORT:
            terminalreporter.write_line(line)
