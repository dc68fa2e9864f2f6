"""Small JSON objects that several processes and hosts update in place: compare-and-swap.

The spend ledger and the Trends cool-down are read, changed and written back by
every process sharing the lake. A plain rewrite lets two writers overwrite each
other (both read $0.90, both add $0.10, both write $1.00). Here a write names the
version it read and succeeds only if the object is still that version; the
loser reads again and recomputes. The same mechanism as the leases
(``elex_assets.core.lease``):

* S3: ``PutObject`` with ``If-Match: <ETag read>`` (or ``If-None-Match: *`` when
  the object was absent); a 412 (or 409) means another writer came first.
* local folder: the read-compare-write runs under an exclusive ``flock`` on a
  hidden lock file beside the object (released by the kernel if the holder dies),
  and the new content replaces the old by an atomic rename, so readers never
  take the lock and never see half an object.

Nothing here reads a clock: the version is the ETag on S3 and a hash of the
content locally.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from elex_assets.core.lake import Lake, LakeError, _status_code

T = TypeVar("T")
MAX_ATTEMPTS = 200  # conflicts in a row before giving up (each means another writer won)


class SharedStateConflict(LakeError):
    """Too many writers updated the object at once; nothing was written."""


@dataclass(frozen=True)
class Stored:
    """An object as read: its bytes and the version a conditional write names."""

    data: bytes
    version: str


def read(lake: Lake, key: str) -> Stored | None:
    """The object at ``key`` and its version; ``None`` when absent."""
    if lake.is_s3:
        bucket, _ = lake._bucket_prefix
        try:
            obj = lake._s3.get_object(Bucket=bucket, Key=lake._s3_key(key))
        except Exception as exc:
            if _status_code(exc) == 404:
                return None
            raise LakeError(f"{lake.uri(key)}: {type(exc).__name__}: {exc}") from exc
        return Stored(obj["Body"].read(), str(obj["ETag"]))
    try:
        data = (Path(lake.url) / key).read_bytes()
    except FileNotFoundError:
        return None
    return Stored(data, _digest(data))


def write_if(lake: Lake, key: str, data: bytes, seen: Stored | None) -> bool:
    """Write ``data`` at ``key`` only if it is still ``seen`` (``None``: still absent).

    Returns False, writing nothing, when another writer changed it meanwhile.
    """
    if lake.is_s3:
        bucket, _ = lake._bucket_prefix
        condition = {"IfMatch": seen.version} if seen else {"IfNoneMatch": "*"}
        try:
            lake._s3.put_object(Bucket=bucket, Key=lake._s3_key(key), Body=data,
                                ContentType="application/json", **condition)
        except Exception as exc:
            if _status_code(exc) in (409, 412):
                return False
            raise LakeError(f"{lake.uri(key)}: {type(exc).__name__}: {exc}") from exc
        return True
    path = Path(lake.url) / key
    with _locked(path):
        current = read(lake, key)
        if (current.version if current else None) != (seen.version if seen else None):
            return False
        _replace(path, data)
    return True


def update(lake: Lake, key: str, change: Callable[[Stored | None], tuple[bytes | None, T]]) -> T:
    """Apply ``change`` to the object until it is written over the version it was given.

    ``change(stored)`` returns ``(new bytes or None to write nothing, result)``; it
    may raise to abort (nothing written). Returns the result of the call that won.
    """
    for _ in range(MAX_ATTEMPTS):
        stored = read(lake, key)
        data, result = change(stored)
        if data is None or write_if(lake, key, data, stored):
            return result
    raise SharedStateConflict(
        f"{lake.uri(key)}: {MAX_ATTEMPTS} writers in a row changed it first; nothing written"
    )


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = path.with_name(f".{path.name}.lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _replace(path: Path, data: bytes) -> None:
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)

