"""``tweets_accounted``: every unique raw post of a day is a row or a counted drop."""

from collections.abc import Sequence
from datetime import date
from typing import Any

import dagster as dg

from elex_assets.core import layout
from elex_assets.core.lake import Lake
from elex_assets.core.x.accounting import (
    Accounting,
    RawCount,
    read_rows_and_accounting,
    recount_raw,
)
from elex_assets.core.x.collect import raw_keys
from elex_assets.core.x.tweets_day import read_summary
from elex_assets.monitoring.accounting import accounting_checks

TWEETS_ACCOUNTED = "tweets_accounted"


def build_accounting_checks(assets: Sequence[Any]) -> list[dg.AssetChecksDefinition]:
    def judge(lake: Lake, day: date) -> tuple[RawCount, int, Accounting | None]:
        count = recount_raw(lake, raw_keys(lake, day))
        rows, acc = _rows_and_accounting(lake, day, layout.clean_tweets_key(day))
        return count, rows, acc

    return accounting_checks(
        assets, "tweets", TWEETS_ACCOUNTED,
        "Unique raw posts of the day (recounted from raw/tweets) = rows + drops counted "
        "by reason; no post unparsable.",
        judge, "no creation time and no snowflake id",
    )


def _rows_and_accounting(lake: Lake, day: date, target: str) -> tuple[int, Accounting | None]:
    """Rows and stored accounting of the day's file: from its summary when that describes
    the file in the lake (no download), else from one download of the file."""
    summary = read_summary(lake, day, target)
    if summary is not None:
        return summary.rows, (
            Accounting.from_json(summary.accounting) if summary.accounting else None
        )
    return read_rows_and_accounting(lake, target)
