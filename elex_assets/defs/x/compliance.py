"""``x_compliance``: X's deletions applied to everything elex stores and publishes.

Weekly (schedule ``x_compliance_weekly``, Monday 05:00 UTC) it checks every day
with raw posts; on demand, run config ``start`` / ``end`` (``YYYY-MM-DD``) narrow
it to any range. The logic is in ``core.x.compliance`` (log, tombstones,
removals) and ``core.x.compliance_client`` (the X batch compliance job).
"""


from datetime import date

import dagster as dg

from elex_assets.core.elections import Election
from elex_assets.core.kaggle.export import export_week, iso_week_of, read_manifests
from elex_assets.core.markdown import markdown_rows
from elex_assets.core.retrying import is_deterministic
from elex_assets.core.x import compliance as comp
from elex_assets.core.x.compliance_client import (
    ComplianceClient,
    ComplianceError,
    ComplianceJobEnded,
    CompliancePolicy,
    ComplianceTransientError,
)
from elex_assets.defs.x.resources import SANDBOX_TOKEN, XResource
from elex_assets.failures import final_on_deterministic
from elex_assets.resources import LakeResource

GROUP = "x"


class XComplianceConfig(dg.Config):
    start: str = ""  # first day checked (YYYY-MM-DD); default: the first day with raw posts
    end: str = ""  # last day checked; default: the last day with raw posts
    poll_seconds: float = 5.0  # first pause between polls of the job (doubles, up to 5 min)
    backoff_seconds: float = 2.0  # first pause after a transient fault


def _day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise dg.Failure(
            f"x_compliance run config {name}={value!r} is not a date (YYYY-MM-DD)",
            allow_retries=False,
        ) from None


def _reexport(lake, election: Election, days: list[str]) -> list[str]:  # noqa: ANN001
    """Write again every exported weekly tweets file of a week that lost rows."""
    weeks = {iso_week_of(date.fromisoformat(d)) for d in days}
    done = []
    for m in read_manifests(lake):
        if m["source"] != "tweets" or (m["iso_year"], m["iso_week"]) not in weeks:
            continue
        if m["election"] != election.id:
            continue
        export_week(
            lake, election, "tweets", m["iso_year"], m["iso_week"],
            content_policy=m.get("content_policy") or "ids",
            parquet_twin=any(f.endswith(".parquet") for f in m["files"]),
            allow_incomplete=bool(m.get("forced")),
        )
        done.append(f"{m['iso_year']}-W{m['iso_week']:02d}")
    return done


def x_compliance_asset(election: Election) -> dg.AssetsDefinition:
    @dg.asset(
        name="x_compliance",
        group_name=GROUP,
        kinds={"json"},
        deps=["tweets"],
        description=(
            "X batch compliance: the ids stored for the days checked are submitted to X; "
            "deleted, suspended, protected or deactivated posts lose their content in raw "
            "(tombstones), tweets and the weekly exports; state/compliance/ logs what, when, why."
        ),
    )
    @final_on_deterministic
    def x_compliance(
        context: dg.AssetExecutionContext,
        config: XComplianceConfig,
        x: XResource,
        lake: LakeResource,
    ) -> dg.MaterializeResult:
        the_lake = lake.lake()
        stored = comp.raw_days(the_lake)
        start = _day(config.start, "start") if config.start else (stored[0] if stored else None)
        end = _day(config.end, "end") if config.end else (stored[-1] if stored else None)
        if start is None or end is None:
            return dg.MaterializeResult(metadata={"submitted": 0, "note": "no raw posts yet"})
        if end < start:
            raise dg.Failure(f"x_compliance: end {end} is before start {start}", allow_retries=False)
        days = comp.day_range(start, end)
        already = comp.removed_ids(the_lake)
        ids = comp.stored_ids(the_lake, days, set(already))
        context.log.info(f"{len(ids)} stored ids of {start} .. {end} submitted to X")
        token = x.bearer_token or (SANDBOX_TOKEN if x.sandbox else None)
        if not token:
            raise dg.Failure("X_BEARER_TOKEN is not set: compliance jobs need the app bearer "
                             "token", allow_retries=False)
        client = ComplianceClient(
            token, x.base_url,
            CompliancePolicy(poll_first=config.poll_seconds, backoff_base=config.backoff_seconds),
            on_wait=context.log.info,
        )
        applied_at = comp.now_stamp()
        try:
            if ids:
                job, events = client.run(ids, f"elex {election.id} {start}..{end}")
            else:
                job, events = {"id": "none", "status": "nothing to submit"}, []
        except ComplianceTransientError as exc:
            if is_deterministic(exc):  # a rate limit past the wait bound: final_errors
                raise
            raise dg.Failure(str(exc)) from exc  # worth a retry later
        except (ComplianceJobEnded, ComplianceError) as exc:
            raise dg.Failure(str(exc), allow_retries=False) from exc
        # The log first: from now on normalisation drops these ids whatever happens below.
        new = comp.log_events(the_lake, job, events, applied_at) if events else {}
        removed = {**already, **new}
        tombstones, files, rows = comp.apply_removals(the_lake, days, removed)
        weeks = _reexport(the_lake, election, sorted(rows)) if rows else []
        report = comp.ComplianceReport(
            job_id=str(job["id"]), status=str(job.get("status")), start=start.isoformat(),
            end=end.isoformat(), applied_at=applied_at, submitted=len(ids), events=len(events),
            by_reason=comp.reasons(events), raw_tombstones=tombstones, raw_files_rewritten=files,
            rows_removed_by_day=rows, weeks_reexported=weeks,
        )
        log_key = comp.record_job(the_lake, report, job)
        table = markdown_rows(["reason", "posts"], sorted(report.by_reason.items())) if events else ""
        return dg.MaterializeResult(
            metadata={
                "range": f"{start} .. {end}",
                "job_id": report.job_id,
                "submitted": report.submitted,
                "reported": report.events,
                "by_reason": dg.MetadataValue.md(table or "none"),
                "raw_tombstones": tombstones,
                "raw_files_rewritten": files,
                "rows_removed": report.rows_removed,
                "removed_in_log": len(removed),
                "rows_removed_by_day": dg.MetadataValue.json(rows),
                "weeks_reexported": dg.MetadataValue.json(weeks),
                "requests": client.requests,
                "log": dg.MetadataValue.path(the_lake.uri(log_key)),
            }
        )

    return x_compliance


def x_compliance_schedule(asset: dg.AssetsDefinition) -> tuple[dg.JobDefinition, dg.ScheduleDefinition]:
    """Weekly, Monday 05:00 UTC (before the weekly exports are due); on by default."""
    job = dg.define_asset_job("x_compliance_job", selection=[asset])
    schedule = dg.ScheduleDefinition(
        name="x_compliance_weekly",
        job=job,
        cron_schedule="0 5 * * 1",
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
    return job, schedule

