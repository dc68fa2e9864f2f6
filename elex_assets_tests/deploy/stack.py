"""The production topology started as real processes: code server, webserver, daemon.

``DagsterStack`` runs the three processes of deploy/docker-compose.yaml on
loopback with ``DAGSTER_HOME`` holding deploy/dagster.yaml verbatim and the
webserver and daemon loading deploy/workspace.yaml verbatim (the code server's
host and port come from the environment, as in the compose file). Backfills go
through the webserver's GraphQL API, the same call the UI's "Materialize" dialog
makes, and are carried out by the daemon: nothing runs in the test's process.

Every process is started in its own session and its whole group is ended on
stop, so run workers spawned by the code server go too.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from elex_assets_tests.deploy.postgres import free_port

PROJECT_DIR = Path(__file__).resolve().parents[2]
DEPLOY_DIR = PROJECT_DIR / "deploy"
BIN_DIR = Path(sys.executable).parent

TERMINAL_BACKFILL = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}
TERMINAL_RUN = {"SUCCESS", "FAILURE", "CANCELED"}


class StackError(RuntimeError):
    """A process of the stack failed or a wait ran out; the message carries the logs."""


@dataclass
class _Proc:
    name: str
    popen: subprocess.Popen
    log: Path

    def tail(self, lines: int = 60) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class DagsterStack:
    """Start with ``start()``, end with ``stop()`` (idempotent); ``env`` is passed to all three."""

    env: Mapping[str, str]
    module: str = "elex_assets.definitions"
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="elex-stack-")))
    procs: list[_Proc] = field(default_factory=list)
    webserver_port: int = 0
    code_server_port: int = 0

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster_home"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.webserver_port}"

    def process_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DAGSTER_")}
        env.update(self.env)
        env.update(
            DAGSTER_HOME=str(self.dagster_home),
            DAGSTER_CODE_SERVER_HOST="127.0.0.1",
            DAGSTER_CODE_SERVER_PORT=str(self.code_server_port),
            PYTHONUNBUFFERED="1",
        )
        return env

    # ---- lifecycle --------------------------------------------------------
    def start(self, daemon: bool = True) -> DagsterStack:
        self.dagster_home.mkdir(parents=True, exist_ok=True)
        shutil.copy(DEPLOY_DIR / "dagster.yaml", self.dagster_home / "dagster.yaml")
        self.code_server_port = free_port()
        self.webserver_port = free_port()
        workspace = str(DEPLOY_DIR / "workspace.yaml")
        self._spawn(
            "code-server",
            [
                str(BIN_DIR / "dagster"),
                "code-server",
                "start",
                "-m",
                self.module,
                "-h",
                "127.0.0.1",
                "-p",
                str(self.code_server_port),
                "--location-name",
                "elex",
            ],
        )
        self.wait_code_server()
        self._spawn(
            "webserver",
            [
                str(BIN_DIR / "dagster-webserver"),
                "-w",
                workspace,
                "-h",
                "127.0.0.1",
                "-p",
                str(self.webserver_port),
            ],
        )
        self.wait_location_loaded()
        if daemon:
            self.start_daemon()
        return self

    def start_daemon(self) -> None:
        workspace = str(DEPLOY_DIR / "workspace.yaml")
        self._spawn("daemon", [str(BIN_DIR / "dagster-daemon"), "run", "-w", workspace])

    def _spawn(self, name: str, cmd: Sequence[str]) -> None:
        log = self.root / f"{name}.log"
        with open(log, "wb") as out:
            popen = subprocess.Popen(
                list(cmd),
                cwd=PROJECT_DIR,
                env=self.process_env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.procs.append(_Proc(name, popen, log))

    def stop(self) -> None:
        """SIGTERM each process group (daemon first), SIGKILL what is left after 15 s."""
        for proc in reversed(self.procs):
            if proc.popen.poll() is None:
                _signal_group(proc.popen, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in reversed(self.procs):
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            _signal_group(proc.popen, signal.SIGKILL)
            proc.popen.wait()
        self.procs.clear()
        shutil.rmtree(self.root, ignore_errors=True)

    def logs(self) -> str:
        return "\n".join(f"----- {p.name} ({p.log}) -----\n{p.tail()}" for p in self.procs)

    def _check_alive(self) -> None:
        for proc in self.procs:
            if proc.popen.poll() is not None:
                raise StackError(f"{proc.name} exited with {proc.popen.returncode}\n{self.logs()}")

    # ---- GraphQL ----------------------------------------------------------
    def graphql(self, query: str, variables: Mapping | None = None, timeout: float = 30) -> dict:
        body = json.dumps({"query": query, "variables": dict(variables or {})}).encode()
        request = urllib.request.Request(
            f"{self.url}/graphql", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload = json.loads(response.read())
        if payload.get("errors"):
            raise StackError(f"GraphQL errors: {payload['errors']}")
        return payload["data"]

    def wait_code_server(self, timeout: float = 120) -> None:
        """Until the code server answers gRPC health checks (it imports the definitions first)."""
        from dagster._grpc.client import DagsterGrpcClient

        client = DagsterGrpcClient(port=self.code_server_port, host="127.0.0.1")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            if _port_open(self.code_server_port) and client.health_check_query() == "SERVING":
                return
            time.sleep(0.5)
        raise StackError(f"code server not serving after {timeout}s\n{self.logs()}")

    def wait_location_loaded(self, timeout: float = 120) -> None:
        """Until the webserver answers and reports the `elex` location loaded without error."""
        query = """{ workspaceOrError { __typename ... on Workspace { locationEntries {
            name loadStatus locationOrLoadError { __typename ... on PythonError { message } }
        } } } }"""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                entries = self.graphql(query, timeout=5)["workspaceOrError"]["locationEntries"]
            except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
                last = repr(exc)
            else:
                entry = next((e for e in entries if e["name"] == "elex"), None)
                if entry and entry["loadStatus"] == "LOADED":
                    loaded = entry["locationOrLoadError"]
                    if loaded and loaded["__typename"] == "PythonError":
                        raise StackError(f"code location failed: {loaded['message']}")
                    if loaded and loaded["__typename"] == "RepositoryLocation":
                        return
                last = json.dumps(entries)
            time.sleep(1)
        raise StackError(f"code location not loaded after {timeout}s ({last})\n{self.logs()}")

    def launch_backfill(
        self, partitions_by_asset: Mapping[str, Sequence[str] | None], title: str = "elex test"
    ) -> str:
        """Asset backfill of the given partitions per asset (``None``: unpartitioned)."""
        selection = [
            {
                "assetKey": {"path": key.split("/")},
                "partitions": None
                if partitions is None
                else {"ranges": [{"start": p, "end": p} for p in partitions]},
            }
            for key, partitions in partitions_by_asset.items()
        ]
        mutation = """mutation($params: LaunchBackfillParams!) {
            launchPartitionBackfill(backfillParams: $params) {
                __typename
                ... on LaunchBackfillSuccess { backfillId }
                ... on PythonError { message }
                ... on InvalidSubsetError { message }
                ... on UnauthorizedError { message }
            } }"""
        result = self.graphql(
            mutation, {"params": {"partitionsByAssets": selection, "title": title}}
        )["launchPartitionBackfill"]
        if result["__typename"] != "LaunchBackfillSuccess":
            raise StackError(f"backfill refused: {result}")
        return result["backfillId"]

    def backfill_status(self, backfill_id: str) -> str:
        query = """query($id: String!) { partitionBackfillOrError(backfillId: $id) {
            __typename ... on PartitionBackfill { status } ... on PythonError { message } } }"""
        result = self.graphql(query, {"id": backfill_id})["partitionBackfillOrError"]
        if result["__typename"] != "PartitionBackfill":
            raise StackError(f"backfill {backfill_id}: {result}")
        return result["status"]

    def backfill_runs(self, backfill_id: str) -> list[dict]:
        """Runs the daemon launched for the backfill: ``{runId, status, assets}``."""
        query = """query($filter: RunsFilter!) { runsOrError(filter: $filter) {
            __typename ... on Runs { results { runId status
                assetSelection { path } tags { key value } } } } }"""
        flt = {"tags": [{"key": "dagster/backfill", "value": backfill_id}]}
        result = self.graphql(query, {"filter": flt})["runsOrError"]
        return [
            {
                "runId": r["runId"],
                "status": r["status"],
                "assets": sorted("/".join(a["path"]) for a in r["assetSelection"] or []),
                "partition": next(
                    (t["value"] for t in r["tags"] if t["key"] == "dagster/partition"), None
                ),
            }
            for r in result["results"]
        ]

    def wait_backfill(self, backfill_id: str, timeout: float = 180) -> str:
        """Until the daemon marks the backfill finished and its runs are all terminal."""
        deadline = time.monotonic() + timeout
        status = "?"
        while time.monotonic() < deadline:
            self._check_alive()
            status = self.backfill_status(backfill_id)
            if status in TERMINAL_BACKFILL:
                runs = self.backfill_runs(backfill_id)
                if all(r["status"] in TERMINAL_RUN for r in runs):
                    return status
            time.sleep(2)
        raise StackError(
            f"backfill {backfill_id} still {status} after {timeout}s; "
            f"runs: {self.backfill_runs(backfill_id)}\n{self.logs()}"
        )


def _signal_group(popen: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(popen.pid, sig)


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0
