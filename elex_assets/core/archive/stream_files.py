"""Readers of the raw v1.1 stream files: JSON lines, and the 2021-22 pandas CSV.

* 2017: ``YYYYMMDD/<file>``, one status object per line (plain or gzipped).
* 2021-22: ``data/raw/twitter/YYYYMMDD/YYYYMMDD_HHMMSS.csv.gz``: ``pandas.DataFrame(
  statuses).to_csv(...)``, so every top-level key is a column and nested objects
  are Python reprs (``{'screen_name': 'x', 'verified': False}``), not JSON. They
  are parsed with ``ast.literal_eval`` (literals only, never ``eval``). Limit
  notices are rows too: their ``limit`` column is set and the rest is empty.

Each reader yields ``(status, reason)``: a dict for a row that parsed, or the
malformed reason; classification of notices happens in ``v1_status``.
"""

from __future__ import annotations

import ast
import gzip
import io
import json
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl

from elex_assets.core.archive import report as r
from elex_assets.core.archive.report import ArchiveFormatError, FileSkipped

GZIP_MAGIC = b"\x1f\x8b"

# Top-level keys of a v1.1 status (or notice) that hold objects or lists: in the
# pandas CSV their cells are Python reprs. Every other column is a scalar.
NESTED_KEYS = frozenset(
    {
        "user",
        "entities",
        "extended_entities",
        "extended_tweet",
        "retweeted_status",
        "quoted_status",
        "quoted_status_permalink",
        "place",
        "coordinates",
        "geo",
        "contributors",
        "display_text_range",
        "withheld_in_countries",
        "matching_rules",
        "scopes",
        "limit",
        "delete",
        "scrub_geo",
        "status_withheld",
        "user_withheld",
        "disconnect",
        "warning",
    }
)
# The nested cells the mapping reads (and notices): only these are parsed; the
# other nested columns (place, extended_entities, ...) are not mapped, and
# literal_eval is the import's main cost.
PARSED_KEYS = frozenset(
    {"user", "entities", "extended_tweet", "retweeted_status", "quoted_status"}
    | {"limit", "delete", "scrub_geo", "status_withheld", "user_withheld", "disconnect", "warning"}
)
UNUSED_KEYS = NESTED_KEYS - PARSED_KEYS
# A stream CSV has at least one of these columns (posts or notices).
CSV_MARKERS = frozenset({"id_str", "created_at", "limit", "delete"})


def read_bytes(path: Path, name: str, compressed: bool | None = None) -> bytes:
    """The file's content, gunzipped when it is (or must be) gzip; errors name the file."""
    data = path.read_bytes()
    is_gzip = data[:2] == GZIP_MAGIC
    if compressed and not is_gzip:
        raise ArchiveFormatError(name, "not a gzip file (a .csv.gz stream file was expected)")
    if not is_gzip:
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise ArchiveFormatError(name, f"corrupt or truncated gzip data ({exc})") from None


def iter_jsonl(path: Path, name: str) -> Iterator[tuple[dict[str, Any] | None, str | None]]:
    """Statuses of a JSON-lines file.

    The 2017 listener printed each status and, on a failed connect, the HTTP status
    (``420`` when rate-limited): such lines are counted as ``stream_error_code``, and
    a file holding only those (or nothing) is skipped with its reason. A file with
    other lines but no JSON object at all is not a stream file: an error.
    """
    text = read_bytes(path, name).decode("utf-8", errors="replace")
    parsed_any = False
    bad: list[str] = []
    codes: Counter[str] = Counter()
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            bad.append(r.BAD_JSON)
            continue
        if not isinstance(obj, dict):
            if _is_status_code(obj):
                codes[str(obj)] += 1
                bad.append(r.STREAM_ERROR_CODE)
            else:
                bad.append(r.NOT_AN_OBJECT)
            continue
        parsed_any = True
        yield obj, None
    if not parsed_any:
        if not bad:
            raise FileSkipped(r.EMPTY_FILE, "no line at all (the stream delivered nothing)")
        if all(reason == r.STREAM_ERROR_CODE for reason in bad):
            listed = ", ".join(f"{code} x{n}" for code, n in sorted(codes.items()))
            raise FileSkipped(
                r.ONLY_ERROR_CODES,
                f"the stream only logged HTTP error codes ({listed}), no status",
                rows=len(bad),
            )
        raise ArchiveFormatError(
            name, f"not a JSON-lines stream file: none of its {len(bad)} line(s) is a JSON object"
        )
    for reason in bad:
        yield None, reason


def _is_status_code(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599


def iter_pandas_csv(path: Path, name: str) -> Iterator[tuple[dict[str, Any] | None, str | None]]:
    """Statuses of a 2021-22 ``.csv.gz``: scalar cells as text, nested cells via literal_eval."""
    data = read_bytes(path, name, compressed=True)
    if not data.strip():
        # ``pandas.DataFrame([]).to_csv(...)`` of a run that received nothing: one newline
        raise FileSkipped(r.EMPTY_FILE, "empty CSV (the collector run received no status)")
    try:
        frame = pl.read_csv(io.BytesIO(data), infer_schema=False)
    except Exception as exc:  # polars raises several ComputeError/NoDataError kinds
        raise ArchiveFormatError(
            name, f"not a readable CSV ({type(exc).__name__}: {exc})"
        ) from None
    if not CSV_MARKERS & set(frame.columns):
        raise ArchiveFormatError(
            name,
            "not a v1.1 stream CSV: none of the columns "
            f"{sorted(CSV_MARKERS)} (found {frame.columns[:8]})",
        )
    columns = [
        c for c in frame.columns if c and not c.startswith("Unnamed") and c not in UNUSED_KEYS
    ]
    for row in frame.select(columns).iter_rows(named=True):
        status: dict[str, Any] = {}
        failed = False
        for key, cell in row.items():
            if cell is None or cell == "":
                continue
            if key in NESTED_KEYS:
                try:
                    status[key] = ast.literal_eval(cell)
                except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                    failed = True
                    break
            else:
                status[key] = cell
        if failed:
            yield None, r.UNPARSABLE_REPR
        else:
            yield status, None
