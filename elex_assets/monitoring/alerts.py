"""The alert sensor: Dagster's view of what is wrong, sent to SNS once per problem.

OSS Dagster shows freshness and check failures in the UI but sends nothing; this
sensor reads, on each tick, the instance's freshness states, the latest
evaluation of each asset check (per partition) and the failed runs, and hands
the set of current problems to :class:`elex_assets.core.alerts.AlertBook`, which
announces new ones, announces recoveries and remembers both in the cursor.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg

from elex_assets.core.alerts import AlertBook, Problem, Publisher, asset_path
from elex_assets.dagster_private import FreshnessState, PartitionKeyFilter
from elex_assets.defs.trends.checks import concerns_trends, trends_block_note
from elex_assets.monitoring import clock
from elex_assets.settings import alert_settings

ALERT_STATES = (FreshnessState.FAIL,)
CHECK_HISTORY = 30  # recent evaluations read per check (covers the recent partitions)
RUN_LOOKBACK = timedelta(days=1)  # on the first tick, failed runs this recent are reported
RUNS_PER_TICK = 100
PARTITION_TAG = "dagster/partition"
WILL_RETRY_TAG = "dagster/will_retry"


def _ts(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def freshness_problems(instance: dg.DagsterInstance, asset_graph: Any) -> dict[str, Problem]:
    """Assets whose freshness state (as the freshness daemon recorded it) is FAIL."""
    if asset_graph is None:
        return {}
    nodes = {n.key: n for n in asset_graph.asset_nodes if n.freshness_policy is not None}
    if not nodes:
        return {}
    problems = {}
    for key, record in instance.get_freshness_state_records(list(nodes)).items():
        if record.freshness_state not in ALERT_STATES:
            continue
        name = key.to_user_string()
        last = instance.get_latest_materialization_event(key)
        since_last = (
            f"last materialisation {_ts(last.timestamp):%Y-%m-%d %H:%M} UTC"
            if last
            else "never materialised"
        )
        problems[f"freshness:{name}"] = Problem(
            key=f"freshness:{name}",
            kind="freshness",
            asset=name,
            partition=None,
            since=record.updated_at,
            detail=f"{name} is stale (freshness {record.freshness_state.value}): {since_last}.",
        )
    return problems


def check_problems(
    instance: dg.DagsterInstance,
    asset_graph: Any,
    known: dict[str, Problem],
) -> dict[str, Problem]:
    """Checks whose latest evaluation of a partition failed with ERROR severity.

    A problem already known whose partition fell out of the recent history is
    looked up directly, so it clears only when that partition passes again.
    """
    if asset_graph is None:
        return {}
    storage = instance.event_log_storage
    problems: dict[str, Problem] = {}
    for check_key in sorted(asset_graph.asset_check_keys, key=str):
        latest: dict[str | None, object] = {}
        for record in storage.get_asset_check_execution_history(check_key, limit=CHECK_HISTORY):
            latest.setdefault(record.partition, record)  # newest first
        prefix = _check_problem_prefix(check_key)
        for key, problem in known.items():
            if key.startswith(prefix) and problem.partition not in latest:
                older = storage.get_asset_check_execution_history(
                    check_key, limit=1, partition_filter=PartitionKeyFilter(key=problem.partition)
                )
                if older:
                    latest[problem.partition] = older[0]
        for partition, record in latest.items():
            problem = _failed_check(check_key, partition, record)
            if problem:
                problems[problem.key] = problem
    return problems


def _check_problem_prefix(check_key: dg.AssetCheckKey) -> str:
    return f"check:{check_key.asset_key.to_user_string()}:{check_key.name}:"


def _failed_check(check_key: dg.AssetCheckKey, partition: str | None, record) -> Problem | None:
    entry = record.event
    evaluation = (
        entry.dagster_event.event_specific_data
        if entry is not None and entry.dagster_event is not None
        else None
    )
    if not isinstance(evaluation, dg.AssetCheckEvaluation) or evaluation.passed:
        return None
    if evaluation.severity != dg.AssetCheckSeverity.ERROR:
        return None  # warnings stay in the UI
    asset = check_key.asset_key.to_user_string()
    description = evaluation.description or "failed"
    return Problem(
        key=f"{_check_problem_prefix(check_key)}{partition or ''}",
        kind=f"check {check_key.name}",
        asset=asset,
        partition=partition,
        since=_ts(record.create_timestamp),
        detail=f"Check {check_key.name} on {asset} failed: {description}",
    )


def run_problems(
    instance: dg.DagsterInstance, book: AlertBook, now: datetime
) -> dict[str, Problem]:
    """Failed runs (by job and partition) not yet followed by a successful one."""
    after = _ts(book.runs_after) if book.runs_after else now - RUN_LOOKBACK
    records = instance.get_run_records(
        dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE], updated_after=after),
        limit=RUNS_PER_TICK,
        order_by="update_timestamp",
        ascending=True,
    )
    problems = {k: p for k, (p, _) in book.open.items() if p.kind == "run"}
    for record in records:
        run = record.dagster_run
        book.runs_after = max(book.runs_after or 0.0, record.update_timestamp.timestamp())
        if run.tags.get(WILL_RETRY_TAG) == "true":
            continue  # the retry will tell
        partition = run.tags.get(PARTITION_TAG)
        key = f"run:{run.job_name}:{partition or ''}"
        problems[key] = Problem(
            key=key,
            kind="run",
            asset=None,
            partition=partition,
            since=_ts(record.end_time) if record.end_time else record.update_timestamp,
            detail=f"Run {run.run_id} of job {run.job_name} failed.",
            link=f"/runs/{run.run_id}",
        )
    for key, problem in list(problems.items()):
        tags = {PARTITION_TAG: problem.partition} if problem.partition else None
        job = key.split(":", 2)[1]
        later = instance.get_run_records(
            dg.RunsFilter(
                job_name=job,
                statuses=[dg.DagsterRunStatus.SUCCESS],
                tags=tags,
                created_after=problem.since,
            ),
            limit=1,
        )
        if later:
            del problems[key]
    return problems


def with_trends_block_note(
    problems: dict[str, Problem], note: str | None = None
) -> dict[str, Problem]:
    """Lead Trends problems with "Google Trends blocked until …" while a cool-down runs."""
    trends = {
        k: p for k, p in problems.items()
        if concerns_trends(p.asset, k.split(":", 2)[1] if p.kind == "run" else None, p.partition)
    }
    if not trends:
        return problems
    note = note or trends_block_note()
    if not note:
        return problems
    return {
        k: (replace(p, detail=f"{note}. {p.detail}") if k in trends else p)
        for k, p in problems.items()
    }


def evaluate_alerts(
    context: dg.SensorEvaluationContext, publisher: Publisher | None = None
) -> dg.SkipReason:
    """One tick: gather current problems, reconcile with the cursor, publish, save the cursor."""
    settings = alert_settings()  # read at every tick: a new channel needs no restart
    publisher = publisher or settings.publisher()
    instance = context.instance
    book = AlertBook.from_cursor(context.cursor)
    now = clock.utc_now()
    repo = context.repository_def
    graph = repo.asset_graph if repo is not None else None
    known = {k: p for k, (p, _) in book.open.items()}
    current: dict[str, Problem] = {}
    current |= freshness_problems(instance, graph)
    current |= check_problems(instance, graph, known)
    current |= run_problems(instance, book, now)
    current = with_trends_block_note(current)
    report = book.reconcile(current, publisher, now, settings.ui_url)
    context.update_cursor(book.to_cursor())
    by_kind: dict[str, int] = defaultdict(int)
    for problem in current.values():
        by_kind[problem.kind.split()[0]] += 1
    summary = (
        f"{len(current)} problem(s) {dict(by_kind)}; sent {len(report.sent)} "
        f"via {publisher.channel}"
    )
    if report.errors:
        summary += f"; {report.unsent} not delivered ({report.errors[0]}), retrying next tick"
        context.log.error(summary)
    else:
        context.log.info(summary)
    return dg.SkipReason(summary)


def build_alert_sensor(
    name: str = "elex_alerts", minimum_interval_seconds: int = 60
) -> dg.SensorDefinition:
    @dg.sensor(
        name=name,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Publishes one message per new problem (freshness FAIL, failed ERROR check, "
            "failed run) to ELEX_ALERT_SNS_TOPIC_ARN or ELEX_ALERT_PHONE_NUMBER, and a "
            "recovery when it clears; log only when neither is set."
        ),
    )
    def _sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        return evaluate_alerts(context)

    return _sensor


__all__ = ["asset_path", "build_alert_sensor", "evaluate_alerts"]
