"""A throw-away PostgreSQL server from the distribution's binaries (``initdb``, ``pg_ctl``).

The cluster lives in a temporary folder, listens on a free loopback port with
password (scram) authentication, and keeps its socket in that folder, so it
never meets a system cluster. ``initdb`` refuses to run as root: as root, the
server runs as the ``postgres`` system user when it exists, else ``nobody``.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


def find_pg_bin() -> Path | None:
    """Folder holding ``initdb`` and ``pg_ctl``: PATH first, then Debian's versioned folders."""
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(os.path.realpath(initdb)).parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(p.split("/")[-2]) if p.split("/")[-2].isdigit() else 0,
    )
    for folder in reversed(candidates):
        if Path(folder, "initdb").exists() and Path(folder, "pg_ctl").exists():
            return Path(folder)
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_as() -> list[str]:
    """Command prefix that drops root to an unprivileged user (nothing when not root)."""
    if os.geteuid() != 0:
        return []
    user = "postgres"
    try:
        pwd.getpwnam(user)
    except KeyError:
        user = "nobody"
    return ["runuser", "-u", user, "--"]


def _owner() -> tuple[int, int] | None:
    if os.geteuid() != 0:
        return None
    for user in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(user)
        except KeyError:
            continue
        return entry.pw_uid, entry.pw_gid
    raise RuntimeError("running as root and neither 'postgres' nor 'nobody' exists")


@dataclass
class PostgresServer:
    """A running cluster; ``dsn`` and ``env`` give what clients and Dagster need."""

    bin_dir: Path
    root: Path
    port: int
    user: str = "dagster"
    password: str = "elex-test-password"
    db: str = "dagster"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def dsn(self) -> str:
        return (
            f"host=127.0.0.1 port={self.port} user={self.user} "
            f"password={self.password} dbname={self.db}"
        )

    @property
    def env(self) -> dict[str, str]:
        """The variables deploy/dagster.yaml reads."""
        return {
            "DAGSTER_PG_HOST": "127.0.0.1",
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_USER": self.user,
            "DAGSTER_PG_PASSWORD": self.password,
            "DAGSTER_PG_DB": self.db,
        }

    def _pg(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*_run_as(), *args], check=True, capture_output=True, text=True, **kwargs
        )

    @classmethod
    def start(cls, bin_dir: Path) -> PostgresServer:
        root = Path(tempfile.mkdtemp(prefix="elex-pg-"))
        server = cls(bin_dir=bin_dir, root=root, port=free_port())
        os.chmod(root, 0o700)
        owner = _owner()
        if owner:
            os.chown(root, *owner)
        pwfile = root / "pwfile"
        pwfile.write_text(server.password + "\n")
        if owner:
            os.chown(pwfile, *owner)
        try:
            server._pg(
                str(bin_dir / "initdb"),
                "-D",
                str(server.data_dir),
                "-U",
                server.user,
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
                cwd=root,
            )
            options = (
                f"-c listen_addresses=127.0.0.1 -c port={server.port} "
                f"-c unix_socket_directories={root} -c fsync=off "
                "-c max_connections=100"
            )
            server._pg(
                str(bin_dir / "pg_ctl"),
                "-D",
                str(server.data_dir),
                "-l",
                str(root / "server.log"),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
                cwd=root,
            )
            server._create_db()
        except BaseException as exc:
            log = server.log_tail()
            server.stop()
            if isinstance(exc, subprocess.CalledProcessError):
                raise RuntimeError(
                    f"PostgreSQL failed to start: {exc.cmd[-1]} exited {exc.returncode}\n"
                    f"{exc.stdout}\n{exc.stderr}\n{log}"
                ) from exc
            raise
        return server

    def _create_db(self) -> None:
        import psycopg2

        deadline = time.monotonic() + 30
        while True:
            try:
                conn = psycopg2.connect(self.dsn.replace(f"dbname={self.db}", "dbname=postgres"))
                break
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.db,))
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{self.db}"')
        conn.close()

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        import psycopg2

        conn = psycopg2.connect(self.dsn)
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall()
        finally:
            conn.close()

    def log_tail(self, lines: int = 40) -> str:
        log = self.root / "server.log"
        if not log.exists():
            return ""
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """Fast shutdown, then the folder goes; safe to call twice."""
        if (self.data_dir / "postmaster.pid").exists():
            subprocess.run(
                [
                    *_run_as(),
                    str(self.bin_dir / "pg_ctl"),
                    "-D",
                    str(self.data_dir),
                    "-m",
                    "fast",
                    "-w",
                    "-t",
                    "30",
                    "stop",
                ],
                capture_output=True,
                cwd=self.root,
            )
        shutil.rmtree(self.root, ignore_errors=True)
