"""One temporary folder per run, so a crashed run's leftovers are found and removed.

Temporary files (pages being fetched, normalised batches) live under
``<system temp>/elex-runs/<asset>/<run>/``, with an ``.owner`` file naming the
process. A run removes its folder when it ends; the next run of the asset also
removes every folder whose process is gone (a ``kill -9``, an OOM kill), so
nothing accumulates over a campaign.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ORPHAN_AGE_SECONDS = 24 * 3600  # a folder without a readable owner is removed after this


def runs_root(asset: str, base: str | os.PathLike[str] | None = None) -> Path:
    return Path(base or tempfile.gettempdir()) / "elex-runs" / asset


def remove_dead(asset: str, base: str | os.PathLike[str] | None = None) -> list[Path]:
    """Remove the folders of runs of ``asset`` whose process no longer exists."""
    root = runs_root(asset, base)
    removed = []
    for folder in root.iterdir() if root.is_dir() else []:
        if folder.is_dir() and _dead(folder):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


@contextlib.contextmanager
def run_temp_dir(
    asset: str, run_id: str, base: str | os.PathLike[str] | None = None
) -> Iterator[Path]:
    """This run's temporary folder (created now, removed on exit, whatever happens)."""
    remove_dead(asset, base)
    folder = runs_root(asset, base) / run_id
    folder.mkdir(parents=True, exist_ok=True)
    owner = {"pid": os.getpid(), "host": socket.gethostname()}
    (folder / ".owner").write_text(json.dumps(owner))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _dead(folder: Path) -> bool:
    try:
        owner = json.loads((folder / ".owner").read_text())
        pid, host = int(owner["pid"]), str(owner["host"])
    except (OSError, ValueError, KeyError, TypeError):
        try:
            return time.time() - folder.stat().st_mtime > ORPHAN_AGE_SECONDS
        except OSError:
            return False
    if host != socket.gethostname():
        return False  # a shared temp folder: only the owner's host can tell
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
