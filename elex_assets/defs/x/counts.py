"""``tweet_counts``: hourly post counts per candidate (X counts API), and its hourly refresh.

The logic lives in ``core.x.counts``; this module wires resources, metadata,
the job and the schedule.
"""

from datetime import UTC, datetime, timedelta

import dagster as dg
import polars as pl

from elex_assets.core import layout
from elex_assets.core.elections import Election
from elex_assets.core.markdown import markdown_table
from elex_assets.core.x.collect import XCollectError
from elex_assets.core.x.counts import ALL, collect_counts_day, count_queries, counts_endpoint
from elex_assets.core.x.query import MAX_QUERY_LENGTH
from elex_assets.core.x.spend import XSpendCeiling
from elex_assets.dagster_private import UnresolvedAssetJobDefinition
from elex_assets.defs.scheduling import in_partitions, tick_time, utc_schedule, yesterday_within
from elex_assets.defs.x.resources import XResource
from elex_assets.failures import final_on_deterministic, stop_without_retry
from elex_assets.partitions import daily_partitions, day_key, day_of
from elex_assets.resources import LakeResource, RegistryResource

COUNTS_JOB = "x_counts_job"


def build_tweet_counts(election_daily: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        name="tweet_counts",
        partitions_def=election_daily,
        pool="x_api",
        group_name="x",
        kinds={"polars", "parquet"},
        deps=["candidates"],
        description=(
            "Posts per candidate per hour (and _all, the union of every candidate's terms) "
            "from X's counts endpoints: complete volume for one request per candidate and "
            "day. clean/tweet_counts/date=YYYY-MM-DD/part-0.parquet."
        ),
    )
    @final_on_deterministic
    def tweet_counts(
        context: dg.AssetExecutionContext,
        x: XResource,
        lake: LakeResource,
        registry: RegistryResource,
    ) -> dg.MaterializeResult:
        from elex_assets.defs.x.assets import spend_failure

        day = day_of(context.partition_key)
        the_lake = lake.lake()
        reg = registry.load()
        now = datetime.now(UTC)
        try:
            endpoint = counts_endpoint(day, now, x.endpoint == "all")
        except XCollectError as exc:
            raise stop_without_retry(context, exc) from None
        # Queries fit the counts endpoint used (512 characters on recent, 1,024 on all).
        limit = MAX_QUERY_LENGTH[endpoint]
        queries = count_queries(
            reg.selected(x.min_status),
            max_length=min(x.max_query_length or limit, limit),
            languages=x.languages, include_retweets=x.include_retweets,
        )
        client = x.client(on_retry=lambda msg, n: context.log.warning(f"X API attempt {n}: {msg}"))
        spend = x.spend_guard(the_lake, context.run.run_id[:8], f"tweet_counts {day}")
        try:
            frame = collect_counts_day(
                client, queries, day, full_archive=x.endpoint == "all", spend=spend,
                log=context.log.info, now=now,
            )
        except XSpendCeiling as exc:
            raise spend_failure(exc, spend, context) from None
        except XCollectError as exc:
            raise stop_without_retry(context, exc) from None
        key = layout.clean_tweet_counts_key(day)
        the_lake.write_parquet(key, frame)
        totals = {
            c: int(n)
            for c, n in frame.group_by("candidate_id").agg(pl.col("post_count").sum()).iter_rows()
        }
        context.log.info(
            f"{frame.height} hourly rows, {totals.get(ALL, 0)} posts naming any candidate "
            f"-> {the_lake.uri(key)}"
        )
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": frame.height,
                "rows": frame.height,
                "posts_all_candidates": totals.get(ALL, 0),
                "posts_per_candidate": dg.MetadataValue.json(
                    dict(sorted(((c, n) for c, n in totals.items() if c != ALL),
                                key=lambda kv: -kv[1]))),
                "endpoint": frame["endpoint"][0] if frame.height else "none",
                "counts_requests": len(queries),
                "preview": dg.MetadataValue.md(markdown_table(frame.head(10))),
                "path": dg.MetadataValue.path(the_lake.uri(key)),
                **spend.summary(),
            }
        )

    return tweet_counts


def tweet_counts_for(election: Election) -> dg.AssetsDefinition:
    return build_tweet_counts(daily_partitions(election))


def build_counts_automation(
    tweet_counts: dg.AssetsDefinition,
) -> tuple[UnresolvedAssetJobDefinition, dg.ScheduleDefinition]:
    job = dg.define_asset_job(
        COUNTS_JOB, selection=[tweet_counts],
        description="Count a day's posts per candidate per hour (X counts API).",
    )
    partitions_def = tweet_counts.partitions_def
    assert partitions_def is not None

    @utc_schedule(
        "x_counts_hourly", "2 * * * *", job,
        description=(
            "Refresh today's tweet_counts every hour; in the first hour of a day, also "
            "complete yesterday's last hour."
        ),
    )
    def x_counts_hourly(context: dg.ScheduleEvaluationContext):  # noqa: ANN202
        now = tick_time(context)
        yesterday = yesterday_within(now, timedelta(hours=1))
        days = [now.date()] + ([yesterday] if yesterday is not None else [])
        requests = [
            dg.RunRequest(run_key=f"{d.isoformat()}|{now:%Y%m%d%H}", partition_key=day_key(d),
                          tags={"elex/x": "counts"})
            for d in days
        ]
        return in_partitions(partitions_def, requests, now.date())

    return job, x_counts_hourly
