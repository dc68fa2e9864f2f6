"""What runs when for X: the 5-minute refresh of today, the stream job and its sensor."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg

from elex_assets.core import layout
from elex_assets.core.x.client import XAuthError
from elex_assets.core.x.collect import Manifest, PostBudget, XBudgetExceeded
from elex_assets.core.x.spend import XSpendCeiling
from elex_assets.defs.scheduling import in_partitions, tick_time, utc_schedule, yesterday_within
from elex_assets.defs.x.assets import spend_failure
from elex_assets.defs.x.resources import SANDBOX_TOKEN, XResource
from elex_assets.failures import deterministic, final_on_deterministic, stop_without_retry
from elex_assets.monitoring.run_health import reap_dead_runs
from elex_assets.partitions import day_key
from elex_assets.resources import LakeResource, RegistryResource

ACTIVE = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


# A 5-minute refresh of today takes seconds to minutes; one STARTED for longer than
# this is presumed dead (its worker lost without a trace) and no longer skips ticks.
# Another refresh beside a live one is safe anyway: the pool and the lease serialise them.
STALE_REFRESH_SECONDS = 2 * 3600
# The ticks this long after midnight also fill what yesterday still lacks.
FILL_YESTERDAY_FOR = timedelta(minutes=15)


class StreamConfig(dg.Config):
    """How long the stream job listens, and how often it lands what it received."""

    duration_seconds: float = 300.0
    flush_seconds: float = 60.0


def build_x_automation(
    raw_tweets: dg.AssetsDefinition, tweets: dg.AssetsDefinition
) -> tuple[list[Any], list[dg.ScheduleDefinition], list[dg.SensorDefinition]]:
    refresh_job = dg.define_asset_job(
        "x_refresh_job",
        selection=[raw_tweets, tweets],
        description="Collect a day of posts on X (raw_tweets) and normalise it (tweets).",
    )
    tweets_job = dg.define_asset_job(
        "tweets_job", selection=[tweets], description="Re-normalise a day's raw posts."
    )
    partitions_def = raw_tweets.partitions_def
    assert partitions_def is not None

    @utc_schedule(
        "x_every_5_minutes", "*/5 * * * *", refresh_job,
        description=(
            "Refresh today's raw_tweets then tweets every 5 minutes (skipped while a "
            "previous refresh is queued or running); just after midnight, also fill what "
            "yesterday still lacks."
        ),
    )
    def x_every_5_minutes(context: dg.ScheduleEvaluationContext, lake: LakeResource):  # noqa: ANN202
        # A crashed refresh (kill -9, OOM) is not "in progress": free it first.
        reap_dead_runs(context.instance, lake.lake(), log=context.log.warning)
        records = context.instance.get_run_records(
            dg.RunsFilter(job_name="x_refresh_job", statuses=ACTIVE), limit=20
        )
        stale_before = datetime.now(UTC).timestamp() - STALE_REFRESH_SECONDS
        active = [  # a refresh STARTED long ago is presumed dead, not "in progress"
            r for r in records
            if r.dagster_run.status != dg.DagsterRunStatus.STARTED
            or (r.start_time or stale_before + 1) > stale_before
        ]
        if active:
            return dg.SkipReason(
                f"a refresh is still in progress (run {active[0].dagster_run.run_id[:8]})"
            )
        now = tick_time(context)
        requests = []
        today = day_key(now.date())
        # The daemon refuses a tick of several requests unless each has a run_key.
        tick = now.strftime("%Y%m%dT%H%M")
        if (day := yesterday_within(now, FILL_YESTERDAY_FOR)) is not None:
            yesterday = day_key(day)
            requests.append(dg.RunRequest(
                run_key=f"fill:{yesterday}:{tick}",
                partition_key=yesterday,
                run_config={"ops": {"raw_tweets": {"config": {"mode": "fill"}}}},
                tags={"elex/x": "fill-yesterday"},
            ))
        requests.append(dg.RunRequest(
            run_key=f"today:{today}:{tick}", partition_key=today, tags={"elex/x": "today"}
        ))
        return in_partitions(partitions_def, requests, now.date())

    @dg.op(name="x_stream", pool="x_stream")
    @final_on_deterministic
    def x_stream_op(
        context: dg.OpExecutionContext,
        config: StreamConfig,
        x: XResource,
        lake: LakeResource,
        registry: RegistryResource,
    ) -> None:
        # The stream client (tweepy's StreamingClient) loads only in the job that listens.
        from elex_assets.core.x.stream import StreamMeter, stream_to_lake

        token = x.bearer_token or (SANDBOX_TOKEN if x.sandbox else None)
        if not token:
            raise stop_without_retry(
                context, "X_BEARER_TOKEN is not set: the stream needs an app bearer token"
            )
        the_lake = lake.lake()
        run = context.run.run_id[:8]
        # Posts streamed are billed like search results: metered against the same
        # shared post budget and dollar ceilings (reserved a block ahead).
        spend = x.spend_guard(the_lake, run, "x_stream")
        posts = PostBudget(the_lake, datetime.now(UTC).strftime("%Y-%m"),
                           x.max_posts_per_month or None)
        try:
            with deterministic(context, (XAuthError, XBudgetExceeded)):
                result = stream_to_lake(
                    token, x.base_url, the_lake, x.queries(registry.load()),
                    config.duration_seconds, run, config.flush_seconds,
                    log=context.log.info, meter=StreamMeter(posts, spend),
                )
        except XSpendCeiling as exc:
            raise spend_failure(exc, spend, context) from None
        context.log.info(
            f"stream: {result.posts} posts in {len(result.files)} files for "
            f"{sorted(d.isoformat() for d in result.days)}; "
            f"${spend.ledger.total().usd:.3f} spent by this run"
        )

    @dg.job(
        name="x_stream_job",
        description="Optional: the filtered stream for a configurable duration, landing into "
        "raw/tweets; x_stream_sensor then refreshes tweets for the days it touched.",
    )
    def x_stream_job() -> None:
        x_stream_op()

    @dg.sensor(
        name="x_stream_sensor",
        job=tweets_job,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description="Turns newly landed stream files into a tweets refresh for their day.",
    )
    def x_stream_sensor(context: dg.SensorEvaluationContext, lake: LakeResource):  # noqa: ANN202
        the_lake = lake.lake()
        cursor = context.cursor or ""
        today = datetime.now(UTC).date()
        newest = cursor
        days: dict[str, str] = {}
        for day in (today - timedelta(days=1), today):
            for key in the_lake.list(layout.raw_tweets_prefix(day)):
                if not key.endswith("-stream.manifest.json"):
                    continue
                manifest = Manifest.from_json(json.loads(the_lake.read_bytes(key)))
                if manifest.collected_at > cursor:
                    days[day_key(day)] = max(days.get(day_key(day), ""),
                                                manifest.collected_at)
                    newest = max(newest, manifest.collected_at)
        if not days:
            return dg.SkipReason("no new stream file")
        context.update_cursor(newest)
        return [
            dg.RunRequest(partition_key=day, run_key=f"stream:{day}:{stamp}")
            for day, stamp in sorted(days.items())
        ]

    return [refresh_job, tweets_job, x_stream_job], [x_every_5_minutes], [x_stream_sensor]
