"""Import a legacy collection into the lake, one parquet per UTC day and source.

The source (a local folder or an ``s3://`` prefix) is listed once; each file the
format recognises is read (downloaded first on S3) and its rows are spilled to a
local folder split by UTC day, so memory holds one file or one day at a time.
Then each day's rows are sorted and written atomically at
``archive_*_key(day, source)``, beside the live file of that day; a re-import
replaces the day's file. Files are read in key order and rows sorted on stable
columns, so the same input gives byte-identical files. Every file is read
before anything is written: a file in the wrong format stops the import with
the lake untouched, while a file the old scripts wrote in a normal failure case
(``FileSkipped``: only error codes, an empty run, an unknown candidate) counts as
a file with 0 rows and its reason, and the import goes on. The report lists
every file with its rows and what was set aside.

A format may feed several tables (the 2021-22 Trends files feed the four
``trends_*`` tables, both areas): each file is routed by ``table_of``.

Legacy files are organised by ISO week or by local-time folders, not by UTC day,
so one UTC day may draw on several files: a collection is imported in one go.
With ``prune``, files of this source for days of the election's campaign that the
new import did not produce are removed (re-importing a smaller set).
"""

from __future__ import annotations

import re
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePosixPath

import polars as pl

from elex_assets.core.archive import report as r
from elex_assets.core.archive import stream, trends_2017, trends_2022, tweets_2017
from elex_assets.core.archive.report import FileResult, FileSkipped, ImportReport
from elex_assets.core.lake import Lake
from elex_assets.core.layout import (
    CLEAN_TWEETS,
    archive_trends_key,
    archive_tweets_key,
)
from elex_assets.core.registry import Registry, load_registry

Reader = Callable[[Path, str, Registry], tuple[pl.DataFrame, Counter[str]]]
DAY_FOLDER = re.compile(r"^\d{8}$")
TWEETS_SORT = ["created_at", "id", "author_username", "author_name", "text"]
TRENDS_KEY = ["timestamp", "candidate_id", "keyword"]
TRENDS_SORT = TRENDS_KEY
SPILL_ROWS = 500_000  # rows held in memory before spilling to the day folders


@dataclass(frozen=True)
class ArchiveFormat:
    name: str  # CLI name
    source: str  # value of the ``source`` column / lake file name
    table: str  # "tweets" or "trends_interest_over_time"
    election: str | None  # fixed election, or None when the user says which
    accepts: Callable[[str], bool]  # which keys of the source folder are its files
    reader: Reader
    description: str
    table_of: Callable[[str], str] | None = None  # per-file table, for multi-table formats
    keys: dict[str, list[str]] | None = None  # per-table unique key (trends), sort order too

    @property
    def tables(self) -> list[str]:
        if self.keys:
            return sorted(self.keys)
        return [self.table]


def _is_weekly_sqlite(key: str) -> bool:
    name = PurePosixPath(key).name
    return (
        name.startswith("database_")
        and name.endswith(".sqlite")
        and name != "database_googletrends.sqlite"
    )


def _is_trends_sqlite(key: str) -> bool:
    return PurePosixPath(key).name == "database_googletrends.sqlite"


def _is_stream_file(key: str) -> bool:
    """A file in a ``YYYYMMDD`` folder; under ``raw/`` only ``raw/twitter/`` (the 2022
    scripts kept other raw data, e.g. Trends, in sibling day folders)."""
    path = PurePosixPath(key)
    parts = path.parts
    if "raw" in parts[:-1]:
        after = parts.index("raw") + 1
        if after >= len(parts) - 1 or parts[after] != "twitter":
            return False
    return bool(DAY_FOLDER.match(path.parent.name)) and not path.name.startswith(".")


FORMATS: dict[str, ArchiveFormat] = {
    f.name: f
    for f in (
        ArchiveFormat(
            "tweets-2017-sqlite",
            tweets_2017.SOURCE,
            "tweets",
            "2017",
            _is_weekly_sqlite,
            tweets_2017.read_tweets_sqlite,
            "2017 weekly SQLite files database_<week>_<n>.sqlite (table data)",
        ),
        ArchiveFormat(
            "trends-2017-sqlite",
            trends_2017.SOURCE,
            "trends_interest_over_time",
            "2017",
            _is_trends_sqlite,
            trends_2017.read_trends_sqlite,
            "2017 Google Trends SQLite database_googletrends.sqlite",
        ),
        ArchiveFormat(
            "v1-stream",
            stream.SOURCE,
            "tweets",
            None,
            _is_stream_file,
            stream.read_stream_file,
            "raw v1.1 stream files YYYYMMDD/<file> (JSON lines or pandas .csv.gz)",
        ),
        ArchiveFormat(
            "trends-2022-collecter",
            trends_2022.SOURCE,
            "trends_interest_over_time",
            "2022",
            trends_2022.is_trends_file,
            trends_2022.read_trends_2022,
            "google_trends_collecter.py files <fr|world>/[daily_|weekly_]<kind>/YYYYMMDD/"
            "<candidate>_<YYYYMMDD_HHMM>.csv.gz",
            table_of=trends_2022.table_of,
            keys={f"trends_{kind}": key for kind, key in trends_2022.KEYS.items()},
        ),
    )
}


def archive_registry(
    election: str, candidates_file: str | None, setting: str = "ELEX_CANDIDATES_FILE"
) -> Registry:
    """The registry that matches a collection of ``election``: the built-in one, or
    ``candidates_file`` (elex format of that election, or a legacy ``candidates.json``,
    whose entries then drive matching with the election's dates)."""
    registry = load_registry(election, candidates_file)
    if candidates_file and registry.election.id != election:
        raise ValueError(
            f"{setting}={candidates_file!r} is the {registry.election.id} registry; to import "
            f"a {election} collection, point it at a {election} registry or a legacy "
            "candidates.json, or unset it"
        )
    return registry


def _day_key(fmt: ArchiveFormat, table: str, area: str, day: date) -> str:
    if table == "tweets":
        return archive_tweets_key(day, fmt.source)
    return archive_trends_key(table.removeprefix("trends_"), area, day, fmt.source)


def _existing_keys(fmt: ArchiveFormat, lake: Lake, registry: Registry) -> list[str]:
    """This source's files already in the lake, every table and area, campaign days only."""
    election = registry.election
    found: list[str] = []
    suffix = f"/archive-{fmt.source}.parquet"
    for table in fmt.tables:
        prefix = f"{CLEAN_TWEETS}/" if table == "tweets" else f"clean/{table}/"
        for key in lake.list(prefix):
            match = re.search(r"/date=(\d{4}-\d{2}-\d{2})/", key)
            if key.endswith(suffix) and match:
                day = date.fromisoformat(match.group(1))
                if election.campaign_start <= day <= election.campaign_end:
                    found.append(key)
    return sorted(found)


def _read_file(
    fmt: ArchiveFormat, path: Path, key: str, registry: Registry
) -> tuple[pl.DataFrame | None, FileResult]:
    """Read one file; a ``FileSkipped`` becomes a result with 0 rows and its reason."""
    try:
        frame, counts = fmt.reader(path, key, registry)
    except FileSkipped as skip:
        malformed = Counter({skip.reason: skip.rows}) if skip.rows else Counter()
        return None, FileResult(key, 0, malformed, skip.reason, skip.detail)
    return frame, FileResult(key, frame.height, counts)


def import_archive(
    format_name: str,
    source: Lake,
    lake: Lake,
    registry: Registry,
    *,
    prune: bool = False,
    log: Callable[[str], None] | None = None,
    file_log_limit: int | None = None,
) -> ImportReport:
    """Import every file of ``format_name`` found under ``source`` into ``lake``.

    ``log`` gets one line per file (all of them, or with ``file_log_limit`` the first
    that many, every skipped file, and a progress line every that many files), then
    the summary. Every file is in ``report.file_results`` either way.
    """
    if format_name not in FORMATS:
        raise ValueError(f"unknown archive format {format_name!r}; expected one of {list(FORMATS)}")
    fmt = FORMATS[format_name]
    if fmt.election and registry.election.id != fmt.election:
        raise ValueError(
            f"{format_name} holds the {fmt.election} election, not {registry.election.id}"
        )
    say = log or (lambda _msg: None)
    report = ImportReport(format=format_name, source_url=source.url)
    keys = source.list()
    report.files = [k for k in keys if fmt.accepts(k)]
    report.skipped_files = [k for k in keys if not fmt.accepts(k)]
    if not report.files:
        raise FileNotFoundError(
            f"{source.url}: no {fmt.description} found ({len(keys)} other file(s))"
        )
    with tempfile.TemporaryDirectory(prefix="elex-archive-") as tmp:
        spill = Path(tmp)
        pending = _Spill(spill)
        for number, key in enumerate(report.files, 1):
            with source.local_copy(key) as path:
                frame, result = _read_file(fmt, path, key, registry)
            report.file_results.append(result)
            report.rows_read += result.rows
            for reason, count in result.malformed.items():
                if reason in r.FIELD_REASONS:
                    report.fields_dropped[reason] += count
                else:
                    report.malformed[reason] += count
            result.malformed = +Counter(
                {k: v for k, v in result.malformed.items() if k not in r.FIELD_REASONS}
            )
            if file_log_limit is None or number <= file_log_limit or result.skipped:
                say(result.line())
            elif number % file_log_limit == 0:
                say(f"{number} of {len(report.files)} files read, {report.rows_read} row(s)")
            if frame is None or frame.height == 0:
                continue
            table = fmt.table_of(key) if fmt.table_of else fmt.table
            day_column = "created_at" if table == "tweets" else "date"
            days = frame.with_columns(_day=pl.col(day_column).cast(pl.Date))
            if "area" not in days.columns:
                days = days.with_columns(area=pl.lit(trends_2017.AREA))
            for (day, area), part in days.partition_by(
                "_day", "area", as_dict=True, maintain_order=True
            ).items():
                keep = [c for c in part.columns if c != "_day"]
                if table == "tweets":
                    keep.remove("area")
                pending.add(f"{table}/{area}/{day.isoformat()}", part.select(keep))
        pending.flush()

        for folder in sorted(spill.glob("*/*/*")):
            table, area, day = (
                folder.parent.parent.name,
                folder.parent.name,
                date.fromisoformat(folder.name),
            )
            parts = sorted(folder.glob("*.parquet"))
            frame = pl.concat([pl.read_parquet(p) for p in parts], how="vertical")
            frame = _unique(fmt, table, frame, report)
            key = _day_key(fmt, table, area, day)
            lake.write_parquet(key, frame)
            report.written.append(key)
            report.rows_per_day[day] = report.rows_per_day.get(day, 0) + frame.height
            report.rows_per_table[table] = report.rows_per_table.get(table, 0) + frame.height
            election = registry.election
            outside = not election.campaign_start <= day <= election.campaign_end
            if outside and day not in report.days_outside_campaign:
                report.days_outside_campaign.append(day)

    if prune:
        written = set(report.written)
        for key in _existing_keys(fmt, lake, registry):
            if key not in written:
                lake.delete(key)
                report.removed.append(key)
    say(report.summary())
    return report


class _Spill:
    """Rows waiting for their day, kept in memory up to ``limit`` rows, then written as one
    parquet per day folder (numbered in reading order): an archive of millions of small
    files spills a few large parts, not one tiny file per legacy file and day."""

    def __init__(self, root: Path, limit: int = SPILL_ROWS) -> None:
        self.root, self.limit = root, limit
        self.frames: dict[str, list[pl.DataFrame]] = {}
        self.rows = 0
        self.flushes = 0

    def add(self, folder: str, frame: pl.DataFrame) -> None:
        self.frames.setdefault(folder, []).append(frame)
        self.rows += frame.height
        if self.rows >= self.limit:
            self.flush()

    def flush(self) -> None:
        for folder, frames in self.frames.items():
            path = self.root / folder
            path.mkdir(parents=True, exist_ok=True)
            pl.concat(frames, how="vertical").write_parquet(path / f"{self.flushes:08d}.parquet")
        self.frames, self.rows = {}, 0
        self.flushes += 1


def _unique(
    fmt: ArchiveFormat, table: str, frame: pl.DataFrame, report: ImportReport
) -> pl.DataFrame:
    """Sort on stable columns and drop rows imported twice (counted as duplicates)."""
    before = frame.height
    if table != "tweets":
        key = fmt.keys[table] if fmt.keys else TRENDS_KEY
        # a point fetched twice (overlapping requests): the later fetch wins
        frame = frame.sort(key, nulls_last=True, maintain_order=True)
        frame = frame.unique(subset=key, keep="last", maintain_order=True)
    else:
        frame = frame.sort(TWEETS_SORT, nulls_last=True, maintain_order=True)
        if frame["id"].null_count() < frame.height:
            with_id = frame.filter(pl.col("id").is_not_null()).unique(
                subset=["id"], keep="first", maintain_order=True
            )
            frame = pl.concat([with_id, frame.filter(pl.col("id").is_null())]).sort(
                TWEETS_SORT, nulls_last=True, maintain_order=True
            )
    report.duplicates += before - frame.height
    return frame
