"""Import assets for the legacy collections (2017 SQLite, 2017 Trends, raw v1.1 stream).

Unpartitioned on purpose: legacy files are cut by ISO week or by local-time
folders, not by UTC day, so one run reads the whole collection once and writes
every UTC day it finds (one parquet per day beside the live file), replacing
that source's file of each day. Re-running gives the same files. The source is
run config ``source_url`` or, when empty, ``ELEX_ARCHIVE_URL`` (a folder or an
``s3://`` prefix).
"""


import os  # no `from __future__ import annotations`: Dagster resolves Config annotations at runtime

import dagster as dg
from pydantic import Field

from elex_assets.core.archive import ImportReport, import_archive
from elex_assets.core.lake import Lake
from elex_assets.core.markdown import markdown_table
from elex_assets.core.registry import load_registry
from elex_assets.resources import LakeResource

ARCHIVE_URL_ENV = "ELEX_ARCHIVE_URL"


class ArchiveImportConfig(dg.Config):
    source_url: str = Field(
        default="",
        description=f"Folder or s3:// prefix holding the collection; empty: ${ARCHIVE_URL_ENV}",
    )
    prune: bool = Field(
        default=False,
        description="Also remove this source's files for campaign days absent from this import",
    )


class StreamImportConfig(ArchiveImportConfig):
    election: str = Field(
        default="2022", description="Election of the collection (2017 or 2022): its registry"
    )


def _source(config: ArchiveImportConfig) -> Lake:
    url = config.source_url.strip() or os.environ.get(ARCHIVE_URL_ENV, "").strip()
    if not url:
        raise dg.Failure(
            f"no archive source: set run config source_url or {ARCHIVE_URL_ENV} "
            "to the folder or s3:// prefix holding the old collection"
        )
    return Lake.from_url(url)


def _run(
    context: dg.AssetExecutionContext,
    format_name: str,
    election: str,
    config: ArchiveImportConfig,
    lake: LakeResource,
) -> dg.MaterializeResult:
    target = lake.lake()
    report = import_archive(
        format_name,
        _source(config),
        target,
        load_registry(election),
        prune=config.prune,
        log=context.log.info,
    )
    return dg.MaterializeResult(metadata=_metadata(report, target, election))


def _metadata(report: ImportReport, lake: Lake, election: str) -> dict[str, object]:
    days = report.days
    preview = ""
    if report.written:
        frame = lake.read_parquet(report.written[0]).head(5)
        keep = [c for c in frame.columns if frame[c].dtype.is_temporal() or c in _PREVIEW]
        preview = markdown_table(frame.select(keep), rows=frame.height)
    return {
        "election": election,
        "source_url": report.source_url,
        "files_read": len(report.files),
        "files_skipped": len(report.skipped_files),
        "rows": report.rows,
        "days": len(days),
        "first_day": days[0].isoformat() if days else "",
        "last_day": days[-1].isoformat() if days else "",
        "rows_per_day": dg.MetadataValue.json(
            {d.isoformat(): n for d, n in sorted(report.rows_per_day.items())}
        ),
        "malformed_rows": sum(report.malformed.values()),
        "malformed_by_reason": dg.MetadataValue.json(dict(sorted(report.malformed.items()))),
        "duplicates_dropped": report.duplicates,
        "days_outside_campaign": len(report.days_outside_campaign),
        "files_written": len(report.written),
        "files_removed": len(report.removed),
        "path": dg.MetadataValue.path(lake.uri(report.written[0].rsplit("/date=", 1)[0]))
        if report.written
        else "",
        "preview": dg.MetadataValue.md(preview),
    }


_PREVIEW = {"text", "author_name", "post_type", "candidate_id", "keyword", "value", "source"}


@dg.asset(
    group_name="archive",
    kinds={"sqlite", "parquet"},
    description="2017 weekly SQLite collections (database_<week>_<n>.sqlite) imported into "
    "clean/tweets, one file per UTC day (source archive_2017_sqlite).",
)
def archive_tweets_2017_sqlite(
    context: dg.AssetExecutionContext, config: ArchiveImportConfig, lake: LakeResource
) -> dg.MaterializeResult:
    return _run(context, "tweets-2017-sqlite", "2017", config, lake)


@dg.asset(
    group_name="archive",
    kinds={"sqlite", "parquet"},
    description="2017 Google Trends SQLite (database_googletrends.sqlite) imported into "
    "clean/trends_interest_over_time, area fr, one file per UTC day.",
)
def archive_trends_2017_sqlite(
    context: dg.AssetExecutionContext, config: ArchiveImportConfig, lake: LakeResource
) -> dg.MaterializeResult:
    return _run(context, "trends-2017-sqlite", "2017", config, lake)


@dg.asset(
    group_name="archive",
    kinds={"json", "parquet"},
    description="Raw X API v1.1 stream files (2017 JSON lines, 2021-22 pandas .csv.gz) "
    "imported into clean/tweets, one file per UTC day (source archive_v1_stream).",
)
def archive_tweets_v1_stream(
    context: dg.AssetExecutionContext, config: StreamImportConfig, lake: LakeResource
) -> dg.MaterializeResult:
    return _run(context, "v1-stream", config.election, config, lake)


archive_assets = [archive_tweets_2017_sqlite, archive_trends_2017_sqlite, archive_tweets_v1_stream]
