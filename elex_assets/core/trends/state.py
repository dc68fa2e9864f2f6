"""Google Trends' state shared by every process, kept in the lake.

* **Cool-down** (``state/trends_cooldown.json``): Google refusing this client
  (429, or a redirect to its ``/sorry/`` captcha page) is a state, not an
  error to retry. Each refusal in a row sets a cool-down that grows with
  jitter, from minutes towards hours; a success ends the series. While it
  runs, no request is sent, by any process: a run ends at once and says
  until when.
* **Last request** (``state/trends_last_request.json``): the minimum interval
  between two requests holds across processes, not only within one.

The lake may be a local folder or S3: one small JSON object each, rewritten
whole (a crash leaves the old or the new version).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from elex_assets.core.lake import Lake, LakeError
from elex_assets.core.trends.errors import TrendsBlocked

COOLDOWN_KEY = "state/trends_cooldown.json"
LAST_REQUEST_KEY = "state/trends_last_request.json"
SOURCES = ("trends", "trends_official")  # the web API and the official API: separate states


def state_keys(source: str) -> tuple[str, str]:
    """The cool-down and last-request keys of ``trends`` (web) or ``trends_official``."""
    if source not in SOURCES:
        raise ValueError(f"unknown Trends source {source!r}; expected one of {SOURCES}")
    return f"state/{source}_cooldown.json", f"state/{source}_last_request.json"


@dataclass(frozen=True)
class Cooldown:
    """Google refused us ``refusals`` times in a row since ``since``; wait until ``until``."""

    until: datetime
    refusals: int
    since: datetime
    reason: str = ""

    def active(self, now: datetime) -> bool:
        return now < self.until

    def message(self) -> str:
        """The one line a run prints when it stops for the cool-down."""
        until = f"{self.until:%H:%M} UTC"
        since = f"{self.since:%H:%M}"
        if self.until.date() != self.since.date():
            until = f"{self.until:%Y-%m-%d %H:%M} UTC"
            since = f"{self.since:%Y-%m-%d %H:%M}"
        plural = "refusal" if self.refusals == 1 else "refusals"
        return (
            f"Google Trends is refusing this client until {until} "
            f"({self.refusals} {plural} since {since}); nothing requested"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "until": self.until.isoformat(),
            "refusals": self.refusals,
            "since": self.since.isoformat(),
            "reason": self.reason,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Cooldown:
        return cls(
            until=datetime.fromisoformat(data["until"]).astimezone(UTC),
            refusals=int(data["refusals"]),
            since=datetime.fromisoformat(data["since"]).astimezone(UTC),
            reason=str(data.get("reason", "")),
        )


@dataclass(frozen=True)
class CooldownPolicy:
    """Cool-down length after the n-th refusal in a row: base * 2**(n-1), capped, jittered."""

    base: timedelta = timedelta(minutes=15)
    maximum: timedelta = timedelta(hours=6)

    def __post_init__(self) -> None:
        if self.base <= timedelta(0) or self.maximum < self.base:
            raise ValueError("the Trends cool-down must be positive and its maximum >= its base")

    def length(self, refusals: int, rng: random.Random) -> timedelta:
        ceiling = min(self.maximum, self.base * 2 ** min(refusals - 1, 30))
        return ceiling * (0.75 + 0.25 * rng.random())


@dataclass
class TrendsGate:
    """The lake-backed gate every Trends request passes: cool-down, shared interval."""

    lake: Lake
    policy: CooldownPolicy = field(default_factory=CooldownPolicy)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    rng: random.Random = field(default_factory=random.Random)
    source: str = "trends"  # "trends_official": the official API's own cool-down and interval

    def __post_init__(self) -> None:
        self.cooldown_key, self.last_request_key = state_keys(self.source)

    # -- cool-down ------------------------------------------------------------
    def cooldown(self) -> Cooldown | None:
        """The recorded refusal series, running or over (None once a success reset it)."""
        try:
            raw = self.lake.read_bytes(self.cooldown_key)
        except LakeError:
            return None
        try:
            return Cooldown.from_json(json.loads(raw))
        except (ValueError, KeyError, TypeError):
            return None  # an unreadable state must not block collection for ever

    def active_cooldown(self) -> Cooldown | None:
        cooldown = self.cooldown()
        return cooldown if cooldown is not None and cooldown.active(self.clock()) else None

    def check(self) -> None:
        """Raise :class:`TrendsBlocked` (no request sent) while a cool-down runs."""
        cooldown = self.active_cooldown()
        if cooldown is not None:
            raise TrendsBlocked(cooldown.message())

    def refused(self, reason: str) -> Cooldown:
        """Google refused a request: start (or extend) the cool-down and return it."""
        now = self.clock()
        previous = self.cooldown()
        refusals = (previous.refusals if previous else 0) + 1
        since = previous.since if previous else now
        cooldown = Cooldown(
            until=now + self.policy.length(refusals, self.rng),
            refusals=refusals,
            since=since,
            reason=reason,
        )
        self.lake.write_bytes(self.cooldown_key, json.dumps(cooldown.to_json()).encode())
        return cooldown

    def succeeded(self) -> None:
        """A useful answer ends the refusal series."""
        if self.lake.exists(self.cooldown_key):
            self.lake.delete(self.cooldown_key)

    # -- shared minimum interval ---------------------------------------------
    def last_request(self) -> datetime | None:
        try:
            data = json.loads(self.lake.read_bytes(self.last_request_key))
            return datetime.fromisoformat(data["at"]).astimezone(UTC)
        except (LakeError, ValueError, KeyError, TypeError):
            return None

    def wait_turn(self, interval: float, sleep: Callable[[float], None] = time.sleep) -> float:
        """Wait until ``interval`` seconds after any process's last request; record ours.

        Returns the seconds waited.
        """
        waited = 0.0
        last = self.last_request()
        if last is not None and interval > 0:
            delay = (last + timedelta(seconds=interval) - self.clock()).total_seconds()
            if delay > 0:
                waited = min(delay, interval)  # a clock skew never waits longer than one interval
                sleep(waited)
        stamp = {"at": self.clock().isoformat()}
        self.lake.write_bytes(self.last_request_key, json.dumps(stamp).encode())
        return waited
