"""The four Google Trends assets (day x area) and their hourly schedule.

Thin Dagster definitions over :mod:`elex_assets.core.trends_collect`: every
step holds the ``google_trends`` pool (limit 1 in ``dagster.yaml``), so two
runs never call Google at the same time, and a retry policy tries a
partition again later when Google keeps refusing (429/5xx after the
client's own bounded backoff).
"""


from collections.abc import Callable
from datetime import UTC, date, datetime

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from elex_assets.core import trends_collect
from elex_assets.core.elections import Election
from elex_assets.core.layout import AREAS, TRENDS_KINDS, clean_trends_key
from elex_assets.core.markdown import markdown_table
from elex_assets.partitions import trends_partitions
from elex_assets.resources import LakeResource, RegistryResource, TrendsResource

POOL = "google_trends"
RETRY = dg.RetryPolicy(
    max_retries=3, delay=900, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)
DESCRIPTIONS = {
    "interest_over_time": (
        "Each candidate's Google Trends interest during the day at the finest resolution "
        "Google serves (8-minute for the last week, daily before), with the partial-data "
        "flag; value_comparable is rescaled on the shared anchor term so candidates can be "
        "compared."
    ),
    "interest_by_region": (
        "Interest per French region (area fr) or per country (area world) over the day, "
        "per candidate (Google's 0-100 scale within each candidate's request)."
    ),
    "related_topics": "Top and rising topics related to each candidate's name during the day.",
    "related_queries": "Top and rising queries related to each candidate's name during the day.",
}


def _partition(context: AssetExecutionContext) -> tuple[str, date]:
    keys = context.partition_key.keys_by_dimension  # type: ignore[attr-defined]
    return keys["area"], date.fromisoformat(keys["date"])


def _collect(
    kind: str,
    context: AssetExecutionContext,
    trends: TrendsResource,
    registry: RegistryResource,
    lake: LakeResource,
) -> dg.MaterializeResult:
    area, day = _partition(context)
    reg = registry.load()
    terms = trends_collect.candidate_terms(reg.selected())
    client = trends.client(area, log=context.log.info)
    collected_at = datetime.now(UTC)
    if kind == "interest_over_time":
        df = trends_collect.interest_over_time(client, terms, day, trends.anchor, collected_at)
    else:
        collect: Callable[..., pl.DataFrame] = getattr(trends_collect, kind)
        df = collect(client, terms, day, collected_at)
    uri = lake.lake().write_parquet(clean_trends_key(kind, area, day), df)
    covered = df["candidate_id"].n_unique() if df.height else 0
    metadata: dict[str, object] = {
        "rows": df.height,
        "candidates": len(terms),
        "candidates_covered": covered,
        "requests": client.transport.requests_made,
        "area": area,
        "date": day.isoformat(),
        "path": dg.MetadataValue.path(uri),
        "preview": dg.MetadataValue.md(markdown_table(df)),
    }
    if kind == "interest_over_time":
        metadata["anchor"] = trends.anchor
        metadata["intervals"] = df["timestamp"].n_unique() if df.height else 0
        metadata["partial_rows"] = int(df["is_partial"].sum()) if df.height else 0
    if df.height == 0:
        context.log.warning(f"Google Trends returned nothing for {kind} {area} {day}")
    return dg.MaterializeResult(metadata=metadata)


def _trends_asset(
    kind: str, partitions: dg.PartitionsDefinition, retry_policy: dg.RetryPolicy | None
) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"trends_{kind}",
        group_name="trends",
        kinds={"parquet"},
        partitions_def=partitions,
        pool=POOL,
        retry_policy=retry_policy,
        deps=["candidates"],
        description=DESCRIPTIONS[kind],
    )
    def _asset(
        context: AssetExecutionContext,
        trends: TrendsResource,
        registry: RegistryResource,
        lake: LakeResource,
    ) -> dg.MaterializeResult:
        return _collect(kind, context, trends, registry, lake)

    return _asset


def trends_assets(
    election: Election, retry_policy: dg.RetryPolicy | None = RETRY
) -> list[dg.AssetsDefinition]:
    """``trends_interest_over_time``, ``_by_region``, ``_related_topics``, ``_related_queries``.

    ``retry_policy`` retries a partition later when Google keeps refusing; tests
    that check a failure pass ``None`` so the step fails at once.
    """
    partitions = trends_partitions(election)
    return [_trends_asset(kind, partitions, retry_policy) for kind in TRENDS_KINDS]


def trends_job(election: Election) -> UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        "trends_job",
        selection=dg.AssetSelection.groups("trends"),
        partitions_def=trends_partitions(election),
    )


def trends_hourly_schedule(
    job: UnresolvedAssetJobDefinition, election: Election
) -> dg.ScheduleDefinition:
    """Refresh today's partitions of both areas every hour (UTC)."""

    @dg.schedule(
        name="trends_hourly",
        cron_schedule="5 * * * *",
        execution_timezone="UTC",
        job=job,
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
    def _schedule(context: dg.ScheduleEvaluationContext) -> dg.SkipReason | list[dg.RunRequest]:
        now = context.scheduled_execution_time or datetime.now(UTC)
        day = now.astimezone(UTC).date()
        if not election.campaign_start <= day <= election.campaign_end:
            return dg.SkipReason(f"{day} is outside the campaign of {election.id}")
        return [
            dg.RunRequest(
                run_key=f"{area}|{day.isoformat()}|{now:%H}",
                partition_key=dg.MultiPartitionKey({"area": area, "date": day.isoformat()}),
                tags={"elex/source": "trends_hourly"},
            )
            for area in AREAS
        ]

    return _schedule
