""""Google Trends is blocked until …": what monitoring says instead of a generic failure.

When Google refuses this client, the Trends assets stop in a cool-down kept in
the lake (:mod:`elex_assets.core.trends_state`); their partitions go stale and
their runs fail on purpose. The freshness checks and the alert sensor read the
cool-down and lead with it, so the person paged knows it is a block that ends
by itself at a given time, not a bug.
"""

from __future__ import annotations

from elex_assets.core.lake import Lake
from elex_assets.core.trends_state import TrendsGate


def trends_block_note(lake: Lake | None = None) -> str | None:
    """``Google Trends blocked until 14:35 UTC (3 refusals since 12:02)``, or None."""
    try:
        if lake is None:
            from elex_assets.settings import Settings

            lake = Lake.from_url(Settings.from_env().lake_url)
        cooldown = TrendsGate(lake).active_cooldown()
    except Exception:  # monitoring must report the rest even if the lake is unreachable
        return None
    if cooldown is None:
        return None
    line = cooldown.message().removesuffix("; nothing requested")
    return line.replace("is refusing this client until", "blocked until", 1)


def concerns_trends(asset: str | None, job: str | None = None, partition: str | None = None) -> bool:
    """Trends assets, the Trends job, or an area|date partition (only Trends has those)."""
    return bool(
        (asset or "").startswith("trends_")
        or (job or "").startswith("trends")
        or "|" in (partition or "")
    )
