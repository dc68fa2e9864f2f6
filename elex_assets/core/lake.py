"""The data lake: one root URL, a local folder or ``s3://bucket/prefix``.

Every write is atomic: on a local disk the bytes go to a temporary file in the
target folder and are renamed over the target; on S3 an object appears only
when its PUT (or multipart upload) completes. Readers therefore see the old
version or the new one, never half a file, and re-writing a key replaces it.

S3 credentials follow the standard AWS chain (environment, profile, instance
role); the endpoint (an S3-compatible server such as moto's in tests) and the
region are handed over by the caller: ``settings.Settings.lake()`` reads them
from ``AWS_ENDPOINT_URL`` and ``AWS_REGION``.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import polars as pl

# "ftp://host/lake", "s3:/bucket": a scheme (two letters or more: "C:" is a Windows drive)
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]+):")
# S3's bucket naming rules: 3-63 characters, lower case, digits, dots and hyphens
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")


class LakeError(RuntimeError):
    """A lake operation that failed; the message names the key and the root."""


def lake_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a lake root (None when it can): a lake is a local folder
    or ``s3://bucket[/prefix]``. Anything else would be taken for a folder named after
    the URL (``ftp:`` or ``s3:`` in the working directory), so it is refused instead."""
    text = url.strip()
    if not text:
        return "expected a local folder or s3://bucket[/prefix], got nothing"
    if text.startswith("s3://"):
        bucket = urlparse(text).netloc
        if not _BUCKET.match(bucket):
            return (f"{bucket!r} is not an S3 bucket name (3-63 lower-case letters, digits, "
                    "dots and hyphens): expected s3://bucket[/prefix]")
        return None
    scheme = _SCHEME.match(text)
    if scheme:
        return (f"{scheme.group(1)}: is not a supported lake: expected a local folder or "
                "s3://bucket[/prefix]")
    return None


@dataclass(frozen=True)
class Lake:
    """Key/value view of the lake; keys are ``/``-separated paths under the root."""

    url: str
    endpoint_url: str | None = None
    region: str | None = None

    @classmethod
    def from_url(cls, url: str, endpoint_url: str | None = None, region: str | None = None) -> Lake:
        problem = lake_url_problem(url)
        if problem is not None:
            raise ValueError(f"lake {url!r}: {problem}")
        if not url.startswith("s3://"):
            url = str(Path(url).expanduser().resolve())
        return cls(url.rstrip("/"), endpoint_url, region)

    # ---- addressing -------------------------------------------------------
    @property
    def is_s3(self) -> bool:
        return self.url.startswith("s3://")

    @property
    def _bucket_prefix(self) -> tuple[str, str]:
        parsed = urlparse(self.url)
        return parsed.netloc, parsed.path.strip("/")

    def _s3_key(self, key: str) -> str:
        _, prefix = self._bucket_prefix
        return f"{prefix}/{key}" if prefix else key

    def _path(self, key: str) -> Path:
        return Path(self.url) / key

    def uri(self, key: str) -> str:
        """Full address of ``key``, as polars and the UI metadata want it."""
        return f"{self.url}/{key}"

    @property
    def storage_options(self) -> dict[str, str] | None:
        """Options for polars' object_store when the lake is on S3."""
        if not self.is_s3:
            return None
        options: dict[str, str] = {}
        if self.endpoint_url:
            options["aws_endpoint_url"] = self.endpoint_url
            if self.endpoint_url.startswith("http://"):
                options["aws_allow_http"] = "true"
        if self.region:
            options["aws_region"] = self.region
        return options

    @property
    def _s3(self) -> Any:
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint_url, region_name=self.region)

    # ---- writing ----------------------------------------------------------
    def write_bytes(self, key: str, data: bytes) -> str:
        """Atomically write ``data`` at ``key``; returns the object's URI."""
        if self.is_s3:
            bucket, _ = self._bucket_prefix
            self._wrap(
                key, lambda: self._s3.put_object(Bucket=bucket, Key=self._s3_key(key), Body=data)
            )
        else:
            with self._local_tempfile(key) as tmp:
                tmp.write_bytes(data)
        return self.uri(key)

    def put_file(self, key: str, local_path: str | Path) -> str:
        """Atomically store a local file at ``key`` (multipart on S3, for large files)."""
        if self.is_s3:
            bucket, _ = self._bucket_prefix
            self._wrap(
                key, lambda: self._s3.upload_file(str(local_path), bucket, self._s3_key(key))
            )
        else:
            with self._local_tempfile(key) as tmp:
                shutil.copyfile(local_path, tmp)
        return self.uri(key)

    @contextlib.contextmanager
    def writing(self, key: str, suffix: str = "") -> Iterator[Path]:
        """Yield a local path to write; on success it is published at ``key`` atomically.

        On error nothing is published and the previous version stays.
        """
        if self.is_s3:
            with tempfile.TemporaryDirectory(prefix="elex-") as tmpdir:
                path = Path(tmpdir) / f"upload{suffix}"
                yield path
                self.put_file(key, path)
        else:
            with self._local_tempfile(key, suffix) as tmp:
                yield tmp

    def write_parquet(self, key: str, df: pl.DataFrame) -> str:
        buffer = io.BytesIO()
        df.write_parquet(buffer, compression="zstd", statistics=True)
        return self.write_bytes(key, buffer.getvalue())

    @contextlib.contextmanager
    def _local_tempfile(self, key: str, suffix: str = "") -> Iterator[Path]:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=f".tmp{suffix}", dir=target.parent
        )
        os.close(fd)
        tmp = Path(name)
        try:
            yield tmp
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
            # mkstemp creates 0600 files; lake files are data to share (umask applies).
            umask = os.umask(0)
            os.umask(umask)
            tmp.chmod(0o666 & ~umask)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    # ---- reading ----------------------------------------------------------
    def read_bytes(self, key: str) -> bytes:
        if self.is_s3:
            bucket, _ = self._bucket_prefix
            response = self._wrap(
                key, lambda: self._s3.get_object(Bucket=bucket, Key=self._s3_key(key))
            )
            return response["Body"].read()
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise LakeError(f"{self.uri(key)}: no such object in the lake") from None

    def read_parquet(self, key: str) -> pl.DataFrame:
        return pl.read_parquet(io.BytesIO(self.read_bytes(key)))

    def scan_parquet(self, keys: list[str]) -> pl.LazyFrame:
        """Lazily scan several parquet objects (streaming, no full load)."""
        return pl.scan_parquet([self.uri(k) for k in keys], storage_options=self.storage_options)

    @contextlib.contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        """A local path holding ``key``: the file itself locally, a download on S3."""
        if not self.is_s3:
            path = self._path(key)
            if not path.exists():
                raise LakeError(f"{self.uri(key)}: no such object in the lake")
            yield path
            return
        bucket, _ = self._bucket_prefix
        with tempfile.TemporaryDirectory(prefix="elex-") as tmpdir:
            path = Path(tmpdir) / Path(key).name
            self._wrap(key, lambda: self._s3.download_file(bucket, self._s3_key(key), str(path)))
            yield path

    def exists(self, key: str) -> bool:
        if not self.is_s3:
            return self._path(key).is_file()
        bucket, _ = self._bucket_prefix
        try:
            self._s3.head_object(Bucket=bucket, Key=self._s3_key(key))
        except Exception as exc:  # botocore ClientError 404
            if _status_code(exc) == 404:
                return False
            raise LakeError(f"{self.uri(key)}: {exc}") from exc
        return True

    def modified_at(self, key: str) -> datetime:
        if not self.is_s3:
            try:
                return datetime.fromtimestamp(self._path(key).stat().st_mtime, tz=UTC)
            except FileNotFoundError:
                raise LakeError(f"{self.uri(key)}: no such object in the lake") from None
        bucket, _ = self._bucket_prefix
        head = self._wrap(key, lambda: self._s3.head_object(Bucket=bucket, Key=self._s3_key(key)))
        return head["LastModified"].astimezone(UTC)

    def version(self, key: str) -> str | None:
        """What changes whenever ``key`` is rewritten (S3: its ETag; locally: mtime and size),
        read without downloading it; ``None`` when there is no such object."""
        if not self.is_s3:
            try:
                stat = self._path(key).stat()
            except FileNotFoundError:
                return None
            return f"{stat.st_mtime_ns}-{stat.st_size}"
        bucket, _ = self._bucket_prefix
        try:
            head = self._s3.head_object(Bucket=bucket, Key=self._s3_key(key))
        except Exception as exc:
            if _status_code(exc) == 404:
                return None
            raise LakeError(f"{self.uri(key)}: {exc}") from exc
        return str(head["ETag"])

    def download(self, key: str, path: str | Path) -> Path:
        """Copy ``key`` to the local ``path`` in one request (one streamed GET on S3)."""
        if not self.is_s3:
            if not self._path(key).is_file():
                raise LakeError(f"{self.uri(key)}: no such object in the lake")
            shutil.copyfile(self._path(key), path)
            return Path(path)
        bucket, _ = self._bucket_prefix
        response = self._wrap(
            key, lambda: self._s3.get_object(Bucket=bucket, Key=self._s3_key(key))
        )
        with open(path, "wb") as handle:
            shutil.copyfileobj(response["Body"], handle, 8 << 20)
        return Path(path)

    def list(self, prefix: str = "") -> list[str]:
        """All keys under ``prefix`` (recursive, sorted; every page of an S3 listing)."""
        if not self.is_s3:
            base = self._path(prefix) if prefix else Path(self.url)
            root = Path(self.url)
            if base.is_file():
                return [prefix]
            if not base.is_dir():
                return []
            return sorted(
                p.relative_to(root).as_posix()
                for p in base.rglob("*")
                if p.is_file() and not p.name.startswith(".")
            )
        bucket, _ = self._bucket_prefix
        full = self._s3_key(prefix)
        strip = len(self._s3_key(""))
        keys: list[str] = []
        paginator = self._s3.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=bucket, Prefix=full):
                keys.extend(obj["Key"][strip:] for obj in page.get("Contents", []))
        except Exception as exc:
            if _no_such_bucket(exc):
                raise self._missing_bucket() from exc
            raise LakeError(f"{self.uri(prefix)}: listing failed: {exc}") from exc
        return sorted(keys)

    def _missing_bucket(self) -> LakeError:
        bucket, _ = self._bucket_prefix
        where = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return LakeError(
            f"{self.url}: the S3 bucket {bucket!r} does not exist{where}; create it or fix "
            "ELEX_LAKE_URL"
        )

    def move(self, src: str, dst: str) -> str:
        """Put the object ``src`` at ``dst`` (replacing it) and remove ``src``.

        Locally a rename (atomic); on S3 a server-side copy (``dst`` appears whole
        when the copy completes) then a delete. Either way ``dst`` is never partial.
        """
        if self.is_s3:
            bucket, _ = self._bucket_prefix
            source = {"Bucket": bucket, "Key": self._s3_key(src)}
            self._wrap(dst, lambda: self._s3.copy(source, bucket, self._s3_key(dst)))
            self.delete(src)
        else:
            target = self._path(dst)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.replace(self._path(src), target)
            except FileNotFoundError:
                raise LakeError(f"{self.uri(src)}: no such object in the lake") from None
        return self.uri(dst)

    # ---- deleting ---------------------------------------------------------
    def delete_temporaries(self, folder: str, name_prefix: str = "") -> int:
        """Remove the hidden temporary files a killed writer left in ``folder`` (local only;
        S3 writes never leave one). Call it only where no other writer is at work."""
        if self.is_s3:
            return 0
        base = self._path(folder)
        stale = list(base.glob(f".{name_prefix}*.tmp*")) if base.is_dir() else []
        for path in stale:
            path.unlink(missing_ok=True)
        return len(stale)

    def delete(self, key: str) -> None:
        if self.is_s3:
            bucket, _ = self._bucket_prefix
            self._wrap(key, lambda: self._s3.delete_object(Bucket=bucket, Key=self._s3_key(key)))
        else:
            self._path(key).unlink(missing_ok=True)

    def delete_many(self, keys: list[str]) -> None:
        for key in keys:
            self.delete(key)

    def _wrap(self, key: str, call: Any) -> Any:
        try:
            return call()
        except LakeError:
            raise
        except Exception as exc:
            if _no_such_bucket(exc):
                raise self._missing_bucket() from exc
            if _status_code(exc) == 404:
                raise LakeError(f"{self.uri(key)}: no such object in the lake") from exc
            raise LakeError(f"{self.uri(key)}: {type(exc).__name__}: {exc}") from exc


def _no_such_bucket(exc: Exception) -> bool:
    response = getattr(exc, "response", None)
    return isinstance(response, dict) and response.get("Error", {}).get("Code") == "NoSuchBucket"


def _status_code(exc: Exception) -> int | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code is None:
            err = response.get("Error", {}).get("Code")
            if err in ("404", "NoSuchKey", "NotFound"):
                return 404
        return code
    return None
