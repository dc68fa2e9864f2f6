"""``wiki_pageviews``: daily Wikipedia views per candidate and project, and its schedule.

Daily (UTC) partitions on the election's calendar, like ``tweets``. A backfill is one
run over its whole range (``BackfillPolicy.single_run``): one request per article
for the range, split into days. Days Wikimedia has not loaded yet do not land and are
not recorded (the asset's output is optional): the days that did land are recorded one
by one, the run says which did not, and the schedule asks for them again; a day late
beyond the freshness window is what ``partition_fresh`` reports, not a failed run each
night. The logic lives in ``core.wiki``.
"""


from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import polars as pl

from elex_assets.core import layout
from elex_assets.core.elections import Election
from elex_assets.core.markdown import markdown_table
from elex_assets.core.wiki.api import (
    WikimediaError,
    WikimediaNotLoaded,
    WikimediaRateLimited,
    WikimediaRetriesExhausted,
)
from elex_assets.core.wiki.backfill import write_days
from elex_assets.core.wiki.collect import RangeResult, collect_range
from elex_assets.defs.kaggle.assets import _weekly_export_asset
from elex_assets.defs.scheduling import in_partitions, tick_time
from elex_assets.defs.wiki.resources import WikiResource
from elex_assets.failures import final_on_deterministic, stop_without_retry
from elex_assets.monitoring.families import MONITORED_TAG
from elex_assets.partitions import daily_partitions, day_key, day_of
from elex_assets.resources import LakeResource, RegistryResource

GROUP = "wikipedia"
ASSET = "wiki_pageviews"
JOB = "wiki_pageviews_job"


def _metadata(lake, result: RangeResult, keys: list[str], client) -> dict:  # noqa: ANN001
    frames = list(result.frames.values())
    table = pl.concat(frames) if frames else pl.DataFrame()
    per_candidate = ({c: int(v) for c, v in table.group_by("candidate_id").agg(
        pl.col("views").sum()).sort("views", descending=True).iter_rows()}
        if table.height else {})
    return {
        "dagster/row_count": table.height,
        "rows": table.height,
        "days_landed": len(result.frames),
        "days_not_loaded": dg.MetadataValue.json([d.isoformat() for d in result.not_loaded]),
        "answers": result.requests,
        "http_requests": client.requests,
        "rate_limited": client.rate_limited,
        "not_found_404": result.not_found,
        "items_read": result.items_read,
        "zero_filled": int(table["zero_filled"].sum()) if table.height else 0,
        "dropped_by_reason": dg.MetadataValue.json(result.dropped),
        "views_per_candidate": dg.MetadataValue.json(per_candidate),
        "cost_usd": 0.0,
        "preview": dg.MetadataValue.md(markdown_table(table.head(10)) if table.height else ""),
        "path": dg.MetadataValue.path(lake.uri(keys[0] if keys else layout.CLEAN_WIKI_PAGEVIEWS)),
    }


def build_wiki_assets(election: Election, monitored: bool = False) -> list[dg.AssetsDefinition]:
    """``monitored``: watched like the other sources (freshness policy, content, freshness
    and accounting checks) when collection is configured (``WIKIMEDIA_CONTACT`` or the
    sandbox), so an install that has not named a contact is not alerted about it."""
    election_daily = daily_partitions(election)

    @dg.asset(
        name=ASSET,
        partitions_def=election_daily,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool="wikimedia_api",
        group_name=GROUP,
        kinds={"polars", "parquet"},
        deps=["candidates"],
        tags={MONITORED_TAG: ""} if monitored else None,
        output_required=False,  # days not loaded by Wikimedia yet are not materialised
        description=(
            "Daily Wikipedia views (agent user, all access) of each candidate's article on "
            "fr.wikipedia and en.wikipedia, from the Wikimedia Pageviews API: one row per "
            "candidate, project and day, clean/wiki_pageviews/date=YYYY-MM-DD/part-0.parquet. "
            "A backfill asks each article's whole range at once."
        ),
    )
    @final_on_deterministic
    def wiki_pageviews(
        context: dg.AssetExecutionContext, wiki: WikiResource, lake: LakeResource,
        registry: RegistryResource,
    ) -> Iterator[dg.MaterializeResult]:
        keys = context.partition_key_range
        first, last = day_of(keys.start), day_of(keys.end)
        the_lake = lake.lake()
        targets = wiki.targets(registry.load())
        if not targets:  # a legacy registry, or titles in none of the languages asked
            context.log.warning(
                "no selected candidate has a Wikipedia title in WIKIMEDIA_LANGUAGES="
                f"{','.join(wiki.languages)} (registry field 'wikipedia'): nothing to collect")
            return
        try:
            client = wiki.client(
                on_retry=lambda msg, n: context.log.warning(f"Wikimedia attempt {n}: {msg}"))
            result = collect_range(client, targets, first, last, now=datetime.now(UTC),
                                   log=context.log.info)
        except WikimediaRateLimited as exc:  # asked to wait beyond the bound: no run retry
            raise stop_without_retry(context, exc) from None
        except WikimediaRetriesExhausted:
            raise  # 5xx or network errors past the retries: the run may be retried
        except WikimediaError as exc:
            raise stop_without_retry(context, exc) from None
        written = write_days(the_lake, result)
        context.log.info(f"{len(written)} days of pageviews ({len(targets)} articles, "
                         f"{client.requests} requests) -> {the_lake.uri(layout.CLEAN_WIKI_PAGEVIEWS)}")
        metadata = _metadata(the_lake, result, written, client)
        if not result.not_loaded:
            yield dg.MaterializeResult(metadata=metadata)
            return
        for day in sorted(result.frames):  # the days that landed, each recorded as such
            context.log_event(dg.AssetMaterialization(
                asset_key=ASSET, partition=day_key(day),
                metadata={**metadata, "dagster/row_count": result.frames[day].height,
                          "rows": result.frames[day].height,
                          "path": dg.MetadataValue.path(
                              the_lake.uri(layout.clean_wiki_key(day)))}))
        days = result.not_loaded
        context.log.warning(str(WikimediaNotLoaded(
            f"Wikimedia has not loaded {days[0]}" + (f" .. {days[-1]} ({len(days)} days)"
            if len(days) > 1 else "") + " yet (a day lands hours to a day after it ends, UTC): "
            "not materialised; the schedule asks again", days)))

    export = _weekly_export_asset(election, ASSET, ASSET, multi=False)
    return [wiki_pageviews, export]


def wiki_days_due(now: datetime, materialized: set[str], reach: int = 3) -> list[date]:
    """The days a tick asks for: of the last ``reach`` days before today, those not yet
    landed, and the day before yesterday once more at 06:xx UTC (a late day may have been
    loaded in part when first read)."""
    today = now.astimezone(UTC).date()
    days = [today - timedelta(days=i) for i in range(1, reach + 1)]
    due = [d for d in days if day_key(d) not in materialized]
    again = today - timedelta(days=2)
    if now.hour == 6 and again not in due:
        due.append(again)
    return sorted(due)


def build_wiki_automation(
    wiki_pageviews: dg.AssetsDefinition, running: bool = True,
) -> tuple[list, list[dg.ScheduleDefinition]]:
    """``running``: on by default when ``WIKIMEDIA_CONTACT`` is set or the base URL is the
    sandbox (Wikimedia refuses clients that name no contact)."""
    job = dg.define_asset_job(JOB, selection=[wiki_pageviews],
                              description="Collect days of Wikipedia pageviews.")
    partitions_def = wiki_pageviews.partitions_def
    assert partitions_def is not None

    @dg.schedule(
        name="wiki_pageviews_every_3_hours", cron_schedule="20 */3 * * *", job=job,
        execution_timezone="UTC",
        default_status=(dg.DefaultScheduleStatus.RUNNING if running
                        else dg.DefaultScheduleStatus.STOPPED),
        description=(
            "Every 3 hours, ask Wikimedia for the last 3 days not landed yet (a day is loaded "
            "hours to a day after it ends, UTC); at 06:20 also re-read the day before yesterday."
        ),
    )
    def wiki_pageviews_every_3_hours(context: dg.ScheduleEvaluationContext):  # noqa: ANN202
        now = tick_time(context)
        landed = context.instance.get_materialized_partitions(dg.AssetKey(ASSET))
        requests = [
            dg.RunRequest(run_key=f"wiki:{d.isoformat()}:{now:%Y%m%d%H}",
                          partition_key=day_key(d), tags={"elex/wiki": "daily"})
            for d in wiki_days_due(now, set(landed))
        ]
        if not requests:
            return dg.SkipReason("the last days have landed")
        return in_partitions(partitions_def, requests, now.date())

    return [job], [wiki_pageviews_every_3_hours]
