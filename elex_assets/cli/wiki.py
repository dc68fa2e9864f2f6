"""``elex wiki-backfill <election>``: a whole campaign's pageviews without a Dagster instance.

The same core as ``archive_wiki_pageviews``: the election's registry, one request per
article for the campaign, the daily files and the complete weeks' exports.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from elex_assets.core.lake import LakeError
from elex_assets.core.registry import RegistryError, load_registry
from elex_assets.core.wiki.api import WikimediaError
from elex_assets.core.wiki.backfill import backfill_election
from elex_assets.defs.wiki.resources import WikiResource
from elex_assets.settings import Settings, WikiSettings, XSettings


def run_wiki_backfill(election: str, lake_url: str | None = None, export: bool = True) -> int:
    try:
        wiki = WikiResource.from_settings(WikiSettings.load(), XSettings.load().min_status)
        lake = Settings.load().lake(lake_url)
        report = backfill_election(wiki.client(), lake, load_registry(election), wiki.languages,
                                   now=datetime.now(UTC), export=export, log=print)
    except (WikimediaError, LakeError, RegistryError, ValueError) as exc:
        print(f"elex wiki-backfill: {exc}", file=sys.stderr)
        return 1
    missing = report.result.not_loaded
    print(f"{election}: {len(report.written)} days written under {lake.uri('clean/wiki_pageviews')}"
          f", {len(report.weeks_exported)} weeks exported"
          + (f"; not loaded yet: {missing[0]} .. {missing[-1]}" if missing else ""))
    return 0
