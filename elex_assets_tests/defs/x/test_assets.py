"""raw_tweets and tweets as Dagster assets against the sandbox X API (real HTTP)."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from elex_assets.core import layout
from elex_assets.core.lake import Lake
from elex_assets.core.registry import load_registry
from elex_assets.core.x.collect import raw_keys
from elex_assets.core.x.normalise import normalise_day
from elex_assets.defs.x.assets import x_assets_for
from elex_assets.defs.x.automation import build_x_automation
from elex_assets.defs.x.resources import XResource
from elex_assets.resources import LakeResource, RegistryResource
from elex_assets.sandbox.x_server import XSandbox

ELECTION = load_registry("2022").election
RAW, TWEETS_ASSET = x_assets_for(ELECTION)


def resources(lake_dir: Path, base_url: str, **x: object) -> dict:
    return {
        "lake": LakeResource(url=str(lake_dir)),
        "registry": RegistryResource(election="2022"),
        "x": XResource(base_url=base_url, endpoint="all", backoff_base=0.01, **x),
    }


def test_a_backfill_of_several_days(x_sandbox: XSandbox, tmp_path: Path) -> None:
    instance = dg.DagsterInstance.ephemeral()
    days = ["2022-04-08", "2022-04-09", "2022-04-10"]
    for day in days:
        result = dg.materialize([RAW, TWEETS_ASSET], partition_key=day, instance=instance,
                                resources=resources(tmp_path, x_sandbox.base_url))
        assert result.success
        raw_meta = result.asset_materializations_for_node("raw_tweets")[0].metadata
        meta = result.asset_materializations_for_node("tweets")[0].metadata
        assert raw_meta["mode"].value == "refresh"
        assert raw_meta["posts_read_run"].value > 0
        assert raw_meta["posts_read_month"].value >= raw_meta["posts_read_run"].value
        assert meta["rows"].value > 0
        per = meta["posts_per_candidate_json"].value
        assert per["macron"] > 0 and "taubira" not in per  # withdrawn: not collected
        assert "| candidate | posts |" in meta["posts_per_candidate"].value
        table = pl.read_parquet(tmp_path / layout.clean_tweets_key(datetime.fromisoformat(
            day).date()))
        assert table["id"].n_unique() == table.height == meta["rows"].value
        assert table["created_at"].dt.date().cast(str).unique().to_list() == [day]
    # election day is busier than the day before (spikes)
    sizes = [len(pl.read_parquet(tmp_path / f"clean/tweets/date={d}/part-0.parquet"))
             for d in days]
    assert sizes[2] > 2 * sizes[0]
    status = instance.get_status_by_partition(
        dg.AssetKey("tweets"), days, RAW.partitions_def
    ) if hasattr(instance, "get_status_by_partition") else None
    assert status is None or all(status.values())


def test_without_token_outside_the_sandbox_the_asset_fails_at_once(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(Exception, match="X_BEARER_TOKEN is not set"):
        dg.materialize([RAW], partition_key="2022-04-09",
                       resources=resources(tmp_path, "https://api.twitter.com"))
    assert time.monotonic() - started < 30
    assert not (tmp_path / "raw").exists()


def test_a_wrong_token_fails_clearly_and_is_not_shown(tmp_path: Path) -> None:
    with XSandbox(election="2022", token="right-token") as sandbox:
        result = dg.materialize(
            [RAW], partition_key="2022-04-09", raise_on_error=False,
            resources=resources(tmp_path, sandbox.base_url, bearer_token="WRONG-secret-42"),
        )
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error
    assert "XAuthError: X API refused the request (HTTP 401: Unauthorized)" in failure.to_string()
    assert "check X_BEARER_TOKEN" in failure.to_string()
    assert "WRONG-secret-42" not in failure.to_string()


def test_the_schedule_refreshes_today_and_skips_while_a_refresh_runs(
    tmp_path: Path, fixed_now: datetime
) -> None:
    election = load_registry("2027").election
    raw, tweets = x_assets_for(election)
    jobs, schedules, _ = build_x_automation(raw, tweets)
    schedule = schedules[0]
    assert schedule.cron_schedule == "*/5 * * * *"
    with dg.instance_for_test() as instance:
        now = fixed_now.replace(hour=12, minute=5)
        lake = {"lake": LakeResource(url=str(tmp_path))}
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=now,
                                            resources=lake)
        requests = schedule(context)
        assert [r.partition_key for r in requests] == [now.date().isoformat()]
        midnight = now.replace(hour=0, minute=5)
        # Through evaluate_tick, as the daemon does: two requests need a run_key each.
        repository = dg.Definitions(
            assets=[raw, tweets], jobs=jobs, schedules=schedules,
            resources=resources(tmp_path, "http://127.0.0.1:9"),
        ).get_repository_def()
        requests = schedule.evaluate_tick(
            dg.build_schedule_context(
                instance=instance, scheduled_execution_time=midnight,
                repository_def=repository, resources=lake,
            )
        ).run_requests
        assert [r.partition_key for r in requests] == [
            (now.date() - timedelta(days=1)).isoformat(), now.date().isoformat()]
        assert requests[0].run_config["ops"]["raw_tweets"]["config"]["mode"] == "fill"
        instance.add_run(dg.DagsterRun(job_name="x_refresh_job", status=dg.DagsterRunStatus.STARTED))
        skipped = schedule(context)
        assert isinstance(skipped, dg.SkipReason) and "in progress" in skipped.skip_message


def test_the_stream_lands_raw_files_and_the_sensor_refreshes_their_day(
    tmp_path: Path, fixed_now: datetime
) -> None:
    election = load_registry("2022")
    raw, tweets = x_assets_for(election.election)
    jobs, _, sensors = build_x_automation(raw, tweets)
    stream_job = next(j for j in jobs if getattr(j, "name", "") == "x_stream_job")
    with XSandbox(election="2022", posts_per_day=3_000_000, stream_interval=0.1) as sandbox:
        res = resources(tmp_path, sandbox.base_url)
        result = stream_job.execute_in_process(
            run_config={"ops": {"x_stream": {"config": {"duration_seconds": 1.5,
                                                        "flush_seconds": 0.5}}}},
            resources=res,
        )
        assert result.success
        assert sandbox.rules  # one rule per query
    lake = Lake.from_url(str(tmp_path))
    today = fixed_now.date()
    keys = raw_keys(lake, today)
    assert keys and all(k.endswith("-stream.jsonl.gz") for k in keys)
    lines = [json.loads(x) for k in keys for x in gzip.decompress(lake.read_bytes(k)).splitlines()]
    assert lines and all(line["endpoint"] == "stream" for line in lines)
    normalise_day(lake, keys, election.candidates, today, layout.clean_tweets_key(today))
    table = lake.read_parquet(layout.clean_tweets_key(today))
    assert table.height == len({line["response"]["data"][0]["id"] for line in lines})
    assert set(table["source"]) == {"x_stream"}
    # A post names a candidate, or X matched it on a referenced post it could not deliver
    # (deleted since: reported in the line's partial errors), so no text names one here.
    undelivered = {
        error.get("resource_id") or error.get("value")
        for line in lines for error in line["response"].get("errors", [])
    }
    unnamed = table.filter(pl.col("candidates").list.len() == 0)
    for row in unnamed.iter_rows(named=True):
        line = next(x["response"] for x in lines if x["response"]["data"][0]["id"] == row["id"])
        refs = {ref["id"] for ref in line["data"][0].get("referenced_tweets", [])}
        assert refs & undelivered, f"post {row['id']} names no candidate: {row['text']!r}"
    assert unnamed.height < table.height
    sensor = sensors[0]
    with dg.build_sensor_context(resources={"lake": LakeResource(url=str(tmp_path))}) as ctx:
        requests = sensor(ctx)
        assert [r.partition_key for r in requests] == [today.isoformat()]
        ctx.update_cursor(ctx.cursor)
        assert isinstance(sensor(ctx), dg.SkipReason)


def test_the_accounting_check_passes_on_a_sandbox_day(x_sandbox: XSandbox, tmp_path: Path) -> None:
    from elex_assets.defs.x.checks import build_accounting_checks

    checks = build_accounting_checks([RAW, TWEETS_ASSET])
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([RAW, TWEETS_ASSET, *checks], partition_key="2022-04-09",
                            instance=instance, resources=resources(tmp_path, x_sandbox.base_url))
    assert result.success
    meta = result.asset_materializations_for_node("tweets")[0].metadata
    evaluation = {e.check_name: e for e in result.get_asset_check_evaluations()}["tweets_accounted"]
    assert evaluation.passed, evaluation.description
    assert meta["raw_unique_posts"].value == meta["rows"].value + meta["dropped_total"].value
    assert meta["created_at_from_id"].value == 0  # the sandbox sends created_at
    # Long posts: the full text from note_tweet, flagged; edits kept.
    table = pl.read_parquet(tmp_path / "clean/tweets/date=2022-04-09/part-0.parquet")
    long_posts = table.filter(pl.col("text_from_note_tweet"))
    assert long_posts.height == meta["text_from_note_tweet"].value > 0
    assert long_posts["text"].str.len_chars().min() > 280
    assert table["edit_history_tweet_ids"].list.first().to_list() == table["id"].to_list()
    # X's partial errors beside the data: counted by type, in the metadata and the log.
    errors = meta["x_partial_errors_by_type"].value
    assert errors.get("resource-not-found", 0) > 0
    logged = [e.user_message for e in instance.all_logs(result.run_id)]
    assert any("partial errors" in m and "resource-not-found" in m for m in logged)


def test_a_dollar_ceiling_fails_the_run_once_without_retry(
    x_sandbox: XSandbox, tmp_path: Path, fixed_now: datetime
) -> None:
    # "now" is fixed mid-day: at the wall clock, a midnight (or a month's end) between the
    # two runs gave the second a fresh day under its ceiling, and it collected.
    # One instance, closed at the end: two implicit ephemeral instances made this test
    # flaky ("undefined DagsterInstance weakref" between the two runs).
    with dg.instance_for_test() as instance:
        first = dg.materialize([RAW], partition_key="2022-04-08", instance=instance,
                               resources=resources(tmp_path, x_sandbox.base_url,
                                                   max_usd_per_day=0, max_usd_per_month=0))
        meta = first.asset_materializations_for_node("raw_tweets")[0].metadata
        cost = meta["spend_run_usd"].value
        assert cost == pytest.approx(x_sandbox.served["posts_read"] * 0.005) and cost > 0
        assert meta["spend_today_usd"].value == pytest.approx(cost)
        served = len(x_sandbox.search_requests())
        second = dg.materialize([RAW], partition_key="2022-04-09", raise_on_error=False,
                                instance=instance,
                                resources=resources(tmp_path, x_sandbox.base_url,
                                                    max_usd_per_day=cost + 0.02))
    assert not second.success
    assert len(x_sandbox.search_requests()) == served
    failure = next(e for e in second.all_events if e.event_type_value == "STEP_FAILURE")
    text = failure.step_failure_data.error.to_string()
    assert "X_MAX_USD_PER_DAY=" in text and "resets at" in text
    assert failure.step_failure_data.user_failure_data.metadata["spend_today_usd"].value == \
        pytest.approx(cost)


def test_tweet_counts_for_a_week_and_its_kaggle_export(x_sandbox: XSandbox, tmp_path: Path) -> None:
    import gzip

    from elex_assets.core.schemas import TWEET_COUNTS
    from elex_assets.defs.kaggle.assets import kaggle_export_assets
    from elex_assets.defs.kaggle.resources import KaggleResource
    from elex_assets.defs.x.counts import tweet_counts_for

    counts = tweet_counts_for(ELECTION)
    export = next(a for a in kaggle_export_assets(ELECTION)
                  if a.key.to_user_string() == "kaggle_tweet_counts")
    res = {**resources(tmp_path, x_sandbox.base_url, max_usd_per_day=0, max_usd_per_month=0),
           "kaggle": KaggleResource()}
    instance = dg.DagsterInstance.ephemeral()
    days = [f"2022-04-{d:02d}" for d in range(4, 11)]
    for day in days:
        result = dg.materialize([counts], partition_key=day, instance=instance, resources=res)
        meta = result.asset_materializations_for_node("tweet_counts")[0].metadata
        assert meta["endpoint"].value == "all" and meta["posts_all_candidates"].value > 0
        table = pl.read_parquet(tmp_path / f"clean/tweet_counts/date={day}/part-0.parquet")
        assert table.schema == TWEET_COUNTS.polars
        assert table.filter(pl.col("candidate_id") == "_all").height == 24
    assert meta["spend_run_usd"].value == pytest.approx(meta["counts_requests"].value * 0.01)
    result = dg.materialize([export], partition_key="2022-04-04", instance=instance,
                            resources=res, selection=[export])
    assert result.success
    path = tmp_path / "kaggle/2022/tweet_counts/2022_14.csv.gz"
    with gzip.open(path, "rt") as handle:
        header = handle.readline().strip().split(",")
        rows = handle.readlines()
    assert header == ["hour", "candidate_id", "post_count", "endpoint", "collected_at"]
    assert len(rows) == sum(
        pl.read_parquet(tmp_path / f"clean/tweet_counts/date={d}/part-0.parquet").height
        for d in days)


def test_the_counts_schedule_refreshes_today_every_hour(fixed_now: datetime) -> None:
    from elex_assets.defs.x.counts import build_counts_automation, tweet_counts_for

    job, schedule = build_counts_automation(tweet_counts_for(load_registry("2027").election))
    assert schedule.cron_schedule == "2 * * * *" and job.name == "x_counts_job"
    with dg.instance_for_test() as instance:
        noon = fixed_now.replace(hour=12, minute=2)
        requests = schedule(dg.build_schedule_context(instance=instance,
                                                      scheduled_execution_time=noon))
        assert [r.partition_key for r in requests] == [noon.date().isoformat()]
        just_after_midnight = noon.replace(hour=0)
        requests = schedule(dg.build_schedule_context(
            instance=instance, scheduled_execution_time=just_after_midnight))
        assert [r.partition_key for r in requests] == [
            noon.date().isoformat(), (noon.date() - timedelta(days=1)).isoformat()]


def _expected_days(now: datetime, grace: timedelta) -> list[str]:
    """Today, and yesterday within ``grace`` after midnight, kept if a campaign day."""
    election = load_registry("2027").election
    days = [now.date()]
    if now - now.replace(hour=0, minute=0, second=0, microsecond=0) < grace:
        days.append(now.date() - timedelta(days=1))
    return sorted(d.isoformat() for d in days
                  if election.campaign_start <= d <= election.campaign_end)


@pytest.fixture(scope="module")
def schedules_2027(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    """The X refresh and counts schedules of 2027, an instance and a lake (built once)."""
    from elex_assets.defs.x.counts import build_counts_automation, tweet_counts_for

    election = load_registry("2027").election
    raw, tweets = x_assets_for(election)
    _, (refresh,), _ = build_x_automation(raw, tweets)
    _, counts = build_counts_automation(tweet_counts_for(election))
    lake = {"lake": LakeResource(url=str(tmp_path_factory.mktemp("lake")))}
    with dg.instance_for_test() as instance:
        yield ((refresh, timedelta(minutes=15)), (counts, timedelta(hours=1))), instance, lake


def test_the_x_schedules_ask_for_the_days_of_their_tick(
    schedules_2027: tuple, calendar_now: datetime
) -> None:
    """At each awkward instant (midnight, ISO week 53, Paris's change of hour, the eve of
    the round, the day before the campaign) a tick asks for its UTC day(s), or skips."""
    pairs, instance, lake = schedules_2027
    for schedule, grace in pairs:
        context = dg.build_schedule_context(
            instance=instance, scheduled_execution_time=calendar_now, resources=lake)
        answer = schedule(context)
        expected = _expected_days(calendar_now, grace)
        if not expected:
            assert isinstance(answer, dg.SkipReason), answer
            assert answer.skip_message == (
                f"{calendar_now.date()} is outside the election's partitions")
        else:
            assert sorted(str(r.partition_key) for r in answer) == expected
