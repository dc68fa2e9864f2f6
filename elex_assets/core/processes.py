"""Whether a process named by host and pid is known dead: leases and the run reaper ask
the same question, and only this host can answer it (for another host: never "dead")."""

from __future__ import annotations

import os
import socket
from pathlib import Path


def _stat_fields(pid: int) -> list[str]:
    """The fields of ``/proc/<pid>/stat`` after the command name (Linux); none if absent."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    return stat.rsplit(")", 1)[-1].split()


def process_start(pid: int) -> str:
    """When ``pid`` started (clock ticks since boot; Linux), to tell a reused pid apart."""
    fields = _stat_fields(pid)
    return fields[19] if len(fields) > 19 else ""


def process_gone(host: str, pid: int, started: str = "") -> bool:
    """True only when the process ran on this host and no longer exists: no such pid, a
    zombie, or (``started`` given) the pid now names a later process."""
    if host != socket.gethostname() or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    fields = _stat_fields(pid)
    if fields[:1] == ["Z"]:
        return True
    start = process_start(pid)
    return bool(started and start and start != started)  # pid reused
