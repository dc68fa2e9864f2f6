"""Throughput of the archive import on generated legacy files (not part of the test suite).

    .venv/bin/python bench/archive_import.py [posts_per_format]

Writes N posts as 2021-22 pandas CSV files, N as 2017 JSON lines and N rows of
2017 weekly SQLite, imports each into a temporary lake, prints rows/second.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from elex_assets.core.archive import import_archive
from elex_assets.core.lake import Lake
from elex_assets.core.registry import load_registry
from elex_assets.sandbox.archive_files import (
    sqlite_row,
    status,
    write_2017_sqlite,
    write_jsonl,
    write_pandas_csv,
)

TEXTS = ["Macron à Lyon", "Le Pen et Mélenchon", "Débat Zemmour Pécresse", "rien à voir"]


def main(n: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="elex-bench-"))
    per_file = 2000
    start = datetime(2022, 3, 1, tzinfo=UTC)
    for f in range(0, n, per_file):
        posts = [
            status(
                10**15 + i,
                (start + timedelta(seconds=30 * i)).strftime("%Y-%m-%dT%H:%M:%S"),
                TEXTS[i % 4],
                full_text=TEXTS[i % 4] + " " + "x" * 150,
                hashtags=("a",),
            )
            for i in range(f, min(f + per_file, n))
        ]
        day = posts[0]["created_at"]
        folder = datetime.strptime(day, "%a %b %d %H:%M:%S %z %Y").strftime("%Y%m%d")
        write_pandas_csv(root / f"csv/{folder}/{folder}_{f:08d}.csv.gz", posts)
        write_jsonl(root / f"jsonl/{folder}/{f:08d}", posts)
    rows = [
        sqlite_row(
            (datetime(2017, 3, 1) + timedelta(seconds=30 * i)).isoformat(timespec="seconds"),
            TEXTS[i % 4],
            ("Macron",) if i % 2 else ("Le Pen", "Mélenchon"),
        )
        for i in range(n)
    ]
    write_2017_sqlite(root / "sqlite/database_9_1.sqlite", rows)
    for fmt, folder, election in (
        ("v1-stream", "csv", "2022"),
        ("v1-stream", "jsonl", "2022"),
        ("tweets-2017-sqlite", "sqlite", "2017"),
    ):
        lake = Lake.from_url(str(root / f"lake-{folder}"))
        began = time.perf_counter()
        report = import_archive(
            fmt, Lake.from_url(str(root / folder)), lake, load_registry(election)
        )
        took = time.perf_counter() - began
        print(
            f"{fmt:20s} {folder:6s} {report.rows:8d} rows {took:6.2f} s "
            f"{report.rows / took:9.0f} rows/s"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000)
