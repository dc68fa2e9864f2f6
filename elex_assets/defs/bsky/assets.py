"""Posts on Bluesky: ``raw_bsky_posts`` -> ``bsky_posts``, ``bsky_compliance``, the weekly
export, and what runs when (today every 5 minutes, deletions re-checked daily).

Daily (UTC) partitions on the election's calendar, like X. The logic lives in
``core.bsky``; these definitions only wire resources, config and metadata.
"""


from datetime import UTC, date, datetime, timedelta
from typing import Any

import dagster as dg

from elex_assets.core import layout
from elex_assets.core.bsky.api import BskyAnswerMismatch, BskyAuthError, BskyLoginCoolDown
from elex_assets.core.bsky.collect import (
    INCOMPLETE_STOPS,
    MODES,
    BskyCollectError,
    collect_day,
    cooldown_until,
    raw_keys,
    record_cooldown,
)
from elex_assets.core.bsky.compliance import check_day
from elex_assets.core.bsky.normalise import bsky_summary, normalise_day
from elex_assets.core.elections import Election
from elex_assets.core.kaggle.export import export_week, iso_week_of
from elex_assets.core.markdown import markdown_table
from elex_assets.core.x.accounting import Accounting
from elex_assets.defs.bsky.resources import BskyResource
from elex_assets.defs.kaggle.assets import _weekly_export_asset
from elex_assets.defs.kaggle.resources import KaggleResource
from elex_assets.failures import final_on_deterministic
from elex_assets.monitoring.families import MONITORED_TAG
from elex_assets.partitions import daily_partitions, day_key, day_of
from elex_assets.resources import LakeResource, RegistryResource

GROUP = "bluesky"
ACTIVE = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED,
          dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]


class RawBskyConfig(dg.Config):
    """``auto``: read what no earlier run covered; ``full``: re-read the day and replace it."""

    mode: str = "auto"


def _table(rows: dict[str, int], key: str, value: str) -> dg.MetadataValue:
    body = "\n".join(f"| {k} | {v} |" for k, v in rows.items()) or "| - | 0 |"
    return dg.MetadataValue.md(f"| {key} | {value} |\n|---|---|\n{body}")


def _fail(exc: Exception) -> dg.Failure:
    """Deterministic refusals (credentials, configuration) are not retried."""
    return dg.Failure(description=str(exc), allow_retries=False)


def build_bsky_assets(election: Election, monitored: bool = False) -> list[dg.AssetsDefinition]:
    """``monitored``: watched as X is (freshness policy, content, freshness and accounting
    checks, added by ``monitoring/``; only where Bluesky is configured, so an install
    without an account is not alerted about a source it does not collect)."""
    election_daily = daily_partitions(election)
    tags = {MONITORED_TAG: ""} if monitored else None

    @dg.asset(
        name="raw_bsky_posts",
        partitions_def=election_daily,
        pool="bsky_api",
        group_name=GROUP,
        kinds={"json"},
        deps=["candidates"],
        tags=tags,
        description=(
            "Bluesky posts naming the candidates or written by their accounts, as searchPosts "
            "returned them: one jsonl.gz per run under raw/bsky_posts/date=YYYY-MM-DD/, one "
            "line per XRPC page, with a coverage manifest. Each time window is read to its end."
        ),
    )
    @final_on_deterministic
    def raw_bsky_posts(
        context: dg.AssetExecutionContext, config: RawBskyConfig, bsky: BskyResource,
        lake: LakeResource, registry: RegistryResource,
    ) -> dg.MaterializeResult:
        if config.mode not in MODES:
            raise _fail(BskyCollectError(f"raw_bsky_posts mode {config.mode!r}: expected {MODES}"))
        day = day_of(context.partition_key)
        the_lake = lake.lake()
        queries = bsky.queries(registry.load())
        try:
            client = bsky.client(the_lake, lambda m, n: context.log.warning(f"Bluesky {n}: {m}"))
            result = collect_day(client, the_lake, queries, day, run_id=context.run.run_id[:8],
                                 mode=config.mode, window_minutes=bsky.window_minutes,
                                 log=context.log.info)
        except (BskyAuthError, BskyCollectError, BskyLoginCoolDown) as exc:
            raise _fail(exc) from None  # a login cool-down: no retry before its reset
        for note in result.notes:
            context.log.warning(note)
        incomplete = {r: n for r, n in result.stops.items() if r in INCOMPLETE_STOPS}
        if incomplete:
            context.log.warning(f"{day}: windows left partly unread ({incomplete}): "
                                "bsky_windows_read_to_end fails until a run reads them")
        files = raw_keys(the_lake, day)
        return dg.MaterializeResult(metadata={
            "mode": result.mode,
            "window": " .. ".join(result.window) if result.window else "none",
            "queries": len(queries),
            "calls": result.calls,
            "logins": client.logins,
            "logins_last_24h": len(client.ledger.attempts()) if client.ledger else 0,
            "session_reused": client.session_reused,
            "empty_pages_with_cursor": result.empty_pages_with_cursor,
            "cursor_stops": dg.MetadataValue.json(result.stops),
            "pages": result.pages,
            "posts_read_run": result.posts,
            "windows_split": result.splits,
            "raw_files": len(files),
            "replaced_files": len(result.replaced),
            "posts_read_per_query": _table(result.posts_per_query, "query", "posts read"),
            "path": dg.MetadataValue.path(the_lake.uri(layout.raw_bsky_prefix(day))),
            "notes": "; ".join(result.notes) or "none",
        })

    @dg.asset(
        name="bsky_posts",
        partitions_def=election_daily,
        group_name=GROUP,
        kinds={"polars", "parquet"},
        deps=[raw_bsky_posts],
        tags=tags,
        description=(
            "One row per Bluesky post of the day (AT URI), newest metrics win, the core columns "
            "of tweets plus platform; deleted posts are tombstones."
        ),
    )
    @final_on_deterministic
    def bsky_posts(context: dg.AssetExecutionContext, lake: LakeResource,
                   registry: RegistryResource) -> dg.MaterializeResult:
        day = day_of(context.partition_key)
        return _normalise(context, lake, registry, day)

    @dg.asset(
        name="bsky_compliance",
        partitions_def=election_daily,
        pool="bsky_api",
        group_name=GROUP,
        kinds={"json"},
        deps=[bsky_posts],
        description=(
            "Re-checks the day's stored posts with getPosts; deleted ones become tombstones in "
            "raw and clean (logged in state/compliance/bsky/), and the week's export is redone."
        ),
    )
    @final_on_deterministic
    def bsky_compliance(
        context: dg.AssetExecutionContext, bsky: BskyResource, lake: LakeResource,
        registry: RegistryResource, kaggle: KaggleResource,
    ) -> dg.MaterializeResult:
        day = day_of(context.partition_key)
        the_lake = lake.lake()
        until = cooldown_until(the_lake)
        if until is not None and until > datetime.now(UTC):
            raise _fail(BskyCollectError(
                f"Bluesky rate limit: cooling down until {until.isoformat(timespec='seconds')} "
                "(its ratelimit-reset); the deletions of the day are re-checked after it"))
        try:
            result = check_day(bsky.client(the_lake), the_lake, day, run_id=context.run.run_id[:8])
        except (BskyAuthError, BskyAnswerMismatch) as exc:
            raise _fail(exc) from None
        except BskyLoginCoolDown as exc:
            record_cooldown(the_lake, exc, context.run.run_id[:8])
            raise _fail(exc) from None
        reexported: list[str] = []
        if result.deleted:
            _normalise(context, lake, registry, day)
            iso_year, iso_week = iso_week_of(day)
            key = layout.kaggle_key(election.id, "bsky_posts", iso_year, iso_week)
            if the_lake.exists(key):
                export_week(the_lake, election, "bsky_posts", iso_year, iso_week,
                            content_policy=kaggle.policy(), parquet_twin=kaggle.parquet_twin,
                            allow_incomplete=True)
                reexported.append(key)
        context.log.info(f"{day}: {result.checked} posts checked, {len(result.deleted)} deleted")
        return dg.MaterializeResult(metadata={
            "checked": result.checked,
            "deleted": len(result.deleted),
            "calls": result.calls,
            "raw_files_rewritten": len(result.raw_rewritten),
            "exports_redone": dg.MetadataValue.json(reexported),
            "log": dg.MetadataValue.path(the_lake.uri(result.log_key or "")),
        })

    def _normalise(context: Any, lake: LakeResource, registry: RegistryResource,
                   day: date) -> dg.MaterializeResult:
        the_lake = lake.lake()
        keys = raw_keys(the_lake, day)
        target = layout.clean_bsky_key(day)
        result = normalise_day(the_lake, keys, registry.load().candidates, day, target)
        rows, per_candidate, preview = bsky_summary(the_lake, target)
        acc = result.accounting or Accounting(rows, rows)
        if acc.dropped:
            drops = ", ".join(f"{n} {r}" for r, n in acc.dropped.items())
            context.log.warning(f"{day}: Bluesky posts dropped (counted): {drops}")
        context.log.info(f"{rows} Bluesky posts from {len(keys)} raw files -> "
                         f"{the_lake.uri(target)}")
        return dg.MaterializeResult(metadata={
            "dagster/row_count": rows,
            "rows": rows,
            "posts_read": result.read,
            "dropped_duplicates": result.duplicates,
            "raw_unique_posts": acc.raw_unique,
            "dropped_total": acc.dropped_total,
            "dropped_by_reason": dg.MetadataValue.json(acc.dropped),
            "tombstones": result.tombstones,
            "raw_files": len(keys),
            "posts_per_candidate": _table(per_candidate, "candidate", "posts"),
            "posts_per_candidate_json": dg.MetadataValue.json(per_candidate),
            "preview": dg.MetadataValue.md(markdown_table(preview)),
            "path": dg.MetadataValue.path(the_lake.uri(target)),
        })

    export = _weekly_export_asset(election, "bsky_posts", "bsky_posts", multi=False)
    return [raw_bsky_posts, bsky_posts, bsky_compliance, export]


def build_bsky_automation(
    raw_bsky_posts: dg.AssetsDefinition, bsky_posts: dg.AssetsDefinition,
    bsky_compliance: dg.AssetsDefinition, running: bool,
) -> tuple[list[Any], list[dg.ScheduleDefinition]]:
    """Today every 5 minutes (and the end of yesterday just after midnight); deletions daily.

    ``running``: on by default when credentials are set or the base URL is a sandbox,
    so an install without a Bluesky account does not fail a run every 5 minutes.
    """
    refresh_job = dg.define_asset_job(
        "bsky_refresh_job", selection=[raw_bsky_posts, bsky_posts],
        description="Collect a day of Bluesky posts (raw_bsky_posts) and normalise it.")
    compliance_job = dg.define_asset_job(
        "bsky_compliance_job", selection=[bsky_compliance],
        description="Re-check a day's stored Bluesky posts and remove the deleted ones.")
    partitions_def = raw_bsky_posts.partitions_def
    assert partitions_def is not None
    status = dg.DefaultScheduleStatus.RUNNING if running else dg.DefaultScheduleStatus.STOPPED

    @dg.schedule(name="bsky_every_5_minutes", cron_schedule="*/5 * * * *",
                 execution_timezone="UTC", job=refresh_job, default_status=status,
                 description="Refresh today's raw_bsky_posts then bsky_posts every 5 minutes "
                 "(skipped while one is running); just after midnight, also finish yesterday.")
    def bsky_every_5_minutes(context: dg.ScheduleEvaluationContext):  # noqa: ANN202
        active = context.instance.get_run_records(
            dg.RunsFilter(job_name="bsky_refresh_job", statuses=ACTIVE), limit=1)
        if active:
            return dg.SkipReason(
                f"a refresh is still in progress (run {active[0].dagster_run.run_id[:8]})")
        now = (context.scheduled_execution_time or datetime.now(UTC)).astimezone(UTC)
        requests = []
        yesterday = day_key(now.date() - timedelta(days=1))
        if now.hour == 0 and now.minute < 15 and partitions_def.has_partition_key(yesterday):
            requests.append(dg.RunRequest(partition_key=yesterday,
                                          run_key=f"bsky:{yesterday}:{now:%Y%m%dT%H%M}",
                                          tags={"elex/bsky": "finish-yesterday"}))
        if partitions_def.has_partition_key(day_key(now.date())):
            today = day_key(now.date())
            requests.append(dg.RunRequest(partition_key=today,
                                          run_key=f"bsky:{today}:{now:%Y%m%dT%H%M}",
                                          tags={"elex/bsky": "today"}))
        return requests or dg.SkipReason(f"{now.date()} is outside the election's partitions")

    @dg.schedule(name="bsky_compliance_daily", cron_schedule="30 3 * * *",
                 execution_timezone="UTC", job=compliance_job, default_status=status,
                 description="Every night, re-check the last 7 days' Bluesky posts for deletions.")
    def bsky_compliance_daily(context: dg.ScheduleEvaluationContext):  # noqa: ANN202
        now = (context.scheduled_execution_time or datetime.now(UTC)).astimezone(UTC)
        days = [day_key(now.date() - timedelta(days=i)) for i in range(1, 8)]
        requests = [dg.RunRequest(partition_key=d, run_key=f"bsky-compliance:{d}:{now:%Y%m%d}")
                    for d in days if partitions_def.has_partition_key(d)]
        return requests or dg.SkipReason("no campaign day in the last 7 days")

    return [refresh_job, compliance_job], [bsky_every_5_minutes, bsky_compliance_daily]
