"""The alert sensor end to end: a real Dagster instance, moto's SNS on loopback, an SQS inbox.

Time is moved, not waited for: Dagster's clock (event timestamps, the freshness
daemon) with ``freeze_time`` and the monitors' clock with monkeypatch. Freshness
states come from the freshness daemon's own evaluation over a workspace that
loads the stand-in Definitions, as in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import dagster as dg
import polars as pl
import pytest
from dagster._core.test_utils import freeze_time, in_process_test_workspace
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._daemon.freshness import FreshnessDaemon

from elex_assets.core.layout import clean_tweets_key
from elex_assets.core.schemas import TWEETS
from elex_assets.monitoring import clock
from elex_assets.monitoring.alerts import evaluate_alerts
from elex_assets_tests.monitoring import standins as monitoring_standins

STANDINS = Path(monitoring_standins.__file__)
T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)  # a campaign day of 2027
DAY = T0.date().isoformat()


@pytest.fixture
def lake_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    lake = tmp_path / "lake"
    lake.mkdir()
    monkeypatch.setenv("ELEX_LAKE_URL", str(lake))
    return lake


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    home = tmp_path / "dagster_home"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as inst:
        yield inst


@pytest.fixture
def inbox(aws_env: str, monkeypatch: pytest.MonkeyPatch) -> SqsInbox:
    """An SNS topic on moto with an SQS queue subscribed; alerts go to the topic."""
    sns = boto3.client("sns", endpoint_url=aws_env, region_name="us-east-1")
    sqs = boto3.client("sqs", endpoint_url=aws_env, region_name="us-east-1")
    topic = sns.create_topic(Name=f"elex-alerts-{id(monkeypatch)}")["TopicArn"]
    queue_url = sqs.create_queue(QueueName=f"elex-inbox-{id(monkeypatch)}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    monkeypatch.setenv("ELEX_ALERT_SNS_TOPIC_ARN", topic)
    monkeypatch.setenv("ELEX_UI_URL", "http://dagster.example:3000")
    return SqsInbox(sqs, queue_url)


class SqsInbox:
    def __init__(self, sqs, queue_url: str) -> None:
        self.sqs, self.queue_url = sqs, queue_url

    def read(self) -> list[dict[str, str]]:
        """Every message delivered so far (SNS envelope: Subject, Message)."""
        out = []
        while True:
            got = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", [])
            if not got:
                return out
            for m in got:
                out.append(json.loads(m["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])


class Harness:
    """The stand-in Definitions, an instance, and controlled time."""

    def __init__(
        self, instance: dg.DagsterInstance, lake: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        self.instance, self.lake, self.monkeypatch = instance, lake, monkeypatch
        self.defs = monitoring_standins.build_defs(str(lake))
        self.cursor: str | None = None

    @contextlib.contextmanager
    def at(self, moment: datetime) -> Iterator[None]:
        with freeze_time(moment), pytest.MonkeyPatch.context() as mp:
            mp.setattr(clock, "utc_now", lambda: moment)
            yield

    def materialize(self, moment: datetime, names: list[str], partition: str = DAY) -> None:
        """Materialise ``names`` for ``partition`` with their content checks, as a job would."""
        job = dg.define_asset_job("collect", selection=dg.AssetSelection.assets(*names))
        defs = dg.Definitions.merge(self.defs, dg.Definitions(jobs=[job]))
        with self.at(moment):
            result = defs.resolve_job_def("collect").execute_in_process(
                instance=self.instance, partition_key=partition
            )
        assert result.success

    def evaluate_freshness(self, moment: datetime) -> None:
        """What the freshness daemon does on a tick, over a workspace loading the stand-ins."""
        origin = LoadableTargetOrigin(python_file=str(STANDINS), attribute="defs")

        async def evaluate(context) -> None:
            daemon = FreshnessDaemon()
            await asyncio.gather(
                *(daemon._evaluate_asset(context, n) for n in context.asset_graph.asset_nodes)
            )

        with self.at(moment), in_process_test_workspace(self.instance, origin) as context:
            asyncio.run(evaluate(context))

    def tick(self, moment: datetime) -> str:
        self.evaluate_freshness(moment)
        with self.at(moment):
            context = dg.build_sensor_context(
                instance=self.instance, cursor=self.cursor, definitions=self.defs
            )
            skip = evaluate_alerts(context)
        self.cursor = context.cursor
        return skip.skip_message or ""

    def run_checks(self, moment: datetime) -> dg.ExecuteInProcessResult:
        with self.at(moment):
            job = self.defs.resolve_job_def("freshness_checks_job")
            return job.execute_in_process(instance=self.instance, resources=self.defs.resources)


@pytest.fixture
def harness(
    instance: dg.DagsterInstance, lake_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Harness:
    return Harness(instance, lake_dir, monkeypatch)


def problems(messages: list[dict[str, str]]) -> list[dict[str, str]]:
    return [m for m in messages if "PROBLEM" in m["Subject"]]


def test_stale_raw_tweets_alerts_once_then_recovers(harness: Harness, inbox: SqsInbox) -> None:
    harness.materialize(T0, ["raw_tweets"])
    harness.tick(T0 + timedelta(minutes=5))
    assert inbox.read() == []  # fresh: nothing to say

    harness.tick(T0 + timedelta(minutes=45))  # past the 30-minute fail window
    messages = inbox.read()
    assert len(messages) == 1
    assert "PROBLEM raw_tweets" in messages[0]["Subject"]
    assert "raw_tweets is stale" in messages[0]["Message"]
    assert "http://dagster.example:3000/assets/raw_tweets" in messages[0]["Message"]

    harness.tick(T0 + timedelta(minutes=50))  # same problem: nothing more
    assert inbox.read() == []

    harness.materialize(T0 + timedelta(minutes=55), ["raw_tweets"])
    harness.tick(T0 + timedelta(minutes=56))
    messages = inbox.read()
    assert len(messages) == 1
    assert "RECOVERED raw_tweets" in messages[0]["Subject"]
    harness.tick(T0 + timedelta(minutes=57))
    assert inbox.read() == []


def test_multi_day_silence_is_caught(harness: Harness, inbox: SqsInbox) -> None:
    # 3 days and 5 minutes: the original watcher's `timedelta.seconds` read 300 s.
    last = T0 - timedelta(days=3, minutes=5)
    harness.materialize(last, ["raw_tweets"], partition=last.date().isoformat())
    harness.run_checks(T0)
    harness.tick(T0)
    # (tweets and Trends, never materialised here, are reported too.)
    messages = [m for m in problems(inbox.read()) if "raw_tweets" in m["Subject"]]
    subjects = sorted(m["Subject"] for m in messages)
    assert subjects == [
        "[elex] PROBLEM raw_tweets: check partition_fresh",
        "[elex] PROBLEM raw_tweets: freshness",
    ]
    check = next(m for m in messages if "partition_fresh" in m["Subject"])
    assert f"partition {DAY} missing" in check["Message"]
    assert "3 d" in check["Message"]


def test_failing_content_check_alerts(harness: Harness, inbox: SqsInbox) -> None:
    frame = pl.DataFrame(
        {
            "id": ["1", "1"],
            "created_at": [T0, T0],
            "post_type": ["original", "original"],
            "candidates": [["philippe"], ["philippe"]],
            "collected_at": [T0, T0],
            "source": ["x_search_recent", "x_search_recent"],
        }
    )
    path = harness.lake / clean_tweets_key(T0.date())
    path.parent.mkdir(parents=True)
    TWEETS.conform(frame).write_parquet(path)
    harness.materialize(T0, ["raw_tweets", "tweets"])
    harness.tick(T0 + timedelta(minutes=1))
    messages = inbox.read()
    assert [m["Subject"] for m in messages] == [
        f"[elex] PROBLEM tweets [{DAY}]: check no_duplicate_ids"
    ]
    assert "1 duplicated id value(s): 1" in messages[0]["Message"]
    assert f"/assets/tweets?view=partitions&partition={DAY}" in messages[0]["Message"]

    TWEETS.conform(frame.head(1)).write_parquet(path)  # the day is re-collected, clean
    harness.materialize(T0 + timedelta(minutes=5), ["raw_tweets", "tweets"])
    harness.tick(T0 + timedelta(minutes=6))
    assert [m["Subject"] for m in inbox.read()] == [
        f"[elex] RECOVERED tweets [{DAY}]: check no_duplicate_ids"
    ]


def test_sns_unreachable_does_not_crash_and_alert_follows(
    harness: Harness, inbox: SqsInbox, monkeypatch: pytest.MonkeyPatch, aws_env: str
) -> None:
    harness.materialize(T0, ["raw_tweets"])
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    summary = harness.tick(T0 + timedelta(hours=1))
    assert "not delivered" in summary
    assert json.loads(harness.cursor)["open"]["freshness:raw_tweets"]["sent"] is False

    monkeypatch.setenv("AWS_ENDPOINT_URL", aws_env)  # SNS is back
    harness.tick(T0 + timedelta(hours=1, minutes=1))
    messages = inbox.read()
    assert [m["Subject"] for m in messages] == ["[elex] PROBLEM raw_tweets: freshness"]
    harness.tick(T0 + timedelta(hours=1, minutes=2))
    assert inbox.read() == []


def test_failed_run_alerts_once(harness: Harness, inbox: SqsInbox) -> None:
    @dg.op
    def boom() -> None:
        raise RuntimeError("collector exploded")

    @dg.job
    def collect_job() -> None:
        boom()

    with harness.at(T0):
        result = collect_job.execute_in_process(instance=harness.instance, raise_on_error=False)
    assert not result.success
    harness.tick(T0 + timedelta(minutes=1))
    harness.tick(T0 + timedelta(minutes=2))
    messages = inbox.read()
    assert [m["Subject"] for m in messages] == ["[elex] PROBLEM elex: run"]
    assert f"/runs/{result.run_id}" in messages[0]["Message"]


def test_trends_alerts_say_blocked_until_during_a_cooldown(harness: Harness, inbox) -> None:
    """A Trends cool-down in the lake: the Trends alerts lead with when it ends."""
    from elex_assets.core.trends.state import COOLDOWN_KEY, Cooldown

    until = T0 + timedelta(hours=3)  # active at T0, the monitors' (and the test's) now
    cooldown = Cooldown(until=until, refusals=3, since=T0 - timedelta(hours=2))
    (harness.lake / COOLDOWN_KEY).parent.mkdir(parents=True, exist_ok=True)
    (harness.lake / COOLDOWN_KEY).write_text(json.dumps(cooldown.to_json()))
    harness.run_checks(T0)
    harness.tick(T0)
    messages = problems(inbox.read())
    trends = [m for m in messages if "trends_" in m["Subject"]]
    others = [m for m in messages if "trends_" not in m["Subject"]]
    assert trends and others
    # refused since 07:00, blocked until 12:00 the same day: the times need no date
    note = (f"Google Trends blocked until {until:%H:%M} UTC "
            f"(3 refusals since {cooldown.since:%H:%M})")
    assert all(note in m["Message"] for m in trends), trends[0]["Message"]
    assert not any("Google Trends blocked" in m["Message"] for m in others)
