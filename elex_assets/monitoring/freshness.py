"""Freshness: policies the UI and the freshness daemon evaluate, plus partition-aware checks.

The daemon judges an asset by its latest materialisation of *any* partition, so a
backfill of an old day makes a silent collector look fresh. The ``partition_fresh``
checks close that gap: the current day's partition (yesterday's until a deadline
after midnight) must exist and have been updated recently.
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import dagster as dg

from elex_assets.core.elections import Election
from elex_assets.core.layout import AREAS
from elex_assets.core.quality import CheckOutcome, current_day, partition_recent
from elex_assets.defs.trends.checks import trends_block_note
from elex_assets.monitoring import clock
from elex_assets.monitoring.families import family, is_monitored, monitored_assets
from elex_assets.monitoring.thresholds import Thresholds
from elex_assets.partitions import day_area_key, day_key

PARTITION_FRESH = "partition_fresh"


def freshness_policy_for(name: str, thresholds: Thresholds) -> dg.FreshnessPolicy | None:
    fam = family(name)
    if fam in ("tweets", "bsky"):  # Bluesky is refreshed every 5 minutes, as X
        return dg.FreshnessPolicy.time_window(
            fail_window=thresholds.tweets_fail, warn_window=thresholds.tweets_warn
        )
    if fam == "trends":
        return dg.FreshnessPolicy.time_window(
            fail_window=thresholds.trends_fail, warn_window=thresholds.trends_warn
        )
    if fam == "wiki":  # a day lands once, hours to a day after it ends
        return dg.FreshnessPolicy.time_window(
            fail_window=thresholds.wiki_fail, warn_window=thresholds.wiki_warn
        )
    if fam == "kaggle":
        return dg.FreshnessPolicy.cron(
            deadline_cron=thresholds.kaggle_deadline_cron,
            lower_bound_delta=thresholds.kaggle_window,
        )
    return None


def apply_freshness_policies(
    assets: Sequence[Any], thresholds: Thresholds | None = None
) -> list[Any]:
    """``assets`` with a freshness policy on every monitored key (others unchanged)."""
    thresholds = thresholds or Thresholds.from_env()
    return list(dg.map_asset_specs(policy_mapper(thresholds), assets))


def policy_mapper(thresholds: Thresholds):
    """The spec transform that sets the policy of a monitored asset (others unchanged)."""

    def with_policy(spec: dg.AssetSpec) -> dg.AssetSpec:
        name = spec.key.to_user_string()
        if not is_monitored(name, spec.tags):
            return spec
        policy = freshness_policy_for(name, thresholds)
        return dg.apply_freshness_policy(spec, policy) if policy else spec

    return with_policy


def _last_update(
    instance: dg.DagsterInstance, key: dg.AssetKey, partition: str | None
) -> datetime | None:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[partition] if partition else None),
        limit=1,
    ).records
    if not records:
        return None
    return datetime.fromtimestamp(records[0].timestamp, UTC)


def _partitions_of_day(name: str, day: date) -> list[str]:
    if family(name) == "trends":
        return [
            str(day_area_key(area, day)) for area in AREAS
        ]
    return [day_key(day)]


def judge_partition_freshness(
    instance: dg.DagsterInstance,
    key: dg.AssetKey,
    election: Election,
    thresholds: Thresholds,
    now: datetime,
) -> tuple[CheckOutcome, str]:
    """The verdict for the current day of ``key``, and the partition(s) judged."""
    name = key.to_user_string()
    if family(name) == "wiki":
        return judge_wiki_partition(instance, key, election, thresholds, now)
    day = current_day(now, thresholds.day_deadline)
    if not election.campaign_start <= day <= election.campaign_end:
        return CheckOutcome(True, f"{day} is outside the campaign: nothing expected"), ""
    max_age = thresholds.trends_fail if family(name) == "trends" else thresholds.tweets_fail
    latest_any = _last_update(instance, key, None)
    outcomes = [
        (p, partition_recent(day, _last_update(instance, key, p), latest_any, now, max_age))
        for p in _partitions_of_day(name, day)
    ]
    failed = [(p, o) for p, o in outcomes if not o.passed]
    judged = ", ".join(p for p, _ in outcomes)
    if failed:
        text = "; ".join(f"{p}: {o.description}" for p, o in failed)
        meta = {"partitions": judged, **failed[0][1].metadata}
        return CheckOutcome(False, text, meta), ", ".join(p for p, _ in failed)
    return CheckOutcome(
        True,
        "; ".join(o.description for _, o in outcomes),
        {"partitions": judged, **outcomes[0][1].metadata},
    ), judged


def judge_wiki_partition(
    instance: dg.DagsterInstance, key: dg.AssetKey, election: Election,
    thresholds: Thresholds, now: datetime,
) -> tuple[CheckOutcome, str]:
    """Pageviews: the latest day due (``wiki_warn`` after it ended, UTC) has landed. Old days
    do not change, so its age does not matter, only that it exists."""
    from elex_assets.core.wiki.quality import expected_day

    day = min(expected_day(now, thresholds.wiki_warn), election.campaign_end)
    if day < election.campaign_start:
        return CheckOutcome(True, f"no campaign day due yet (first: {election.campaign_start})"), ""
    partition = day_key(day)
    landed = _last_update(instance, key, partition)
    hours = thresholds.wiki_warn.total_seconds() / 3600
    if landed is None:
        return CheckOutcome(
            False, f"{partition} has not landed, {hours:g} h after the day ended (UTC): "
            "Wikimedia may be late, or the collection stopped",
            {"partition": partition}), partition
    return CheckOutcome(True, f"{partition} landed {landed:%Y-%m-%d %H:%M} UTC",
                        {"partition": partition}), partition


def build_partition_freshness_checks(
    assets: Sequence[Any], election: Election, thresholds: Thresholds | None = None
) -> list[dg.AssetChecksDefinition]:
    """One ``partition_fresh`` check per daily tweets/Bluesky/Trends/pageviews asset."""
    thresholds = thresholds or Thresholds.from_env()
    checks = []
    for name, (_, key) in monitored_assets(assets).items():
        if family(name) not in ("tweets", "bsky", "trends", "wiki"):
            continue
        checks.append(_partition_fresh_check(key, election, thresholds))
    return checks


def _partition_fresh_check(
    key: dg.AssetKey, election: Election, thresholds: Thresholds
) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=key,
        name=PARTITION_FRESH,
        description=(
            "The latest day due has landed (a day is due ELEX_FRESHNESS_WIKI_WARN_MINUTES "
            "after it ends, UTC: Wikimedia loads it hours to a day later)."
            if family(key.to_user_string()) == "wiki" else
            "The current UTC day's partition exists and was updated recently "
            "(yesterday's until the day deadline after midnight)."
        ),
    )
    def _check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        outcome, partitions = judge_partition_freshness(
            context.instance, key, election, thresholds, clock.utc_now()
        )
        description = outcome.description
        if not outcome.passed and family(key.to_user_string()) == "trends":
            note = trends_block_note()
            if note:  # a block that ends by itself, not a broken collector
                description = f"{note}: {description}"
        return dg.AssetCheckResult(
            passed=outcome.passed,
            description=description,
            metadata=outcome.metadata,
            severity=dg.AssetCheckSeverity.ERROR,
        )

    return _check
