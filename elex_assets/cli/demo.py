"""The README's first command: the whole pipeline, offline, on the embedded default.

It starts the sandbox APIs in-process, uses a project-local Dagster instance
(``.dagster_home``, sqlite) and a local lake folder (``data/lake``), and
materialises every asset for one complete ISO week plus today: posts, Trends,
data checks, weekly exports and the Kaggle folder. Every run it launches is
visible afterwards in ``make ui``. Running it again replaces the same
partitions (idempotent); the sandboxes stop whatever happens, Ctrl-C included.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from elex_assets import PROJECT_DIR
from elex_assets.settings import SandboxSettings, apply_env, validate_env

QUIET_RUN = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def prepare_instance_home(home: Path | None = None) -> Path:
    """Create the DAGSTER_HOME (default: the project-local one) with the top-level
    dagster.yaml, and point Dagster (and the processes it starts) at it."""
    home = home or SandboxSettings.load().dagster_home
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PROJECT_DIR / "dagster.yaml", home / "dagster.yaml")
    apply_env({"DAGSTER_HOME": str(home)})
    return home


@contextlib.contextmanager
def sandboxes() -> Iterator[dict[str, str]]:
    """Start every sandbox API in-process and point the settings at them; stop them after."""
    from elex_assets.sandbox.serve import start_sandboxes

    servers = start_sandboxes(demo=True)
    try:
        yield {name: server.base_url for name, server in servers.items()}
    finally:
        for server in servers.values():
            server.stop()


@dataclass
class Step:
    label: str
    job: str
    partition_key: str | None = None
    selection: list[str] | None = None
    tags: dict[str, str] | None = None


def demo_week(today: date, first: date, last: date) -> list[date]:
    """The most recent complete ISO week (Monday..Sunday) within [first, last]."""
    sunday = min(today - timedelta(days=today.weekday() + 1), last)
    sunday -= timedelta(days=(sunday.weekday() + 1) % 7)
    week = [sunday - timedelta(days=i) for i in range(6, -1, -1)]
    if week[0] < first:
        raise SystemExit(f"no complete ISO week between {first} and {last}")
    return week


def demo_days(today: date, first: date, last: date) -> tuple[list[date], list[date]]:
    """The demo's complete ISO week, and every day it collects: the week, yesterday, today.

    Yesterday is collected too because, until the day deadline after midnight UTC,
    it is the partition the freshness checks judge (a demo run at 00:30 on a
    Tuesday would otherwise fail them for a day it never collected).
    """
    week = demo_week(today, first, last)
    days = list(week)
    for day in (today - timedelta(days=1), today):
        if first <= day <= last and day not in days:
            days.append(day)
    return week, days


def plan(defs: Any, election: Any, today: date) -> tuple[list[date], list[Step]]:
    """Every run of the demo, in dependency order."""
    from elex_assets.core.layout import AREAS
    from elex_assets.monitoring.checks import FRESHNESS_CHECKS_JOB
    from elex_assets.partitions import day_area_key, day_key, week_key

    week, days = demo_days(today, election.campaign_start, election.campaign_end)
    live_today = election.campaign_start <= today <= election.campaign_end
    steps = [Step("candidates", "registry_job")]
    steps += [Step(f"posts {d}", "x_refresh_job", day_key(d)) for d in days]
    steps += [Step(f"post counts {d}", "x_counts_job", day_key(d)) for d in days]
    steps += [Step(f"bluesky {d}", "bsky_refresh_job", day_key(d)) for d in days]
    steps += [Step(f"bluesky deletions {d}", "bsky_compliance_job", day_key(d)) for d in week]
    steps += [
        Step(f"trends {area} {d}", "trends_job", str(day_area_key(area, d)))
        for d in days
        for area in AREAS
    ]
    # Pageviews: one run for the week and the days since (a day lands once it is over),
    # as a backfill does: one request per article for the whole range.
    wiki_last = min(today - timedelta(days=1), election.campaign_end)
    steps.append(Step(f"wikipedia pageviews {week[0]} .. {wiki_last}", "wiki_pageviews_job",
                      tags={"dagster/asset_partition_range_start": day_key(week[0]),
                            "dagster/asset_partition_range_end": day_key(wiki_last)}))
    if live_today:
        steps.append(Step("freshness checks", FRESHNESS_CHECKS_JOB))
    # Deletions reported by X leave the lake before the week is exported.
    steps.append(Step("x_compliance (deletions on X)", "x_compliance_job"))
    monday = week_key(week[0])
    exports = [
        k.to_user_string()
        for k in defs.resolve_asset_graph().get_all_asset_keys()
        if k.to_user_string().startswith("kaggle_") and k.to_user_string() != "kaggle_dataset"
    ]
    steps += [
        Step(f"{name} week {monday}", "__ASSET_JOB", monday, [name]) for name in sorted(exports)
    ]
    steps.append(Step("kaggle_dataset", "__ASSET_JOB", None, ["kaggle_dataset"]))
    return week, steps


def execute(defs: Any, instance: Any, step: Step) -> Any:
    import dagster as dg

    from elex_assets.monitoring.run_health import WORKER_TAG, Worker, reap_dead_runs

    # execute_in_process bypasses the job's executor (which tags its run and frees dead
    # runs' slots): do both here, so a demo killed earlier does not keep its pool slots.
    reap_dead_runs(instance)
    tags = {**(step.tags or {}), WORKER_TAG: Worker.this_process().tag()}
    if step.job == "__ASSET_JOB":
        job = defs.resolve_implicit_global_asset_job_def()
        return job.execute_in_process(
            instance=instance,
            asset_selection=[dg.AssetKey(s) for s in step.selection or []],
            partition_key=step.partition_key,
            tags=tags,
            run_config=QUIET_RUN,
            raise_on_error=False,
        )
    return defs.resolve_job_def(step.job).execute_in_process(
        instance=instance,
        partition_key=step.partition_key,
        tags=tags,
        run_config=QUIET_RUN,
        raise_on_error=False,
    )


def run_demo(days: int = 7, today: date | None = None) -> int:
    started = time.monotonic()
    validate_env()  # a refused setting creates nothing (not even the instance's home)
    prepare_instance_home()
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        with sandboxes() as urls:
            return _run(started, urls, today or datetime.now(UTC).date())
    except KeyboardInterrupt:
        print("\ninterrupted: sandboxes stopped; run `make demo` again to finish (it resumes).")
        return 130


def run_ui(port: int = 3000) -> int:
    """``dagster dev`` on the demo's instance; the sandboxes serve the runs it launches."""
    import subprocess

    validate_env()
    home = prepare_instance_home()
    signal.signal(signal.SIGTERM, _raise_interrupt)
    with sandboxes() as urls:
        print(f"sandboxes: {', '.join(f'{k} {v}' for k, v in urls.items())}")
        print(f"Dagster UI on http://127.0.0.1:{port} (instance {home}); "
              "Ctrl-C stops it and the sandboxes.")
        command = [sys.executable, "-m", "dagster", "dev", "-w",
                   str(PROJECT_DIR / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(port)]
        process = subprocess.Popen(command, cwd=PROJECT_DIR)
        try:
            return process.wait()
        except KeyboardInterrupt:
            process.terminate()
            return process.wait()


def _raise_interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def _run(started: float, urls: dict[str, str], today: date) -> int:
    import dagster as dg

    for category in (dg.BetaWarning, dg.PreviewWarning, UserWarning, DeprecationWarning):
        warnings.filterwarnings("ignore", category=category)
    from elex_assets.core.registry import load_registry
    from elex_assets.definitions import get_defs
    from elex_assets.settings import SandboxSettings, Settings

    defs, settings = get_defs(), Settings.load()  # built now: the sandboxes are set
    election = load_registry(settings.election, settings.candidates_file).election
    instance = dg.DagsterInstance.get()
    week, steps = plan(defs, election, today)
    print(f"elex demo — election {settings.election}, week {week[0]} .. {week[-1]} and today")
    print(f"  sandboxes: {', '.join(f'{k} {v}' for k, v in urls.items())}")
    print(f"  lake: {settings.lake_url}   instance: {SandboxSettings.load().dagster_home}")
    results: dict[str, Any] = {}
    for index, step in enumerate(steps, 1):
        t0 = time.monotonic()
        result = execute(defs, instance, step)
        status = "ok" if result.success else "FAILED"
        _progress(index, len(steps), step.label, status, time.monotonic() - t0, started)
        if not result.success:
            print(f"\n{step.label} failed (run {result.run_id[:8]}): see `make ui` for its logs.")
            return 1
        results[step.label] = result
    print()
    return summarise(defs, instance, settings, week, results, started)


def _progress(index: int, total: int, label: str, status: str, took: float, started: float) -> None:
    line = f"[{index:>2}/{total}] {label:<44} {status:<6} {took:5.1f}s   elapsed {time.monotonic() - started:5.0f}s"
    end = "\n" if status != "ok" or index == total or not sys.stdout.isatty() else "\r"
    print(line, end=end, flush=True)


def summarise(
    defs: Any, instance: Any, settings: Any, week: list[date], results: dict[str, Any],
    started: float,
) -> int:
    from elex_assets.cli.check_summary import checks_summary
    from elex_assets.cli.demo_summary import posts_per_candidate, trends_leaders

    lake = settings.lake()
    total, per_candidate = posts_per_candidate(lake, week)
    print(f"Posts on X, {week[0]} .. {week[-1]}: {total} posts; posts naming each candidate:")
    for cid, n in per_candidate.items():
        print(f"  {cid:<16} {n:>7}")
    from elex_assets.cli.demo_summary import x_spend_since

    began = datetime.now(UTC) - timedelta(seconds=time.monotonic() - started)
    posts, recent, full, usd = x_spend_since(lake, began)
    print(f"X spend of this demo (sandbox, not billed): {posts} posts read, {recent + full} "
          f"counts requests; the demo (its week and today) would have cost ${usd:,.2f} live at the price "
          "settings (X_PRICE_*; docs/costs.md)")
    from elex_assets.cli.demo_summary import bsky_posts_per_candidate

    bsky_total, bsky_deleted, bsky_per = bsky_posts_per_candidate(lake, week)
    top = ", ".join(f"{cid} {n}" for cid, n in list(bsky_per.items())[:5])
    print(f"Posts on Bluesky, {week[0]} .. {week[-1]}: {bsky_total} posts "
          f"({bsky_deleted} deleted since, kept as tombstones); most named: {top}")
    from elex_assets.cli.demo_summary import wiki_views_per_candidate

    wiki_total, wiki_per, wiki_filled = wiki_views_per_candidate(lake, week)
    top = ", ".join(f"{cid} {n:,}" for cid, n in list(wiki_per.items())[:5])
    print(f"Wikipedia page views (fr + en, people), {week[0]} .. {week[-1]}: {wiki_total:,} "
          f"views; most viewed: {top} ({wiki_filled} article-days with no view, stored as 0)")
    for area, leaders in trends_leaders(lake, week).items():
        top = ", ".join(f"{cid} {value:.1f}" for cid, value in leaders[:5])
        print(f"Google Trends, top candidates ({area}, comparable scale): {top}")
    compliance = results.get("x_compliance (deletions on X)")
    if compliance is not None:
        cmeta = compliance.asset_materializations_for_node("x_compliance")[0].metadata
    if compliance is not None and "job_id" in cmeta:
        print(f"Compliance (X batch job {cmeta['job_id'].value}): {cmeta['submitted'].value} ids "
              f"checked, {cmeta['reported'].value} newly deleted on X, "
              f"{cmeta['rows_removed'].value} posts removed from the lake this run, "
              f"{cmeta['removed_in_log'].value} ids in the log (state/compliance/)")
    ok, text = checks_summary(instance, defs)
    print(text)
    dataset = results.get("kaggle_dataset")
    if dataset is not None:
        meta = dataset.asset_materializations_for_node("kaggle_dataset")[0].metadata
        charts = [lake.uri(f"kaggle/{k}") for k in meta if k.startswith("chart_")]
        print(f"Kaggle dataset folder: {lake.uri('kaggle/')} ({meta['files'].value} weekly files)")
        print(f"  chart: {', '.join(charts) or 'none'}")
        print(f"  publication: {meta['publication'].value}")
    print(f"done in {time.monotonic() - started:.0f}s. Open the UI on this instance: make ui "
          "(then http://127.0.0.1:3000)")
    return 0 if ok else 1
