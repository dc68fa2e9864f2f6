"""Import a legacy collection into the lake, one parquet per UTC day and source.

The source (a local folder or an ``s3://`` prefix) is listed once; each file the
format recognises is read (downloaded first on S3) and its rows are spilled to a
local folder split by UTC day, so memory holds one file or one day at a time.
Then each day's rows are sorted and written atomically at
``archive_*_key(day, source)``, beside the live file of that day; a re-import
replaces the day's file. Files are read in key order and rows sorted on stable
columns, so the same input gives byte-identical files. Every file is read
before anything is written: a file in the wrong format stops the import with
the lake untouched.

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

from elex_assets.core.archive import stream, trends_2017, tweets_2017
from elex_assets.core.archive.report import ImportReport
from elex_assets.core.lake import Lake
from elex_assets.core.layout import (
    CLEAN_TWEETS,
    archive_trends_key,
    archive_tweets_key,
    clean_trends_prefix,
)
from elex_assets.core.registry import Registry

Reader = Callable[[Path, str, Registry], tuple[pl.DataFrame, Counter[str]]]
DAY_FOLDER = re.compile(r"^\d{8}$")
TWEETS_SORT = ["created_at", "id", "author_username", "author_name", "text"]
TRENDS_KEY = ["timestamp", "candidate_id", "keyword"]
TRENDS_SORT = TRENDS_KEY


@dataclass(frozen=True)
class ArchiveFormat:
    name: str  # CLI name
    source: str  # value of the ``source`` column / lake file name
    table: str  # "tweets" or "trends_interest_over_time"
    election: str | None  # fixed election, or None when the user says which
    accepts: Callable[[str], bool]  # which keys of the source folder are its files
    reader: Reader
    description: str


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
    )
}


def _day_key(fmt: ArchiveFormat, day: date) -> str:
    if fmt.table == "tweets":
        return archive_tweets_key(day, fmt.source)
    return archive_trends_key("interest_over_time", trends_2017.AREA, day, fmt.source)


def _existing_keys(fmt: ArchiveFormat, lake: Lake, registry: Registry) -> dict[date, str]:
    """This source's files already in the lake, by day (within the campaign window)."""
    election = registry.election
    if fmt.table == "tweets":
        prefix = f"{CLEAN_TWEETS}/"
    else:
        prefix = clean_trends_prefix(
            "interest_over_time", trends_2017.AREA, election.campaign_start
        )
        prefix = prefix.rsplit("/date=", 1)[0] + "/"  # every day of that kind and area
    found: dict[date, str] = {}
    suffix = f"/archive-{fmt.source}.parquet"
    for key in lake.list(prefix):
        match = re.search(r"/date=(\d{4}-\d{2}-\d{2})/", key)
        if key.endswith(suffix) and match:
            day = date.fromisoformat(match.group(1))
            if election.campaign_start <= day <= election.campaign_end:
                found[day] = key
    return found


def import_archive(
    format_name: str,
    source: Lake,
    lake: Lake,
    registry: Registry,
    *,
    prune: bool = False,
    log: Callable[[str], None] | None = None,
) -> ImportReport:
    """Import every file of ``format_name`` found under ``source`` into ``lake``."""
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
    sort = TWEETS_SORT if fmt.table == "tweets" else TRENDS_SORT
    day_column = "created_at" if fmt.table == "tweets" else "date"

    with tempfile.TemporaryDirectory(prefix="elex-archive-") as tmp:
        spill = Path(tmp)
        for number, key in enumerate(report.files):
            with source.local_copy(key) as path:
                frame, malformed = fmt.reader(path, key, registry)
            report.malformed.update(malformed)
            say(f"{key}: {frame.height} row(s), malformed {dict(malformed) or 'none'}")
            days = frame.with_columns(_day=pl.col(day_column).cast(pl.Date))
            for (day,), part in days.partition_by("_day", as_dict=True).items():
                folder = spill / day.isoformat()
                folder.mkdir(exist_ok=True)
                part.drop("_day").write_parquet(folder / f"{number:08d}.parquet")

        for folder in sorted(p for p in spill.iterdir() if p.is_dir()):
            day = date.fromisoformat(folder.name)
            parts = sorted(folder.glob("*.parquet"))
            frame = pl.concat([pl.read_parquet(p) for p in parts], how="vertical")
            frame = frame.sort(sort, nulls_last=True, maintain_order=True)
            if fmt.table != "tweets":
                # a day fetched twice (overlapping requests): the later fetch wins
                before = frame.height
                frame = frame.unique(subset=TRENDS_KEY, keep="last", maintain_order=True)
                report.duplicates += before - frame.height
            elif frame["id"].null_count() < frame.height:
                before = frame.height
                with_id = frame.filter(pl.col("id").is_not_null()).unique(
                    subset=["id"], keep="first", maintain_order=True
                )
                frame = pl.concat([with_id, frame.filter(pl.col("id").is_null())]).sort(
                    sort, nulls_last=True, maintain_order=True
                )
                report.duplicates += before - frame.height
            key = _day_key(fmt, day)
            lake.write_parquet(key, frame)
            report.written.append(key)
            report.rows_per_day[day] = frame.height
            election = registry.election
            if not election.campaign_start <= day <= election.campaign_end:
                report.days_outside_campaign.append(day)

    if prune:
        for day, key in sorted(_existing_keys(fmt, lake, registry).items()):
            if day not in report.rows_per_day:
                lake.delete(key)
                report.removed.append(key)
    say(report.summary())
    return report
