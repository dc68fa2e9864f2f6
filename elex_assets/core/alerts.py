"""Alert messages and where they go: SNS topic, SMS, or the log only. No Dagster.

The original system texted the owner from a Lambda; elex keeps the same two
channels (an SNS topic ARN, or a phone number for direct SMS) and adds a
recovery message, so a night of alerts ends with "it is fine again".
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import quote

logger = logging.getLogger(__name__)

SUBJECT_MAX = 100  # SNS rejects longer subjects
SMS_MAX = 300  # keep texts to a couple of segments


@dataclass(frozen=True)
class Problem:
    """One thing wrong, identified by ``key`` so it is announced once and cleared once."""

    key: str
    kind: str  # freshness | check | run
    asset: str | None
    partition: str | None
    since: datetime
    detail: str
    link: str | None = None  # path in the Dagster UI, e.g. /assets/raw_tweets

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind,
            "asset": self.asset,
            "partition": self.partition,
            "since": self.since.isoformat(),
            "detail": self.detail,
            "link": self.link,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Problem:
        return cls(
            key=raw["key"],
            kind=raw["kind"],
            asset=raw.get("asset"),
            partition=raw.get("partition"),
            since=datetime.fromisoformat(raw["since"]),
            detail=raw.get("detail", ""),
            link=raw.get("link"),
        )


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


def asset_path(asset: str, partition: str | None = None) -> str:
    """Path of an asset's page in the Dagster UI (its partition view when known)."""
    path = f"/assets/{'/'.join(quote(p) for p in asset.split('/'))}"
    if partition:
        path += f"?view=partitions&partition={quote(partition)}"
    return path


def ui_link(ui_url: str | None, problem: Problem) -> str | None:
    if not ui_url:
        return None
    path = problem.link or (asset_path(problem.asset, problem.partition) if problem.asset else "")
    return f"{ui_url.rstrip('/')}{path}"


def _where(problem: Problem) -> str:
    where = problem.asset or "elex"
    return f"{where} [{problem.partition}]" if problem.partition else where


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def problem_message(problem: Problem, ui_url: str | None) -> Message:
    subject = f"[elex] PROBLEM {_where(problem)}: {problem.kind}"
    lines = [
        f"Problem on {_where(problem)} ({problem.kind}) since {_stamp(problem.since)}.",
        problem.detail,
    ]
    url = ui_link(ui_url, problem)
    if url:
        lines.append(url)
    return Message(subject[:SUBJECT_MAX], "\n".join(line for line in lines if line))


def recovery_message(problem: Problem, cleared_at: datetime, ui_url: str | None) -> Message:
    subject = f"[elex] RECOVERED {_where(problem)}: {problem.kind}"
    lines = [
        f"Recovered: {_where(problem)} ({problem.kind}) is fine again at {_stamp(cleared_at)}; "
        f"the problem started {_stamp(problem.since)}.",
        f"Was: {problem.detail}" if problem.detail else "",
    ]
    url = ui_link(ui_url, problem)
    if url:
        lines.append(url)
    return Message(subject[:SUBJECT_MAX], "\n".join(line for line in lines if line))


class AlertError(RuntimeError):
    """A channel could not deliver a message (the caller retries later)."""


class Publisher(Protocol):
    channel: str

    def publish(self, message: Message) -> None: ...


class LogPublisher:
    """No channel configured: the alert is logged (and shown in the UI by Dagster)."""

    channel = "log"

    def publish(self, message: Message) -> None:
        logger.warning("%s\n%s", message.subject, message.body)


class SnsPublisher:
    """Publishes to an SNS topic, or as a direct SMS to one phone number.

    ``AWS_ENDPOINT_URL`` (moto on loopback in tests) and the usual AWS credential
    chain are honoured by boto3. Timeouts are short so that an unreachable SNS
    cannot hold a sensor tick; the error becomes an :class:`AlertError`.
    """

    def __init__(
        self,
        topic_arn: str | None = None,
        phone_number: str | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
    ) -> None:
        if not topic_arn and not phone_number:
            raise ValueError("SnsPublisher needs a topic ARN or a phone number")
        self.topic_arn = topic_arn
        self.phone_number = phone_number
        self.region = region
        self.endpoint_url = endpoint_url
        self.channel = "sns-topic" if topic_arn else "sms"

    def _client(self) -> Any:
        import boto3
        from botocore.config import Config

        region = self.region or (self.topic_arn.split(":")[3] if self.topic_arn else None)
        config = Config(
            connect_timeout=3, read_timeout=5, retries={"max_attempts": 2, "mode": "standard"}
        )
        return boto3.client(
            "sns", region_name=region or "us-east-1", endpoint_url=self.endpoint_url, config=config
        )

    def publish(self, message: Message) -> None:
        try:
            client = self._client()
            if self.topic_arn:
                client.publish(
                    TopicArn=self.topic_arn, Subject=message.subject, Message=message.body
                )
            else:
                text = f"{message.subject}\n{message.body}"[:SMS_MAX]
                client.publish(PhoneNumber=self.phone_number, Message=text)
        except Exception as exc:  # botocore raises many unrelated classes
            # The error names the channel kind only: never the number or the ARN's account.
            raise AlertError(f"SNS publish ({self.channel}) failed: {type(exc).__name__}") from exc


@dataclass(frozen=True)
class AlertSettings:
    """Where alerts go; ``settings.alert_settings()`` fills it from the environment."""

    topic_arn: str | None
    phone_number: str | None
    ui_url: str | None
    region: str | None

    def publisher(self) -> Publisher:
        if self.topic_arn or self.phone_number:
            return SnsPublisher(self.topic_arn, self.phone_number, region=self.region)
        return LogPublisher()


@dataclass
class TickReport:
    """What one evaluation did: for the sensor's log line and for tests."""

    sent: list[Message]
    errors: list[str]
    open: int
    unsent: int


class AlertBook:
    """Problems already known, as kept in the sensor's cursor (JSON).

    ``open``: problem key -> the problem and whether its alert went out;
    ``recovering``: cleared problems whose recovery message is still to be sent;
    ``runs_after``: timestamp up to which failed runs were read.
    """

    VERSION = 1

    def __init__(
        self,
        open_: dict[str, tuple[Problem, bool]] | None = None,
        recovering: dict[str, tuple[Problem, datetime]] | None = None,
        runs_after: float | None = None,
    ) -> None:
        self.open = open_ or {}
        self.recovering = recovering or {}
        self.runs_after = runs_after

    @classmethod
    def from_cursor(cls, cursor: str | None) -> AlertBook:
        if not cursor:
            return cls()
        try:
            raw = json.loads(cursor)
            if raw.get("v") != cls.VERSION:
                raise ValueError(f"cursor version {raw.get('v')!r}")
            return cls(
                {
                    k: (Problem.from_dict(v["problem"]), bool(v["sent"]))
                    for k, v in raw["open"].items()
                },
                {
                    k: (Problem.from_dict(v["problem"]), datetime.fromisoformat(v["cleared_at"]))
                    for k, v in raw["recovering"].items()
                },
                raw.get("runs_after"),
            )
        except (ValueError, KeyError, TypeError) as exc:
            # A cursor from an older layout must not stop alerting: start afresh.
            logger.warning("alert cursor unreadable (%s); starting with no known problem", exc)
            return cls()

    def to_cursor(self) -> str:
        return json.dumps(
            {
                "v": self.VERSION,
                "open": {
                    k: {"problem": p.to_dict(), "sent": sent} for k, (p, sent) in self.open.items()
                },
                "recovering": {
                    k: {"problem": p.to_dict(), "cleared_at": at.isoformat()}
                    for k, (p, at) in self.recovering.items()
                },
                "runs_after": self.runs_after,
            },
            sort_keys=True,
        )

    def reconcile(
        self,
        current: dict[str, Problem],
        publisher: Publisher,
        now: datetime,
        ui_url: str | None,
    ) -> TickReport:
        """Announce new problems once, recoveries once; keep undelivered ones for next tick."""
        for key, problem in current.items():
            if key in self.open:
                continue
            if key in self.recovering:
                # Back before its recovery went out: the owner still believes it is broken.
                self.open[key] = (self.recovering.pop(key)[0], True)
            else:
                self.open[key] = (problem, False)
        for key in [k for k in self.open if k not in current]:
            problem, sent = self.open.pop(key)
            if sent:
                self.recovering[key] = (problem, now)
            # Never announced: it cleared before the owner heard of it; say nothing.

        report = TickReport(sent=[], errors=[], open=len(self.open), unsent=0)
        pending: list[tuple[str, Message, bool]] = [
            (k, problem_message(p, ui_url), True) for k, (p, sent) in self.open.items() if not sent
        ] + [(k, recovery_message(p, at, ui_url), False) for k, (p, at) in self.recovering.items()]
        for index, (key, message, is_problem) in enumerate(pending):
            try:
                publisher.publish(message)
            except AlertError as exc:
                # Keep it (and the rest) for the next tick; one failure means the channel is down.
                logger.error("alert not delivered, will retry next tick: %s", exc)
                report.errors.append(str(exc))
                report.unsent = len(pending) - index
                break
            report.sent.append(message)
            if is_problem:
                self.open[key] = (self.open[key][0], True)
            else:
                del self.recovering[key]
        return report
