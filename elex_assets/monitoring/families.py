"""Which monitored asset is which: the public asset names of docs/architecture.md, by family."""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg

from elex_assets.core.layout import TRENDS_KINDS

TWEETS_ASSETS = ("raw_tweets", "tweets")
TRENDS_ASSETS = tuple(f"trends_{kind}" for kind in TRENDS_KINDS)
KAGGLE_PREFIX = "kaggle_"


def family(name: str) -> str | None:
    """``tweets``, ``trends`` or ``kaggle`` for a monitored asset name, else None."""
    if name in TWEETS_ASSETS:
        return "tweets"
    if name in TRENDS_ASSETS:
        return "trends"
    if name.startswith(KAGGLE_PREFIX):
        return "kaggle"
    return None


def trends_kind(name: str) -> str:
    return name.removeprefix("trends_")


def asset_name(key: dg.AssetKey) -> str:
    return key.to_user_string()


def monitored_assets(
    assets: Iterable[object],
) -> dict[str, tuple[dg.AssetsDefinition, dg.AssetKey]]:
    """The monitored keys among ``assets`` (by name), with the definition holding each.

    Anything that is not an ``AssetsDefinition`` (specs, source assets) is ignored,
    so the checks attach to whichever collecting assets exist in the Definitions.
    """
    found: dict[str, tuple[dg.AssetsDefinition, dg.AssetKey]] = {}
    for asset in assets:
        if not isinstance(asset, dg.AssetsDefinition):
            continue
        for key in asset.keys:
            name = asset_name(key)
            if family(name):
                found[name] = (asset, key)
    return found
