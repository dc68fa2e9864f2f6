"""A whole campaign's pageviews from its registry: the archive elections get the series 2027 has.

One request per article for the campaign (2017: 2017-01-01 to 2017-05-14), split into
the same daily files as the live asset (``clean/wiki_pageviews/date=…``), then, when
asked, every complete ISO week exported as the weekly asset would.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from elex_assets.core.kaggle.export import export_week, iso_week_days, iso_week_of
from elex_assets.core.lake import Lake
from elex_assets.core.layout import clean_wiki_key
from elex_assets.core.registry import Registry
from elex_assets.core.wiki.client import WikiClient
from elex_assets.core.wiki.collect import RangeResult, build_targets, collect_range
from elex_assets.core.x.accounting import ACCOUNTING_KEY

ALL_STATUSES = -1  # an archive's withdrawn candidates had a campaign too


@dataclass
class BackfillReport:
    election: str
    first: date
    last: date
    articles: int
    result: RangeResult
    written: list[str] = field(default_factory=list)
    weeks_exported: list[str] = field(default_factory=list)


def write_days(lake: Lake, result: RangeResult) -> list[str]:
    """Each loaded day's file, replaced atomically, its accounting in the parquet metadata."""
    keys = []
    for day, frame in sorted(result.frames.items()):
        key = clean_wiki_key(day)
        with lake.writing(key, ".parquet") as path:
            frame.write_parquet(path, compression="zstd", statistics=True, metadata={
                ACCOUNTING_KEY: json.dumps(result.accounting[day].to_json())})
        keys.append(key)
    return keys


def backfill_election(
    client: WikiClient, lake: Lake, registry: Registry, languages: tuple[str, ...] | list[str],
    *, now: datetime, export: bool = True, log: Callable[[str], None] = lambda _m: None,
) -> BackfillReport:
    election = registry.election
    first, last = election.campaign_start, election.campaign_end
    targets = build_targets(registry.selected(ALL_STATUSES), languages)
    result = collect_range(client, targets, first, last, now=now, log=log)
    report = BackfillReport(election.id, first, last, len(targets), result)
    report.written = write_days(lake, result)
    log(f"{election.id}: {len(report.written)} days of {len(targets)} articles "
        f"({result.requests} requests, {client.requests} with retries)")
    if export:
        weeks = sorted({iso_week_of(d) for d in result.frames})
        for iso_year, iso_week in weeks:
            days = [d for d in iso_week_days(iso_year, iso_week) if first <= d <= last]
            if all(d in result.frames for d in days):
                export_week(lake, election, "wiki_pageviews", iso_year, iso_week)
                report.weeks_exported.append(f"{iso_year}-W{iso_week:02d}")
    return report
