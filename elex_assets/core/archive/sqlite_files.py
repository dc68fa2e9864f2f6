"""Readers of the 2017 SQLite files (written by pandas ``to_sql``).

* weekly tweets ``database_<ISO week>_<n>.sqlite``, table ``data``: ``index, user,
  location, text, lang, timestampms, quoted/retweeted?, quoted/retweeted user,
  quoted/retweeted full_text, mention_<Candidate>..., day, hour``; the very first
  releases: ``index, lang, mention_<5 candidates>, text, timestampms``.
* Trends ``database_googletrends.sqlite``, table ``interests_over_time``:
  ``index, day, <lower-case full name>...``.

Every cell is read as text (``CAST(... AS TEXT)``): pandas stored booleans as
0/1 and ``timestampms`` as text, and one typing path is simpler to trust.
"""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from pathlib import Path

import polars as pl

from elex_assets.core.archive.report import ArchiveFormatError
from elex_assets.core.registry import Candidate, fold

SQLITE_MAGIC = b"SQLite format 3\x00"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")


def candidate_for(label: str, candidates: tuple[Candidate, ...]) -> Candidate | None:
    """Registry candidate named by a legacy column (``Le Pen``, ``jean-luc melenchon``)."""
    wanted = _slug(label)
    for cand in candidates:
        names = {cand.id, _slug(cand.name)} | ({_slug(cand.surname)} if cand.surname else set())
        if wanted in names:
            return cand
    return None


def read_table(path: Path, name: str, table: str) -> pl.DataFrame:
    """All rows of ``table`` as strings; a clear error if the file or table is wrong."""
    with open(path, "rb") as handle:
        if handle.read(16) != SQLITE_MAGIC:
            raise ArchiveFormatError(name, "not a SQLite database")
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            tables = [
                row[0]
                for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            ]
            if table not in tables:
                raise ArchiveFormatError(
                    name, f"no table {table!r} (tables: {', '.join(tables) or 'none'})"
                )
            columns = [row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')]
            select = ", ".join(f'CAST("{c}" AS TEXT)' for c in columns)
            rows = conn.execute(f'SELECT {select} FROM "{table}" ORDER BY rowid').fetchall()
    except sqlite3.DatabaseError as exc:
        raise ArchiveFormatError(name, f"unreadable SQLite database ({exc})") from None
    return pl.DataFrame(rows, schema={c: pl.String for c in columns}, orient="row")
