"""``bsky_posts_accounted``: every unique post the day's raw Bluesky pages hold is a row of
``bsky_posts`` or a drop counted by reason (``core.bsky.normalise.DROP_REASONS``)."""

from collections.abc import Sequence
from datetime import date
from typing import Any

import dagster as dg

from elex_assets.core import layout
from elex_assets.core.bsky.collect import raw_keys
from elex_assets.core.lake import Lake
from elex_assets.core.x.accounting import (
    Accounting,
    RawCount,
    read_rows_and_accounting,
    recount_raw,
)
from elex_assets.monitoring.accounting import accounting_checks

BSKY_POSTS_ACCOUNTED = "bsky_posts_accounted"


def build_bsky_accounting_checks(assets: Sequence[Any]) -> list[dg.AssetChecksDefinition]:
    """The check on ``bsky_posts`` when it is monitored (Bluesky configured), else none."""
    def judge(lake: Lake, day: date) -> tuple[RawCount, int, Accounting | None]:
        # The recount decodes only posts[].uri of the raw pages: no code shared with the
        # normaliser, so a post it forgot to count shows as unaccounted.
        count = recount_raw(lake, raw_keys(lake, day), entries_field="posts", id_field="uri")
        rows, acc = read_rows_and_accounting(lake, layout.clean_bsky_key(day))
        return count, rows, acc

    return accounting_checks(
        assets, "bsky_posts", BSKY_POSTS_ACCOUNTED,
        "Unique raw Bluesky posts of the day (recounted from raw/bsky_posts) = rows + drops "
        "counted by reason (a post whose times cannot be read is an 'unparsable' drop); "
        "none without a URI.",
        judge, "no URI", failing=("no_id",),
    )
