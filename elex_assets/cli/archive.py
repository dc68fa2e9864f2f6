"""``elex import <format> <source-url>``: the archive import without a Dagster instance.

Runs the same core as the ``archive_*`` assets and prints the same report: one line
per file (rows imported, rows set aside by reason, or why the file was skipped),
then the totals. Matching uses ``ELEX_CANDIDATES_FILE`` when it is set.
"""

from __future__ import annotations

import sys

from elex_assets.core.archive import FORMATS, ArchiveFormatError, archive_registry, import_archive
from elex_assets.core.lake import LakeError
from elex_assets.core.registry import RegistryError
from elex_assets.settings import ArchiveSettings, Settings


def run_import(
    format_name: str,
    source_url: str,
    election: str | None = None,
    lake_url: str | None = None,
    prune: bool = False,
) -> int:
    fmt = FORMATS[format_name]
    election = fmt.election or election or "2022"
    if fmt.election and election != fmt.election:
        print(f"elex import: {format_name} holds the {fmt.election} election", file=sys.stderr)
        return 2
    try:
        settings = ArchiveSettings.from_env()
        registry = archive_registry(election, settings.candidates_file)
        core = Settings.load()
        lake = core.lake(lake_url)
        report = import_archive(
            format_name,
            core.lake(source_url),
            lake,
            registry,
            prune=prune,
            log=print,
        )
    except (ArchiveFormatError, FileNotFoundError, LakeError, RegistryError, ValueError) as exc:
        print(f"elex import: {exc}", file=sys.stderr)
        return 1
    if settings.candidates_file:
        print(f"registry: {settings.candidates_file} ({len(registry)} candidates)")
    for reason, files in report.files_skipped_by_reason.items():
        print(f"skipped ({reason}): {len(files)} file(s): {', '.join(files[:10])}")
    print(f"lake: {lake.url}")
    for day in report.days_outside_campaign[:5]:
        print(f"note: {day} is outside the {election} campaign window")
    return 0
