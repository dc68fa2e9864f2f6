"""The ``<table>_accounted`` checks' common shape: every raw post of a day is a row or a drop.

Each domain says how to recount its raw files and read its clean file's accounting
(``defs/x/checks.py``: ``tweets_accounted``; ``defs/bsky/checks.py``:
``bsky_posts_accounted``); this builds the partitioned check around that judgement.
"""

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import dagster as dg

from elex_assets.core.lake import Lake
from elex_assets.core.x.accounting import Accounting, RawCount, check_accounting
from elex_assets.monitoring.families import monitored_assets
from elex_assets.partitions import day_of
from elex_assets.resources import LakeResource

# (lake, day) -> the raw recount, the rows and the stored accounting of the day's file
Judge = Callable[[Lake, date], tuple[RawCount, int, Accounting | None]]


def accounting_checks(
    assets: Sequence[Any], table: str, name: str, description: str, judge: Judge,
    unreadable: str, failing: Sequence[str] = ("unparsable", "no_id"),
) -> list[dg.AssetChecksDefinition]:
    """The check on the monitored, partitioned asset ``table`` among ``assets``; else none."""
    found = monitored_assets(assets).get(table)
    if found is None or found[0].partitions_def is None:
        return []
    asset, key = found

    @dg.asset_check(asset=key, name=name, partitions_def=asset.partitions_def,
                    description=description)
    def _accounted(
        context: dg.AssetCheckExecutionContext, lake: LakeResource
    ) -> dg.AssetCheckResult:
        count, rows, acc = judge(lake.lake(), day_of(context.partition_key))
        passed, why = check_accounting(count, rows, acc, table=table, unreadable=unreadable,
                                      failing=failing)
        return dg.AssetCheckResult(
            passed=passed, description=why,
            metadata={
                "partition": context.partition_key,
                "raw_unique_posts": count.posts,
                "rows": rows,
                "dropped": dg.MetadataValue.json(acc.dropped if acc else {}),
            },
        )

    return [_accounted]
