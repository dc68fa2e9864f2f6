"""Alert messages and the cursor book, with a recording publisher."""

from __future__ import annotations

from datetime import UTC, datetime

from elex_assets.core.alerts import AlertBook, AlertError, Message, Problem, problem_message

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
STALE = Problem(
    key="freshness:raw_tweets",
    kind="freshness",
    asset="raw_tweets",
    partition=None,
    since=NOW,
    detail="raw_tweets is stale",
)


class Recorder:
    channel = "test"

    def __init__(self, fail: bool = False) -> None:
        self.sent: list[Message] = []
        self.fail = fail

    def publish(self, message: Message) -> None:
        if self.fail:
            raise AlertError("down")
        self.sent.append(message)


def test_message_names_asset_partition_since_and_link() -> None:
    problem = Problem("k", "check posts_present", "tweets", "2026-11-27", NOW, "zero posts")
    message = problem_message(problem, "https://dagster.example/")
    assert message.subject == "[elex] PROBLEM tweets [2026-11-27]: check posts_present"
    assert "since 2026-11-27 12:00 UTC" in message.body
    assert (
        "https://dagster.example/assets/tweets?view=partitions&partition=2026-11-27" in message.body
    )


def test_book_announces_once_recovers_once_and_survives_the_cursor() -> None:
    out = Recorder()
    book = AlertBook()
    assert len(book.reconcile({STALE.key: STALE}, out, NOW, None).sent) == 1
    book = AlertBook.from_cursor(book.to_cursor())
    assert book.reconcile({STALE.key: STALE}, out, NOW, None).sent == []
    report = book.reconcile({}, out, NOW, None)
    assert [m.subject for m in report.sent] == ["[elex] RECOVERED raw_tweets: freshness"]
    assert AlertBook.from_cursor(book.to_cursor()).reconcile({}, out, NOW, None).sent == []


def test_undelivered_alerts_wait_for_the_channel() -> None:
    book = AlertBook()
    report = book.reconcile({STALE.key: STALE}, Recorder(fail=True), NOW, None)
    assert report.errors == ["down"] and report.unsent == 1
    out = Recorder()
    assert len(book.reconcile({STALE.key: STALE}, out, NOW, None).sent) == 1


def test_problem_cleared_before_delivery_is_not_announced() -> None:
    book = AlertBook()
    book.reconcile({STALE.key: STALE}, Recorder(fail=True), NOW, None)
    out = Recorder()
    book.reconcile({}, out, NOW, None)
    assert out.sent == []


def test_unreadable_cursor_starts_afresh() -> None:
    assert AlertBook.from_cursor("{not json").open == {}


def test_sms_and_topic_publish_to_sns_on_loopback(aws_env: str) -> None:
    import boto3

    from elex_assets.core.alerts import SnsPublisher

    topic = boto3.client("sns", region_name="us-east-1").create_topic(Name="elex-sms-test")
    message = problem_message(STALE, None)
    SnsPublisher(phone_number="+33612345678").publish(message)
    SnsPublisher(topic_arn=topic["TopicArn"]).publish(message)


def test_unreachable_sns_raises_alert_error_without_the_number(aws_env: str, monkeypatch) -> None:
    import pytest

    from elex_assets.core.alerts import SnsPublisher

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    with pytest.raises(AlertError) as err:
        SnsPublisher(phone_number="+33612345678").publish(problem_message(STALE, None))
    assert "+336" not in str(err.value)
    assert "sms" in str(err.value)
