"""The four Google Trends assets (day x area) and their hourly schedule.

Thin Dagster definitions over :mod:`elex_assets.core.trends.collect`: every
step holds the ``google_trends`` pool (limit 1 in ``dagster.yaml``), so two
runs never call Google at the same time. Only transient faults (5xx and
network errors still there after the client's own bounded backoff) are retried
a few minutes later (``RETRY``). Everything deterministic fails the
step at once with ``dg.Failure(allow_retries=False)``: a refusal (429 or
captcha), which starts the lake-wide cool-down; a run started during a
cool-down, which sends nothing and says until when; an answer that does not
match its request; a 404 on a data call; bad settings.

The retry is asked for (``dg.RetryRequested``) rather than declared with
``retry_policy=``: Dagster's retry policy also retries a step that was
interrupted, so a SIGTERM or Ctrl-C during the client's backoff queued the step
again instead of stopping the run.
"""


from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from elex_assets.core.elections import Election
from elex_assets.core.lake import Lake
from elex_assets.core.layout import AREAS, TRENDS_KINDS, clean_trends_key
from elex_assets.core.markdown import markdown_table
from elex_assets.core.registry import load_registry
from elex_assets.core.schemas import TRENDS
from elex_assets.core.trends import collect as trends_collect
from elex_assets.core.trends.errors import TrendsError
from elex_assets.core.trends.official_budget import RequestBudget
from elex_assets.core.trends.official_plan import OFFICIAL_HOUR, plan_day
from elex_assets.core.trends.revisions import Landed, land_day
from elex_assets.core.trends.state import CooldownPolicy, TrendsGate
from elex_assets.dagster_private import UnresolvedAssetJobDefinition
from elex_assets.defs.scheduling import tick_time, utc_schedule
from elex_assets.defs.trends.resources import TrendsResource
from elex_assets.failures import final_on_deterministic
from elex_assets.partitions import day_area_key, day_area_of, trends_partitions
from elex_assets.resources import LakeResource, RegistryResource
from elex_assets.settings import Settings, TrendsSettings

POOL = "google_trends"
OFFICIAL_KINDS = ("interest_over_time", "interest_by_region")  # related lists: web only
# transient faults only (see _retry_later): at most ~1 + 2 + 4 minutes of waiting, never an hour
RETRY = dg.RetryPolicy(
    max_retries=3, delay=60, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)
DESCRIPTIONS = {
    "interest_over_time": (
        "Each candidate's Google Trends interest during the day at the finest resolution "
        "Google serves (8-minute for the last week, daily before), with the partial-data "
        "flag; value_comparable is rescaled on the shared anchor term so candidates can be "
        "compared. With TRENDS_BACKEND=official: daily points, search_interest_share on "
        "Google's one scale across requests, revisions kept."
    ),
    "interest_by_region": (
        "Interest per French region (area fr) or per country (area world) over the day, "
        "per candidate (Google's 0-100 scale within each candidate's request)."
    ),
    "related_topics": "Top and rising topics related to each candidate's name during the day.",
    "related_queries": "Top and rising queries related to each candidate's name during the day.",
}


def _partition(context: AssetExecutionContext) -> tuple[str, date]:
    return day_area_of(context.partition_key)


def blocked_failure(gate: TrendsGate) -> dg.Failure | None:
    """The one-line, not-retried failure of a run started during a cool-down (or None)."""
    cooldown = gate.active_cooldown()
    if cooldown is None:
        return None
    return dg.Failure(
        description=cooldown.message(),
        metadata={
            "blocked_until": cooldown.until.isoformat(),
            "refusals": cooldown.refusals,
            "refusing_since": cooldown.since.isoformat(),
            "requests": 0,
        },
        allow_retries=False,
    )


def _not_retried(exc: Exception, gate: TrendsGate) -> dg.Failure:
    metadata: dict[str, object] = {"error": type(exc).__name__}
    cooldown = gate.active_cooldown()
    if cooldown is not None:
        metadata["blocked_until"] = cooldown.until.isoformat()
    return dg.Failure(description=str(exc), metadata=metadata, allow_retries=False)


def _retry_later(
    exc: TrendsError, context: AssetExecutionContext, policy: dg.RetryPolicy | None
) -> BaseException:
    """A transient fault: the step is asked again after ``policy``'s delay (``exc`` itself
    without a policy, or once its retries are spent: the run fails, run retries may apply)."""
    if policy is None:
        return exc
    return dg.RetryRequested(
        max_retries=policy.max_retries,
        seconds_to_wait=policy.calculate_delay(context.retry_number + 1),
    )


def _collect(
    kind: str,
    context: AssetExecutionContext,
    trends: TrendsResource,
    registry: RegistryResource,
    lake: LakeResource,
    retry_policy: dg.RetryPolicy | None = None,
) -> dg.MaterializeResult:
    area, day = _partition(context)
    store = lake.lake()
    official = trends.backend == "official" and kind in OFFICIAL_KINDS
    gate = trends.gate(store, official=official, log=context.log.warning)
    blocked = blocked_failure(gate)
    if blocked is not None:  # nothing is requested; the next scheduled run tries again
        context.log.warning(blocked.description or "")
        raise blocked
    reg = registry.load()
    terms = trends_collect.candidate_terms(reg.selected())
    collected_at = datetime.now(UTC)
    landed: list[Landed] = []
    try:
        client: Any = (
            trends.official_client(area, gate, trends.official_budget(store)) if official
            else trends.client(area, log=context.log.info, gate=gate)
        )
        if official:
            collect_official = getattr(trends_collect, f"official_{kind}")
            by_day = collect_official(client, terms, day, collected_at)
            df = by_day.get(day, TRENDS[kind].empty())
        elif kind == "interest_over_time":
            df = trends_collect.interest_over_time(
                client, terms, day, trends.anchor, collected_at,
                smaller_anchors=trends.smaller_anchors(),
            )
        else:
            collect: Callable[..., pl.DataFrame] = getattr(trends_collect, kind)
            df = collect(client, terms, day, collected_at)
    except TrendsError as exc:
        if exc.transient:  # 5xx / network after the client's backoff: try again later
            raise _retry_later(exc, context, retry_policy) from exc
        raise _not_retried(exc, gate) from exc
    except ValueError as exc:  # a request elex itself refuses to send (bad terms, settings)
        raise _not_retried(exc, gate) from exc
    if official:  # every answer checked; now land the partition's day and re-fetched days
        landed = land_official(store, kind, area, day, by_day)
        uri = store.uri(clean_trends_key(kind, area, day))
    else:
        uri = store.write_parquet(clean_trends_key(kind, area, day), df)
    covered = df["candidate_id"].n_unique() if df.height else 0
    metadata: dict[str, object] = {
        "rows": df.height,
        "candidates": len(terms),
        "candidates_covered": covered,
        "requests": client.requests_made if official else client.transport.requests_made,
        "backend": "official" if official else "web",
        "area": area,
        "date": day.isoformat(),
        "path": dg.MetadataValue.path(uri),
        "preview": dg.MetadataValue.md(markdown_table(df)),
    }
    if official:
        metadata["polls"] = client.polls_made
        metadata["budget_per_day"] = trends.official_max_requests_per_day
        used = trends.official_budget(store).used()
        metadata["budget_used_today"] = used["fetches"]
        metadata["points_today"] = used["points"]
        metadata["days_landed"] = ", ".join(str(x.day) for x in landed)
        metadata["days_fetched_not_landed"] = ", ".join(  # never landed: left to their partition
            str(d) for d in sorted(set(by_day) - {x.day for x in landed})) or "none"
        metadata["new_revisions"] = sum(x.new_revisions for x in landed)
        metadata["revised_rows"] = sum(x.revised for x in landed)
    if kind == "interest_over_time":
        metadata["anchor"] = "none (consistently scaled)" if official else trends.anchor
        metadata["intervals"] = df["timestamp"].n_unique() if df.height else 0
        metadata["partial_rows"] = int(df["is_partial"].sum()) if df.height else 0
    if df.height == 0:
        context.log.warning(f"Google Trends returned nothing for {kind} {area} {day}")
    return dg.MaterializeResult(metadata=metadata)


def land_official(
    lake: Lake, kind: str, area: str, day: date, by_day: dict[date, pl.DataFrame]
) -> list[Landed]:
    """Land the partition's day, and the other days of the answer already landed before
    (Google's re-fetched, possibly revised, recent days), each as its newest revision.

    Days of the answer never landed are left to their own partition.
    """
    landed = [land_day(lake, kind, area, day, by_day.get(day, TRENDS[kind].empty()))]
    for other, rows in sorted(by_day.items()):
        if other != day and lake.exists(clean_trends_key(kind, area, other)):
            landed.append(land_day(lake, kind, area, other, rows))
    return landed


def _trends_asset(
    kind: str, partitions: dg.PartitionsDefinition, retry_policy: dg.RetryPolicy | None
) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"trends_{kind}",
        group_name="trends",
        kinds={"parquet"},
        partitions_def=partitions,
        pool=POOL,
        deps=["candidates"],
        description=DESCRIPTIONS[kind],
    )
    @final_on_deterministic
    def _asset(
        context: AssetExecutionContext,
        trends: TrendsResource,
        registry: RegistryResource,
        lake: LakeResource,
    ) -> dg.MaterializeResult:
        return _collect(kind, context, trends, registry, lake, retry_policy)

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
    )


PARTIAL_LOOKBACK_DAYS = 7


def partial_run_requests(lake: Lake, election: Election, now: datetime) -> list[dg.RunRequest]:
    """Past days (last week) whose landed series still has partial points: fetch them again."""
    today = now.astimezone(UTC).date()
    days = [
        today - timedelta(days=n)
        for n in range(1, PARTIAL_LOOKBACK_DAYS + 1)
        if election.campaign_start <= today - timedelta(days=n) <= election.campaign_end
    ]
    requests = []
    for area in AREAS:
        for day in trends_collect.days_with_partial_points(lake, area, days):
            requests.append(
                dg.RunRequest(
                    run_key=f"{day_area_key(area, day)}|{now:%Y%m%d%H}|partial",
                    partition_key=day_area_key(area, day),
                    tags={"elex/source": "trends_hourly", "elex/refetch": "partial"},
                )
            )
    return requests


WEB_KINDS = tuple(k for k in TRENDS_KINDS if k not in OFFICIAL_KINDS)


def official_run_requests(
    lake: Lake, election: Election, now: datetime, terms: int, per_day: int
) -> dg.SkipReason | list[dg.RunRequest]:
    """The official backend's one daily run per area, within the budget left today.

    Only at ``OFFICIAL_HOUR``: Google's data is daily and runs to about two days ago,
    so the newest day with data is asked once (its 7-day series window re-fetches the
    days still partial). The related lists (web backend) go with it.
    """
    if now.hour != OFFICIAL_HOUR:
        return dg.SkipReason(
            f"TRENDS_BACKEND=official: one run a day at {OFFICIAL_HOUR:02d}:05 UTC "
            f"(budget TRENDS_OFFICIAL_MAX_REQUESTS_PER_DAY={per_day})"
        )
    budget = RequestBudget(lake, per_day, clock=lambda: now)
    remaining = budget.remaining()
    plan = plan_day(now, terms, remaining)
    if not election.campaign_start <= plan.day <= election.campaign_end:
        return dg.SkipReason(f"{plan.day} is outside the campaign of {election.id}")
    if cooldown := TrendsGate(lake, source="trends_official", clock=lambda: now).active_cooldown():
        return dg.SkipReason(cooldown.message())
    if not plan.kinds:
        return dg.SkipReason(
            f"{plan.summary(remaining)}: TRENDS_OFFICIAL_MAX_REQUESTS_PER_DAY={per_day} "
            f"cannot hold one request per candidate ({terms})"
        )
    return [
        dg.RunRequest(
            run_key=f"{day_area_key(area, plan.day)}|official",
            partition_key=day_area_key(area, plan.day),
            asset_selection=[dg.AssetKey(f"trends_{k}") for k in (*kinds, *WEB_KINDS)],
            tags={"elex/source": "trends_official_daily", "elex/plan": plan.summary(remaining)},
        )
        for area, kinds in plan.kinds.items()
    ]


def trends_hourly_schedule(
    job: UnresolvedAssetJobDefinition, election: Election, lake_url: str | None = None
) -> dg.ScheduleDefinition:
    """Web backend: refresh today's partitions of both areas every hour (UTC), and re-fetch
    the last week's days whose landed points Google still flagged partial. Official
    backend: one budgeted run a day (:func:`official_run_requests`)."""

    @utc_schedule("trends_hourly", "5 * * * *", job)
    def _schedule(context: dg.ScheduleEvaluationContext) -> dg.SkipReason | list[dg.RunRequest]:
        now = tick_time(context)
        day = now.date()
        try:
            trends_settings = TrendsSettings.load()
        except ValueError as exc:
            return dg.SkipReason(f"Trends settings refused: {exc}")
        if trends_settings.backend == "official":
            try:
                settings = Settings.load()
                terms = len({c.name for c in load_registry(
                    election.id, settings.candidates_file).selected()})
                return official_run_requests(settings.lake(lake_url), election, now, terms,
                                             trends_settings.official_max_requests_per_day)
            except Exception as exc:  # the budget cannot be read: ask nothing rather than overspend
                return dg.SkipReason(f"could not plan the official Trends run: {exc}")
        if not election.campaign_start <= day <= election.campaign_end:
            return dg.SkipReason(f"{day} is outside the campaign of {election.id}")
        today = [
            dg.RunRequest(
                run_key=f"{day_area_key(area, day)}|{now:%H}",
                partition_key=day_area_key(area, day),
                tags={"elex/source": "trends_hourly"},
            )
            for area in AREAS
        ]
        try:
            lake = Settings.load().lake(lake_url)
            # the web API refuses us and every asset uses it: ask nothing until it is over
            policy = CooldownPolicy.minutes(trends_settings.cooldown_minutes,
                                            trends_settings.cooldown_max_minutes)
            cooldown = TrendsGate(lake, policy, log=context.log.warning).active_cooldown()
            if cooldown is not None:
                return dg.SkipReason(cooldown.message())
            partial = partial_run_requests(lake, election, now)
        except Exception as exc:  # the lake unreachable: today's refresh still goes
            context.log.warning(f"could not read the Trends state in the lake: {exc}")
            partial = []
        return today + partial

    return _schedule
