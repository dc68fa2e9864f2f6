""""Google Trends is blocked until …": what monitoring says instead of a generic failure.

When Google refuses this client, the Trends assets stop in a cool-down kept in
the lake (:mod:`elex_assets.core.trends.state`); their partitions go stale and
their runs fail on purpose. The freshness checks and the alert sensor read the
cool-down and lead with it, so the person paged knows it is a block that ends
by itself at a given time, not a bug.
"""

from __future__ import annotations

from elex_assets.core.lake import Lake
from elex_assets.core.trends.state import SOURCES, CooldownPolicy, TrendsGate
from elex_assets.monitoring import clock
from elex_assets.partitions import is_day_area_key


def trends_block_note(lake: Lake | None = None) -> str | None:
    """``Google Trends blocked until 14:35 UTC (3 refusals since 12:02)``, or None."""
    try:
        from elex_assets.settings import Settings, TrendsSettings

        if lake is None:
            lake = Settings.load().lake()
        settings = TrendsSettings.load()  # the configured maximum caps an absurd cool-down
        policy = CooldownPolicy.minutes(settings.cooldown_minutes, settings.cooldown_max_minutes)
        cooldowns = [
            # the monitors' clock: checks and the alert sensor judge "now" alike
            (source, TrendsGate(lake, policy, source=source,
                                clock=lambda: clock.utc_now()).active_cooldown())
            for source in SOURCES
        ]
    except Exception:  # monitoring must report the rest even if the lake is unreachable
        return None
    notes = []
    for source, cooldown in cooldowns:
        if cooldown is None:
            continue
        line = cooldown.message().removesuffix("; nothing requested")
        what = "Google Trends" if source == "trends" else "the official Google Trends API"
        notes.append(line.replace("Google Trends is refusing this client until",
                                  f"{what} blocked until", 1))
    return "; ".join(notes) or None


def concerns_trends(asset: str | None, job: str | None = None, partition: str | None = None) -> bool:
    """Trends assets, the Trends job, or an area|date partition (only Trends has those)."""
    return bool(
        (asset or "").startswith("trends_")
        or (job or "").startswith("trends")
        or is_day_area_key(partition)
    )
