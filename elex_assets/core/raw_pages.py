"""Landing API pages in the raw lake as they arrive, shared by the X and Bluesky collectors.

A run streams its pages to a local gzip file, one JSON line per page (the run's
header, the request, a coverage summary, then the response as the API sent it),
and lands it (file, then its ``.manifest.json``) every ``rollover_posts`` posts
and at the end. Rolling over bounds the size of a raw file (so normalising stays
within memory on million-post days) and the loss on a hard crash.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
import zlib
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, Generic, Protocol, TypeVar

from elex_assets.core.lake import Lake


def manifest_key(raw_key: str) -> str:
    """The manifest beside a raw file."""
    return raw_key.removesuffix(".jsonl.gz") + ".manifest.json"


class DamagedRawFile(ValueError):
    """A raw page file that cannot be read whole (empty, cut, not gzip, a line that is not
    JSON); the message names it and says how to heal the day."""

    transient = False  # final: see core.retrying.is_deterministic


def raw_records(lake: Lake, key: str, heal: str) -> list[dict[str, Any]]:
    """The JSON lines of the raw page file ``key``, refusing a damaged file (``heal``: how
    to re-fetch the day). A raw file always holds its run's header line, so an empty file
    (0 bytes: a gzip member with no line still has 20) is damage, never an empty day."""
    uri = lake.uri(key)
    data = lake.read_bytes(key)
    if not data:
        raise DamagedRawFile(f"{uri}: empty file (0 bytes). {heal}")
    try:
        body = gzip.decompress(data)
    except (EOFError, OSError, zlib.error) as exc:
        raise DamagedRawFile(f"{uri}: {exc}. {heal}") from None
    records = []
    for number, line in enumerate(body.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise DamagedRawFile(
                f"{uri}: line {number} is not valid JSON ({exc}: cut or corrupt). {heal}"
            ) from None
        if not isinstance(record, dict):
            raise DamagedRawFile(f"{uri}: line {number} is not a page object. {heal}")
        records.append(record)
    return records


class Summary(Protocol):
    def to_json(self) -> dict[str, Any]: ...


S = TypeVar("S", bound=Summary)


class RawPageWriter(Generic[S]):
    """Pages of one run to the raw lake; a subclass names the file, counts a page's posts
    and writes the manifest."""

    tmp_prefix = "elex-raw-"

    def __init__(
        self, lake: Lake, day: date, run_id: str, refresh_id: str | None,
        header: dict[str, Any], raw_key: Callable[[date, datetime, str], str],
        rollover_posts: int, log: Callable[[str], None],
        tmp_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.lake, self.day, self.run_id, self.refresh_id = lake, day, run_id, refresh_id
        self.header, self.raw_key, self.rollover_posts, self.log = (
            header, raw_key, rollover_posts, log)
        self.summaries: list[S] = []
        self.landed: list[str] = []
        self._tmp_dir = tmp_dir  # pages in progress: the run's own temporary folder
        self._open()

    def posts_of(self, summary: S) -> int:
        raise NotImplementedError

    def manifest(self, key: str, complete: bool) -> dict[str, Any]:
        """The manifest of the file landing at ``key`` with ``self.pages``."""
        raise NotImplementedError

    def _open(self) -> None:
        self.collected_at = datetime.now(UTC)
        fd, self.tmp = tempfile.mkstemp(prefix=self.tmp_prefix, suffix=".jsonl.gz",
                                        dir=self._tmp_dir)
        os.close(fd)
        self.gz = gzip.open(self.tmp, "wb", compresslevel=5)  # noqa: SIM115 - closed in _land
        self.pages: list[S] = []
        self.posts = 0

    def write(self, meta: dict[str, Any], summary: S, response: bytes) -> None:
        """One page: ``response`` must be one line (the body as received, or re-encoded)."""
        prefix = json.dumps({**self.header, **meta, "summary": summary.to_json()},
                            ensure_ascii=False)
        self.gz.write(prefix[:-1].encode() + b', "response": ' + response + b"}\n")
        self.pages.append(summary)
        self.summaries.append(summary)
        self.posts += self.posts_of(summary)
        if self.posts >= self.rollover_posts:
            self._land(complete=False)
            self._open()

    def _land(self, complete: bool) -> None:
        self.gz.close()
        try:
            if not self.pages:
                return
            key = self.raw_key(self.day, self.collected_at, self.run_id)
            self.lake.put_file(key, self.tmp)
            self.lake.write_bytes(manifest_key(key),
                                  json.dumps(self.manifest(key, complete)).encode())
            self.landed.append(key)
            self.log(f"landed {len(self.pages)} pages, {self.posts} posts -> {self.lake.uri(key)}")
        finally:
            os.unlink(self.tmp)

    def close(self, complete: bool) -> None:
        self._land(complete)
