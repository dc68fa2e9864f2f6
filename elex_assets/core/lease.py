"""One writer per partition across processes: a lease object in the lake.

Dagster's pools only order steps inside one instance; a CLI run beside the
daemon, or a dev instance and production on one S3 lake, would refresh the same
day at once and delete each other's files. A lease is a small JSON object at
``state/leases/<asset>/<partition>.json`` created only if absent:

* local folder: the lease is written to a temporary file and hard-linked to its
  name (``link`` fails when the name exists, like ``O_EXCL``, and the content is
  whole from the first instant);
* S3: ``PutObject`` with ``If-None-Match: *`` (conditional writes); renewal and
  takeover use ``If-Match`` on the ETag that was read, so of two racers one wins.

The owner renews the lease while it works (a background thread, every third of
its ttl): each renewal rewrites the object. A run that dies stops renewing; once
its lease has gone unrenewed for its ttl (or at once when its process is known
dead on this host) the next writer takes it over. A writer that finds a live
lease waits a little, then fails with who holds it.

No host's clock is compared with another's (hosts sharing a lake may disagree by
hours). A lease is judged expired, without reading the holder's ``expires_at``:

* by the store's own clock: the age of the lease's last write is the store's
  "now" minus the object's time, both from the store (S3: the response's
  ``Date`` header minus ``LastModified``; local folder: the mtime of a probe
  file written beside the lease minus the lease file's mtime), allowing
  ``STORE_CLOCK_SLACK_SECONDS`` for S3's whole-second timestamps;
* or by the reader itself: it has seen the very same lease version, unrenewed,
  for the ttl on its own monotonic clock.

``expires_at`` stays in the lease for people reading it, in the holder's clock.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import os
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from elex_assets.core.clock import utc_now
from elex_assets.core.lake import Lake, LakeError, _status_code
from elex_assets.core.processes import process_gone

DEFAULT_TTL_SECONDS = 120.0
DEFAULT_WAIT_SECONDS = 30.0
# S3's Date and LastModified count whole seconds: an age read from them may be 1 s short.
STORE_CLOCK_SLACK_SECONDS = 1.0


class LeaseHeld(RuntimeError):
    """Another live writer holds the partition (deterministic for this run: not retried)."""

    transient = False  # final: see core.retrying.is_deterministic


class LeaseLost(RuntimeError):
    """This writer's lease expired and was taken over: it must not delete anything."""

    transient = False  # final: see core.retrying.is_deterministic


def lease_key(asset: str, partition: str) -> str:
    return f"state/leases/{asset}/{partition}.json"


@dataclass(frozen=True)
class LeaseInfo:
    token: str  # unique per acquisition
    owner: str  # run id
    host: str
    pid: int
    acquired_at: str  # the holder's clock, for people reading the lease
    expires_at: str  # the holder's clock, for people reading the lease; never compared
    ttl_seconds: float = DEFAULT_TTL_SECONDS  # unrenewed this long (store's clock): expired
    renewals: int = 0  # each renewal changes the object, even if the holder's clock stands still
    # How long ago the lease was last written, by the store's clock, when read (not stored).
    age_seconds: float | None = field(default=None, compare=False)

    @property
    def expired(self) -> bool:
        """Unrenewed for its ttl by the store's clock (``False`` when the store gave no age)."""
        return (self.age_seconds is not None
                and self.age_seconds >= self.ttl_seconds + STORE_CLOCK_SLACK_SECONDS)

    @property
    def process_dead(self) -> bool:
        """True only when the owner ran on this host and its process no longer exists."""
        return process_gone(self.host, self.pid)

    def to_bytes(self) -> bytes:
        data = asdict(self)
        del data["age_seconds"]
        return json.dumps(data).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> LeaseInfo | None:
        try:
            data = json.loads(raw)
            data.pop("age_seconds", None)
            return cls(**data)
        except (ValueError, TypeError):
            return None


class Lease:
    """The lease on one partition; use :meth:`hold` as a context manager."""

    def __init__(
        self,
        lake: Lake,
        asset: str,
        partition: str,
        owner: str,
        *,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        wait_seconds: float = DEFAULT_WAIT_SECONDS,
        poll_seconds: float = 1.0,
        renew_seconds: float | None = None,
        what: str | None = None,
        log: Callable[[str], None] = lambda _m: None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.lake, self.key, self.owner = lake, lease_key(asset, partition), owner
        self.ttl, self.wait, self.poll = ttl_seconds, wait_seconds, poll_seconds
        self.renew_every = ttl_seconds / 3 if renew_seconds is None else renew_seconds
        self.what = what or f"{asset} {partition}"
        self.log = log
        self.clock = clock  # this host's clock: only for the informative times in the lease
        self.info: LeaseInfo | None = None
        self._seen: tuple[str | None, float] | None = None  # (version, first seen: monotonic)
        self._etag: str | None = None
        self._lost: str | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()

    # ---- public -----------------------------------------------------------
    @contextlib.contextmanager
    def hold(self) -> Iterator[Lease]:
        self.acquire()
        thread = threading.Thread(target=self._renew_loop, name="elex-lease", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join(timeout=10)
            self.release()

    def check(self) -> None:
        """Raise :class:`LeaseLost` when the lease is no longer this writer's."""
        if self._lost:
            raise LeaseLost(self._lost)
        current, _ = self._read()
        if current is None or self.info is None or current.token != self.info.token:
            holder = f" (now held by run {current.owner} on {current.host})" if current else ""
            self._lost = f"the lease on {self.what} was lost{holder}"
            raise LeaseLost(self._lost)

    def acquire(self) -> None:
        deadline = time.monotonic() + self.wait
        while True:
            mine = self._new_info()
            if self._create(mine):
                self.info = mine
                return
            current, etag = self._read()
            if current is None and etag is None:
                continue  # released between our create and read: try again at once
            unrenewed = self._unrenewed_for(etag)
            stale = current is not None and (
                current.expired or unrenewed >= current.ttl_seconds)
            if current is None or stale or current.process_dead:
                why = ("unreadable" if current is None else
                       "expired" if stale else "left by a dead process")
                if self._take_over(current, etag, mine):
                    self.info = mine
                    prev = f"run {current.owner} on {current.host}" if current else "unknown"
                    self.log(f"took over the {why} lease on {self.what} ({prev})")
                    return
                continue
            if time.monotonic() >= deadline:
                raise LeaseHeld(
                    f"{self.what} is being refreshed by run {current.owner} on host "
                    f"{current.host} since {current.acquired_at} (lease until "
                    f"{current.expires_at}, its clock{_renewed_ago(current)}); "
                    f"this run stops rather than write beside it"
                )
            time.sleep(min(self.poll, max(0.0, deadline - time.monotonic())) or 0.01)

    def renew(self) -> None:
        with self._lock:
            if self.info is None or self._lost:
                return
            new = replace(self.info, expires_at=self._at(self.ttl), renewals=self.info.renewals + 1)
            if self._replace(self.info, new):
                self.info = new
            else:
                current, _ = self._read()
                holder = f" (now held by run {current.owner} on {current.host})" if current else ""
                self._lost = f"the lease on {self.what} was lost{holder}"
                self.log(self._lost)

    def release(self) -> None:
        with self._lock:
            if self.info is None:
                return
            current, etag = self._read()
            if current is not None and current.token == self.info.token:
                self._delete(etag)
            self.info = None

    # ---- internals --------------------------------------------------------
    def _renew_loop(self) -> None:
        # Short sleeps, not ``Event.wait(interval)``: a timed wait on a lock never wakes
        # when the process's clock is faked (libfaketime), and the lease would lapse.
        interval = max(0.05, self.renew_every)
        due = time.monotonic() + interval
        while not self._stop.is_set():
            if time.monotonic() < due:
                time.sleep(min(0.05, max(0.0, due - time.monotonic())) or 0.01)
                continue
            try:
                self.renew()
            except Exception as exc:  # a failed renewal is retried at the next interval
                self.log(f"lease renewal on {self.what} failed: {exc}")
            due = time.monotonic() + interval

    def _new_info(self) -> LeaseInfo:
        return LeaseInfo(
            token=uuid.uuid4().hex, owner=self.owner, host=socket.gethostname(),
            pid=os.getpid(), acquired_at=self._at(0), expires_at=self._at(self.ttl),
            ttl_seconds=self.ttl,
        )

    def _at(self, seconds: float) -> str:
        return (self.clock().astimezone(UTC) + timedelta(seconds=seconds)).isoformat()

    def _unrenewed_for(self, version: str | None) -> float:
        """Seconds (monotonic, this process) this reader has seen ``version`` unchanged."""
        now = time.monotonic()
        if self._seen is None or self._seen[0] != version:
            self._seen = (version, now)
        return now - self._seen[1]

    def _read(self) -> tuple[LeaseInfo | None, str | None]:
        """The lease as stored and its version (ETag, or content on disk); (None, None): absent."""
        if self.lake.is_s3:
            bucket, _ = self.lake._bucket_prefix
            try:
                obj = self.lake._s3.get_object(Bucket=bucket, Key=self.lake._s3_key(self.key))
            except Exception as exc:
                if _status_code(exc) == 404:
                    return None, None
                raise LakeError(f"{self.lake.uri(self.key)}: {exc}") from exc
            raw = obj["Body"].read()
            info = LeaseInfo.from_bytes(raw)
            if info is not None:
                info = replace(info, age_seconds=_s3_age(obj))
            return info, obj["ETag"]
        try:
            with open(self._path, "rb") as handle:
                raw = handle.read()
                written = os.fstat(handle.fileno()).st_mtime
        except FileNotFoundError:
            return None, None
        info = LeaseInfo.from_bytes(raw)
        now = self._folder_now()
        if info is not None and now is not None:
            info = replace(info, age_seconds=max(0.0, now - written))
        return info, raw.decode(errors="replace")

    def _folder_now(self) -> float | None:
        """The folder's clock now: the mtime of a probe file written beside the lease
        (``None`` when the folder cannot be written: the age is then unknown).

        On a local disk it is this host's clock; on a network share, the server's: the
        same clock that stamped the lease file."""
        try:
            fd, name = tempfile.mkstemp(prefix=f".{self._path.name}.", suffix=".now",
                                        dir=self._path.parent)
        except OSError:
            return None
        try:
            return os.fstat(fd).st_mtime
        finally:
            os.close(fd)
            os.unlink(name)

    @property
    def _path(self) -> Path:
        return Path(self.lake.url) / self.key

    def _create(self, info: LeaseInfo) -> bool:
        if self.lake.is_s3:
            return self._put(info, IfNoneMatch="*")
        self._path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._tmp(info)
        try:
            os.link(tmp, self._path)
            return True
        except FileExistsError:
            return False
        finally:
            tmp.unlink(missing_ok=True)

    def _take_over(self, seen: LeaseInfo | None, version: str | None, mine: LeaseInfo) -> bool:
        if self.lake.is_s3:
            return version is not None and self._put(mine, IfMatch=version)
        # Move the stale lease aside, check it is the one we judged stale, then create.
        aside = self._path.with_name(f".{self._path.name}.{mine.token}.stale")
        try:
            os.rename(self._path, aside)
        except FileNotFoundError:
            return False
        try:
            if aside.read_text(errors="replace") != version:
                # Someone replaced it meanwhile: put theirs back (unless a third one exists).
                with contextlib.suppress(FileExistsError):
                    os.link(aside, self._path)
                return False
            return self._create(mine)
        finally:
            aside.unlink(missing_ok=True)

    def _replace(self, old: LeaseInfo, new: LeaseInfo) -> bool:
        """Write ``new`` over the stored lease only if it is still ``old``."""
        current, version = self._read()
        if current is None or current.token != old.token:
            return False
        if self.lake.is_s3:
            return self._put(new, IfMatch=version)
        tmp = self._tmp(new)
        os.replace(tmp, self._path)
        return True

    def _delete(self, version: str | None) -> None:
        if self.lake.is_s3:
            self.lake.delete(self.key)
        else:
            self._path.unlink(missing_ok=True)

    def _put(self, info: LeaseInfo, **condition: Any) -> bool:
        bucket, _ = self.lake._bucket_prefix
        try:
            self.lake._s3.put_object(
                Bucket=bucket, Key=self.lake._s3_key(self.key), Body=info.to_bytes(),
                ContentType="application/json", **condition,
            )
            return True
        except Exception as exc:
            if _status_code(exc) in (409, 412):  # precondition failed / concurrent write
                return False
            raise LakeError(f"{self.lake.uri(self.key)}: {type(exc).__name__}: {exc}") from exc

    def _tmp(self, info: LeaseInfo) -> Path:
        fd, name = tempfile.mkstemp(prefix=f".{self._path.name}.", suffix=".tmp",
                                    dir=self._path.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(info.to_bytes())
            handle.flush()
            os.fsync(handle.fileno())
        return Path(name)


def read_lease(lake: Lake, asset: str, partition: str) -> LeaseInfo | None:
    """The lease on a partition as stored (``None``: free or unreadable)."""
    return Lease(lake, asset, partition, owner="")._read()[0]


def clear_lease(lake: Lake, asset: str, partition: str, owner: str) -> bool:
    """Remove the lease if ``owner`` still holds it (its run is known dead)."""
    lease = Lease(lake, asset, partition, owner="")
    current, version = lease._read()
    if current is None or current.owner != owner:
        return False
    lease._delete(version)
    return True


def _s3_age(obj: dict[str, Any]) -> float | None:
    """Seconds since the object was written, by S3's clock (its Date header); None: unknown."""
    header = obj.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
    written = obj.get("LastModified")
    if not header or written is None:
        return None
    try:
        now = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    return max(0.0, (now - written).total_seconds())


def _renewed_ago(info: LeaseInfo) -> str:
    return "" if info.age_seconds is None else f"; renewed {info.age_seconds:.0f} s ago"
