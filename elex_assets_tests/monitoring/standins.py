"""Stand-in collecting assets (same names and partitions as the real ones) for monitor tests.

The real collectors live on other branches; the monitors only need the asset
keys, their partitions and files in the lake, which these provide. The module
exposes ``defs`` so that a Dagster workspace (the freshness daemon's view) can
load it; the lake is ``ELEX_LAKE_URL``.
"""

import gzip
import os
from datetime import date

import dagster as dg

from elex_assets.core.layout import raw_tweets_prefix
from elex_assets.core.registry import load_registry
from elex_assets.monitoring.attach import with_monitoring
from elex_assets.partitions import daily_partitions, trends_partitions
from elex_assets.resources import LakeResource, RegistryResource

ELECTION = load_registry("2027").election
DAILY = daily_partitions(ELECTION)
TRENDS = trends_partitions(ELECTION)


@dg.asset(partitions_def=DAILY)
def raw_tweets(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    day = date.fromisoformat(context.partition_key)
    key = f"{raw_tweets_prefix(day)}{context.run_id}.jsonl.gz"
    lake.lake().write_bytes(key, gzip.compress(b'{"data": []}\n'))
    return dg.MaterializeResult(metadata={"path": key})


@dg.asset(partitions_def=DAILY, deps=[raw_tweets])
def tweets() -> dg.MaterializeResult:
    """The test writes the day's parquet itself; this only records the materialisation."""
    return dg.MaterializeResult()


@dg.asset(partitions_def=TRENDS)
def trends_interest_over_time() -> dg.MaterializeResult:
    return dg.MaterializeResult()


def build_defs(lake_url: str) -> dg.Definitions:
    defs = dg.Definitions(
        assets=[raw_tweets, tweets, trends_interest_over_time],
        resources={
            "lake": LakeResource(url=lake_url),
            "registry": RegistryResource(election="2027"),
        },
    )
    return with_monitoring(defs, ELECTION)


defs = build_defs(os.environ.get("ELEX_LAKE_URL", "data/lake"))
