"""Content checks on the clean tables, one per rule, run with each partition's materialisation.

They share the asset's partitions, so a check result belongs to the day (and
area) it judged; the rules themselves live in :mod:`elex_assets.core.quality`.
"""

from collections.abc import Callable, Sequence
from typing import Any

import dagster as dg
import polars as pl

from elex_assets.checks import clock
from elex_assets.checks.assets import family, monitored_assets, trends_kind
from elex_assets.checks.thresholds import Thresholds
from elex_assets.core import quality
from elex_assets.core.elections import Election
from elex_assets.core.schemas import TRENDS, TWEETS
from elex_assets.partitions import day_area_of, day_of, is_day_area_key
from elex_assets.resources import LakeResource, RegistryResource


class PartitionRef:
    """The day (and area) of a check's partition key: ``2026-11-20`` or ``fr|2026-11-20``."""

    def __init__(self, partition_key: str) -> None:
        self.area: str | None
        if is_day_area_key(partition_key):
            self.area, self.day = day_area_of(partition_key)
        else:
            self.area, self.day = None, day_of(partition_key)


def _check_def(
    key: dg.AssetKey,
    partitions_def: dg.PartitionsDefinition | None,
    name: str,
    description: str,
    read: Callable[[Any, PartitionRef], pl.DataFrame],
    rule: Callable[[pl.DataFrame, PartitionRef, RegistryResource], quality.CheckOutcome],
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=key, name=name, description=description, partitions_def=partitions_def)
    def _check(
        context: dg.AssetCheckExecutionContext, lake: LakeResource, registry: RegistryResource
    ) -> dg.AssetCheckResult:
        ref = PartitionRef(context.partition_key)
        outcome = rule(read(lake.lake(), ref), ref, registry)
        return dg.AssetCheckResult(
            passed=outcome.passed,
            description=outcome.description,
            metadata={"partition": context.partition_key, **outcome.metadata},
            severity=severity,
        )

    return _check


def build_content_checks(
    assets: Sequence[Any], election: Election, thresholds: Thresholds | None = None
) -> list[dg.AssetChecksDefinition]:
    """The content checks of every clean table present among ``assets``."""
    thresholds = thresholds or Thresholds.from_env()
    campaign = (election.campaign_start, election.campaign_end)
    checks: list[dg.AssetChecksDefinition] = []
    for name, (asset, key) in monitored_assets(assets).items():
        parts = asset.partitions_def
        if parts is None:
            continue  # the contract is daily (x area) partitions: nothing to name a day by
        if name == "tweets":

            def read_tweets(lake: Any, ref: PartitionRef) -> pl.DataFrame:
                return quality.read_tweets_day(lake, ref.day, TWEETS.polars)

            checks += [
                _check_def(
                    key,
                    parts,
                    "no_duplicate_ids",
                    "No post id appears twice in a day.",
                    read_tweets,
                    lambda df, ref, reg: quality.no_duplicate_ids(df),
                ),
                _check_def(
                    key,
                    parts,
                    "required_columns",
                    f"Required columns are non-null: {', '.join(TWEETS.required)}.",
                    read_tweets,
                    lambda df, ref, reg: quality.required_not_null(df, TWEETS.required),
                ),
                _check_def(
                    key,
                    parts,
                    "posts_present",
                    f"A campaign day has posts (tolerance {thresholds.quiet_hours:g} h "
                    "after midnight UTC for the current day).",
                    read_tweets,
                    lambda df, ref, reg: quality.posts_present(
                        df, ref.day, clock.utc_now(), campaign, thresholds.quiet_hours
                    ),
                ),
            ]
        elif family(name) == "trends":
            checks += _trends_checks(name, key, parts)
    return checks


def _trends_checks(
    name: str, key: dg.AssetKey, parts: dg.PartitionsDefinition | None
) -> list[dg.AssetChecksDefinition]:
    kind = trends_kind(name)
    schema = TRENDS[kind]

    def read(lake: Any, ref: PartitionRef) -> pl.DataFrame:
        if ref.area is None:
            raise ValueError(f"{name} partition has no area: expected keys like fr|2026-11-20")
        return quality.read_trends_day(lake, kind, ref.area, ref.day, schema.polars)

    def selected(reg: RegistryResource) -> list[str]:
        return [c.id for c in reg.load().selected()]

    checks = [
        _check_def(
            key,
            parts,
            "required_columns",
            f"Required columns are non-null: {', '.join(schema.required)}.",
            read,
            lambda df, ref, reg: quality.required_not_null(df, schema.required),
        ),
        _check_def(
            key,
            parts,
            "candidates_present",
            "Every selected candidate of the registry has rows in the partition.",
            read,
            lambda df, ref, reg: quality.candidates_present(df, selected(reg)),
            # Related lists and small regions can legitimately be empty for a minor
            # candidate; only the interest time series must cover everyone.
            severity=dg.AssetCheckSeverity.ERROR
            if kind == "interest_over_time"
            else dg.AssetCheckSeverity.WARN,
        ),
    ]
    where = pl.col("ranking") == "top" if kind.startswith("related_") else None
    checks.append(
        _check_def(
            key,
            parts,
            "interest_in_range",
            "Interest values are within 0-100" + (" (top lists)." if where is not None else "."),
            read,
            lambda df, ref, reg: quality.interest_in_range(df, where=where),
        )
    )
    return checks
