"""``elex import <format> <source-url>``: the archive import without a Dagster instance.

Runs the same core as the ``archive_*`` assets and prints the same report.
"""

from __future__ import annotations

import sys

from elex_assets.core.archive import FORMATS, ArchiveFormatError, import_archive
from elex_assets.core.lake import Lake, LakeError
from elex_assets.core.registry import load_registry
from elex_assets.settings import Settings


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
    lake = Lake.from_url(lake_url or Settings.from_env().lake_url)
    try:
        report = import_archive(
            format_name,
            Lake.from_url(source_url),
            lake,
            load_registry(election),
            prune=prune,
            log=print,
        )
    except (ArchiveFormatError, FileNotFoundError, LakeError, ValueError) as exc:
        print(f"elex import: {exc}", file=sys.stderr)
        return 1
    print(f"lake: {lake.url}")
    for day in report.days_outside_campaign[:5]:
        print(f"note: {day} is outside the {election} campaign window")
    return 0
