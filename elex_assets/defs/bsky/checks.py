"""``bsky_posts_accounted``: every unique post the day's raw Bluesky pages hold is a row of
``bsky_posts`` or a drop counted by reason (``core.bsky.normalise.DROP_REASONS``);
``bsky_windows_read_to_end``: no searchPosts window of the day was left with its cursor
still going (``core.bsky.collect.INCOMPLETE_STOPS``)."""

from collections.abc import Sequence
from datetime import date
from typing import Any

import dagster as dg

from elex_assets.core import layout
from elex_assets.core.bsky.collect import incomplete_windows, raw_keys
from elex_assets.core.lake import Lake
from elex_assets.core.x.accounting import (
    Accounting,
    RawCount,
    read_rows_and_accounting,
    recount_raw,
)
from elex_assets.monitoring.accounting import accounting_checks
from elex_assets.monitoring.families import monitored_assets
from elex_assets.partitions import day_of
from elex_assets.resources import LakeResource

BSKY_POSTS_ACCOUNTED = "bsky_posts_accounted"
BSKY_WINDOWS_READ = "bsky_windows_read_to_end"


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


def build_bsky_read_checks(assets: Sequence[Any]) -> list[dg.AssetChecksDefinition]:
    """``bsky_windows_read_to_end`` on ``bsky_posts`` when it is monitored, else none."""
    found = monitored_assets(assets).get("bsky_posts")
    if found is None or found[0].partitions_def is None:
        return []
    asset, key = found

    @dg.asset_check(asset=key, name=BSKY_WINDOWS_READ, partitions_def=asset.partitions_def,
                    description=(
                        "Every searchPosts window of the day was read until the cursor was "
                        "absent (or split at the service's cap); fails naming each window "
                        "elex stopped while the cursor still went on."))
    def _read_to_end(context: dg.AssetCheckExecutionContext,
                     lake: LakeResource) -> dg.AssetCheckResult:
        left = incomplete_windows(lake.lake(), day_of(context.partition_key))
        if not left:
            return dg.AssetCheckResult(passed=True, description="every window read to its end")
        return dg.AssetCheckResult(
            passed=False, metadata={"windows": dg.MetadataValue.json(left)},
            description=(f"{len(left)} window(s) left partly unread, the cursor still going: "
                         f"{'; '.join(left[:5])}. Re-read the day (raw_bsky_posts, mode full)"))

    return [_read_to_end]
