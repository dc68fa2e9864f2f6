"""Which monitored asset is which: the public asset names of docs/architecture.md, by family."""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg

from elex_assets.core.layout import TRENDS_KINDS

TWEETS_ASSETS = ("raw_tweets", "tweets")
BSKY_ASSETS = ("raw_bsky_posts", "bsky_posts")
WIKI_ASSETS = ("wiki_pageviews",)
TRENDS_ASSETS = tuple(f"trends_{kind}" for kind in TRENDS_KINDS)
KAGGLE_PREFIX = "kaggle_"
# Bluesky (and Wikipedia) are optional: their assets are in every Definitions, but
# monitored only when they carry this tag (``build_bsky_assets(monitored=True)``:
# credentials set, or the sandbox; ``build_wiki_assets``: WIKIMEDIA_CONTACT or the sandbox),
# so an install without an account is not alerted about a source it does not collect.
MONITORED_TAG = "elex/monitored"


def family(name: str) -> str | None:
    """``tweets``, ``bsky``, ``wiki``, ``trends`` or ``kaggle`` for a monitored asset name."""
    if name in TWEETS_ASSETS:
        return "tweets"
    if name in BSKY_ASSETS:
        return "bsky"
    if name in WIKI_ASSETS:
        return "wiki"
    if name in TRENDS_ASSETS:
        return "trends"
    if name.startswith(KAGGLE_PREFIX):
        return "kaggle"
    return None


def is_monitored(name: str, tags: dict[str, str] | None) -> bool:
    """A monitored family's asset, and (for Bluesky and Wikipedia) one that opted in with
    ``MONITORED_TAG``."""
    fam = family(name)
    if fam in ("bsky", "wiki"):
        return MONITORED_TAG in (tags or {})
    return fam is not None


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
            if is_monitored(name, asset.specs_by_key[key].tags):
                found[name] = (asset, key)
    return found
