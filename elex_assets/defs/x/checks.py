"""``tweets_accounted``: every unique raw post of a day is a row or a counted drop."""

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

import dagster as dg
import polars as pl

from elex_assets.core import layout
from elex_assets.core.lake import Lake
from elex_assets.core.x.accounting import (
    ACCOUNTING_KEY,
    Accounting,
    check_accounting,
    recount_raw,
)
from elex_assets.core.x.collect import raw_keys
from elex_assets.core.x.tweets_day import read_summary
from elex_assets.monitoring.families import monitored_assets
from elex_assets.partitions import day_of
from elex_assets.resources import LakeResource

TWEETS_ACCOUNTED = "tweets_accounted"


def build_accounting_checks(assets: Sequence[Any]) -> list[dg.AssetChecksDefinition]:
    found = monitored_assets(assets).get("tweets")
    if found is None or found[0].partitions_def is None:
        return []
    asset, key = found

    @dg.asset_check(
        asset=key, name=TWEETS_ACCOUNTED, partitions_def=asset.partitions_def,
        description=(
            "Unique raw posts of the day (recounted from raw/tweets) = rows + drops counted "
            "by reason; no post unparsable."
        ),
    )
    def tweets_accounted(
        context: dg.AssetCheckExecutionContext, lake: LakeResource
    ) -> dg.AssetCheckResult:
        day = day_of(context.partition_key)
        the_lake = lake.lake()
        target = layout.clean_tweets_key(day)
        count = recount_raw(the_lake, raw_keys(the_lake, day))
        rows, acc = _rows_and_accounting(the_lake, day, target)
        passed, why = check_accounting(count, rows, acc)
        return dg.AssetCheckResult(
            passed=passed, description=why,
            metadata={
                "partition": context.partition_key,
                "raw_unique_posts": count.posts,
                "rows": rows,
                "dropped": dg.MetadataValue.json(acc.dropped if acc else {}),
            },
        )

    return [tweets_accounted]


def _rows_and_accounting(lake: Lake, day: date, target: str) -> tuple[int, Accounting | None]:
    """Rows and stored accounting of the day's file: from its summary when that describes
    the file in the lake (no download), else from one download of the file."""
    summary = read_summary(lake, day, target)
    if summary is not None:
        return summary.rows, (
            Accounting.from_json(summary.accounting) if summary.accounting else None
        )
    if not lake.exists(target):
        return 0, None
    with lake.local_copy(target) as path:
        rows = pl.scan_parquet(path).select(pl.len()).collect().item()
        raw = pl.read_parquet_metadata(path).get(ACCOUNTING_KEY)
    return rows, Accounting.from_json(json.loads(raw)) if raw else None
