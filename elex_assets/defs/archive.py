"""Import assets for the legacy collections (2017 SQLite, 2017 Trends, raw v1.1 stream,
2021-22 Google Trends collector files), and the archive elections' Wikipedia pageviews
(collected afresh from their registries: Wikimedia keeps every day since 2015-07).

Unpartitioned on purpose: legacy files are cut by ISO week or by local-time
folders, not by UTC day, so one run reads the whole collection once and writes
every UTC day it finds (one parquet per day beside the live file), replacing
that source's file of each day. Re-running gives the same files. The source is
run config ``source_url`` or, when empty, ``ELEX_ARCHIVE_URL`` (a folder or an
``s3://`` prefix). Candidates are matched with ``ELEX_CANDIDATES_FILE`` when set
(run config ``candidates_file`` overrides it), else the election's built-in registry.
"""


# no `from __future__ import annotations`: Dagster resolves Config annotations at runtime

from typing import TYPE_CHECKING

import dagster as dg
import polars as pl
from pydantic import Field

from elex_assets.core.lake import Lake
from elex_assets.core.markdown import markdown_table
from elex_assets.core.registry import Registry
from elex_assets.failures import final_on_deterministic
from elex_assets.resources import LakeResource
from elex_assets.settings import ArchiveSettings, Settings

if TYPE_CHECKING:  # the importers load only in a run that imports an archive
    from elex_assets.core.archive import ImportReport
from elex_assets.defs.wiki.resources import WikiResource

ARCHIVE_URL_ENV = "ELEX_ARCHIVE_URL"
BUILTIN = "builtin"  # run config candidates_file: ignore $ELEX_CANDIDATES_FILE


class ArchiveImportConfig(dg.Config):
    source_url: str = Field(
        default="",
        description=f"Folder or s3:// prefix holding the collection; empty: ${ARCHIVE_URL_ENV}",
    )
    prune: bool = Field(
        default=False,
        description="Also remove this source's files for campaign days absent from this import",
    )
    candidates_file: str = Field(
        default="",
        description="Registry matching the collection (elex format or the legacy 2022 "
        "candidates.json); empty: $ELEX_CANDIDATES_FILE, else the built-in registry; "
        "'builtin': the built-in registry even when $ELEX_CANDIDATES_FILE is set",
    )


class StreamImportConfig(ArchiveImportConfig):
    election: str = Field(
        default="2022", description="Election of the collection (2017 or 2022): its registry"
    )


def _settings() -> ArchiveSettings:
    try:
        return ArchiveSettings.from_env()
    except ValueError as exc:
        raise dg.Failure(str(exc), allow_retries=False) from None


def _source(config: ArchiveImportConfig) -> Lake:
    url = config.source_url.strip() or _settings().source_url
    if not url:
        raise dg.Failure(
            f"no archive source: set run config source_url or {ARCHIVE_URL_ENV} "
            "to the folder or s3:// prefix holding the old collection",
            allow_retries=False,
        )
    return Settings.load().lake(url)


def _registry(config: ArchiveImportConfig, election: str) -> Registry:
    if config.candidates_file.strip() == BUILTIN:
        path, setting = None, "run config candidates_file"
    elif config.candidates_file.strip():
        path, setting = config.candidates_file.strip(), "run config candidates_file"
    else:
        path, setting = _settings().candidates_file, "ELEX_CANDIDATES_FILE"
    from elex_assets.core.archive import archive_registry

    try:
        return archive_registry(election, path, setting)
    except ValueError as exc:  # RegistryError included: it names the file and entry
        raise dg.Failure(str(exc), allow_retries=False) from None


def _run(
    context: dg.AssetExecutionContext,
    format_name: str,
    election: str,
    config: ArchiveImportConfig,
    lake: LakeResource,
) -> dg.MaterializeResult:
    from elex_assets.core.archive import import_archive

    target = lake.lake()
    registry = _registry(config, election)
    report = import_archive(
        format_name,
        _source(config),
        target,
        registry,
        prune=config.prune,
        log=context.log.info,
        file_log_limit=FILE_LOG_LIMIT,
    )
    metadata = _metadata(report, target, election)
    metadata["registry"] = registry.source
    return dg.MaterializeResult(metadata=metadata)


def _metadata(report: "ImportReport", lake: Lake, election: str) -> dict[str, object]:
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
        "files_skipped": sum(len(v) for v in report.files_skipped_by_reason.values()),
        "files_skipped_by_reason": dg.MetadataValue.json(report.files_skipped_by_reason),
        "files_other": len(report.skipped_files),
        "per_file": dg.MetadataValue.json(_per_file(report)),
        "per_file_table": dg.MetadataValue.md(_per_file_table(report)),
        "rows_per_table": dg.MetadataValue.json(dict(sorted(report.rows_per_table.items()))),
        "fields_set_aside": dg.MetadataValue.json(dict(sorted(report.fields_dropped.items()))),
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
PER_FILE_ROWS = 200  # the UI table
PER_FILE_JSON = 5_000  # files listed in ``per_file`` (skipped ones always)
FILE_LOG_LIMIT = 200  # per-file log lines in the run log, then progress every 200 files


def _per_file(report: "ImportReport") -> list[dict[str, object]]:
    """Every file of a normal collection; for a huge one the first ``PER_FILE_JSON``
    and every skipped file (the event log must stay small)."""
    results = report.file_results
    kept = [f for i, f in enumerate(results) if i < PER_FILE_JSON or f.skipped]
    out = [f.to_dict() for f in kept]
    if len(kept) < len(results):
        out.append({"omitted_files": len(results) - len(kept)})
    return out


def _per_file_table(report: "ImportReport") -> str:
    rows = [
        {
            "file": f.file,
            "rows": f.rows,
            "set aside": ", ".join(f"{k}={v}" for k, v in sorted(f.malformed.items())),
            "skipped": f"{f.skipped}: {f.detail}" if f.skipped else "",
        }
        for f in report.file_results
    ]
    if not rows:
        return ""
    frame = pl.DataFrame(rows)
    return markdown_table(frame, rows=min(frame.height, PER_FILE_ROWS))


@dg.asset(
    group_name="archive",
    kinds={"sqlite", "parquet"},
    description="2017 weekly SQLite collections (database_<week>_<n>.sqlite) imported into "
    "clean/tweets, one file per UTC day (source archive_2017_sqlite).",
)
@final_on_deterministic
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
@final_on_deterministic
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
@final_on_deterministic
def archive_tweets_v1_stream(
    context: dg.AssetExecutionContext, config: StreamImportConfig, lake: LakeResource
) -> dg.MaterializeResult:
    return _run(context, "v1-stream", config.election, config, lake)


@dg.asset(
    group_name="archive",
    kinds={"csv", "parquet"},
    description="2021-22 Google Trends files of google_trends_collecter.py "
    "(data/raw/google_trends/<fr|world>/[daily_|weekly_]<kind>/YYYYMMDD/<candidate>_<time>.csv.gz) "
    "imported into the four clean/trends_* tables, both areas, one file per UTC day "
    "(source archive_2022_trends_collecter, the original window in timeframe).",
)
@final_on_deterministic
def archive_trends_2022_collecter(
    context: dg.AssetExecutionContext, config: ArchiveImportConfig, lake: LakeResource
) -> dg.MaterializeResult:
    return _run(context, "trends-2022-collecter", "2022", config, lake)


class WikiBackfillConfig(dg.Config):
    election: str = Field(
        default="2022", description="Archive election (2017 or 2022): its registry's articles "
        "over its campaign")
    export: bool = Field(default=True, description="Also export every complete ISO week "
                         "(kaggle/<election>/wiki_pageviews/)")


@dg.asset(
    group_name="archive",
    kinds={"parquet"},
    description="Wikipedia pageviews of an archive election (2017, 2022) from its registry's "
    "articles, the whole campaign in one request per article, into clean/wiki_pageviews (one "
    "file per UTC day, as the live asset) and its weekly exports: the same series as 2027.",
)
@final_on_deterministic
def archive_wiki_pageviews(
    context: dg.AssetExecutionContext, config: WikiBackfillConfig, lake: LakeResource,
    wiki: WikiResource,
) -> dg.MaterializeResult:
    from datetime import UTC, datetime

    from elex_assets.core.registry import load_registry
    from elex_assets.core.wiki.api import WikimediaError, WikimediaRetriesExhausted
    from elex_assets.core.wiki.backfill import backfill_election

    if config.election not in ("2017", "2022"):
        raise dg.Failure(f"election {config.election!r}: the archive elections are 2017 and "
                         "2022 (2027 is the live wiki_pageviews asset)", allow_retries=False)
    target = lake.lake()
    try:
        report = backfill_election(
            wiki.client(on_retry=lambda m, n: context.log.warning(f"Wikimedia attempt {n}: {m}")),
            target, load_registry(config.election), wiki.languages, now=datetime.now(UTC),
            export=config.export, log=context.log.info)
    except WikimediaRetriesExhausted:
        raise
    except WikimediaError as exc:
        raise dg.Failure(str(exc), allow_retries=False) from None
    return dg.MaterializeResult(metadata={
        "election": config.election,
        "first_day": report.first.isoformat(), "last_day": report.last.isoformat(),
        "articles": report.articles,
        "answers": report.result.requests,
        "days_written": len(report.written),
        "days_not_loaded": len(report.result.not_loaded),
        "not_found_404": report.result.not_found,
        "weeks_exported": dg.MetadataValue.json(report.weeks_exported),
        "path": dg.MetadataValue.path(target.uri("clean/wiki_pageviews")),
    })


archive_assets = [
    archive_wiki_pageviews,
    archive_tweets_2017_sqlite,
    archive_trends_2017_sqlite,
    archive_tweets_v1_stream,
    archive_trends_2022_collecter,
]
