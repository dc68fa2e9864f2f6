"""The ``<table>_accounted`` checks' common shape: every raw post of a day is a row or a drop.

Each domain says how to recount its raw files and read its clean file's accounting
(``defs/x/checks.py``: ``tweets_accounted``; ``defs/bsky/checks.py``:
``bsky_posts_accounted``); this builds the partitioned check around that judgement.
"""

from collections.abc import Callable
from datetime import date

import dagster as dg

from elex_assets.core.lake import Lake
from elex_assets.core.x.accounting import Accounting, RawCount, check_accounting
from elex_assets.partitions import day_of
from elex_assets.resources import LakeResource

# (lake, day) -> the raw recount, the rows and the stored accounting of the day's file
Judge = Callable[[Lake, date], tuple[RawCount, int, Accounting | None]]


def accounting_check(
    asset: dg.AssetsDefinition, key: dg.AssetKey, name: str, description: str, judge: Judge,
    table: str, unreadable: str,
) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=key, name=name, partitions_def=asset.partitions_def,
                    description=description)
    def _accounted(
        context: dg.AssetCheckExecutionContext, lake: LakeResource
    ) -> dg.AssetCheckResult:
        count, rows, acc = judge(lake.lake(), day_of(context.partition_key))
        passed, why = check_accounting(count, rows, acc, table=table, unreadable=unreadable)
        return dg.AssetCheckResult(
            passed=passed, description=why,
            metadata={
                "partition": context.partition_key,
                "raw_unique_posts": count.posts,
                "rows": rows,
                "dropped": dg.MetadataValue.json(acc.dropped if acc else {}),
            },
        )

    return _accounted
