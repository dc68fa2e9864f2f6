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


@pytest.fixture
def report(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Lines for the run's summary: shown by `make test` even when the test passes
    (``pytest_terminal_summary`` in the suite's top conftest prints them)."""

    def add(line: str) -> None:
        print(line)
        request.node.user_properties.append(
            ("summary: production test (PostgreSQL + S3 + daemon)", line)
        )

    return add
