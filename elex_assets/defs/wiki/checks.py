"""``wiki_pageviews_accounted``: every article asked for a day is a row of that day, either
from Wikimedia's answer or filled with 0 (``core.wiki.quality.accounted``)."""

from collections.abc import Sequence
from typing import Any

import dagster as dg

from elex_assets.core.wiki.quality import accounted, read_accounting
from elex_assets.monitoring.content import combine, partition_keys_of
from elex_assets.monitoring.families import monitored_assets
from elex_assets.partitions import day_of
from elex_assets.resources import LakeResource

WIKI_ACCOUNTED = "wiki_pageviews_accounted"


def build_wiki_accounting_checks(assets: Sequence[Any]) -> list[dg.AssetChecksDefinition]:
    """The check on ``wiki_pageviews`` when it is monitored, else none."""
    found = monitored_assets(assets).get("wiki_pageviews")
    if found is None or found[0].partitions_def is None:
        return []
    asset, key = found

    @dg.asset_check(
        asset=key, name=WIKI_ACCOUNTED, partitions_def=asset.partitions_def,
        description="Articles asked = rows from Wikimedia's answers + rows filled with 0 "
        "(days Wikimedia loaded but sent no row for), as the file's rows and flags recount.")
    def _accounted(context: dg.AssetCheckExecutionContext,
                   lake: LakeResource) -> dg.AssetCheckResult:
        the_lake = lake.lake()
        keys = partition_keys_of(context)  # a backfill's range: every day of it
        outcome = combine({k: accounted(*read_accounting(the_lake, day_of(k))) for k in keys})
        return dg.AssetCheckResult(passed=outcome.passed, description=outcome.description,
                                   metadata={"partition": keys[0] if len(keys) == 1
                                             else f"{keys[0]}..{keys[-1]}", **outcome.metadata})

    return [_accounted]
