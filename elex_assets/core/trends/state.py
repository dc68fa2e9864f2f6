"""Google Trends' state shared by every process, kept in the lake.

* **Cool-down** (``state/trends_cooldown.json``): Google refusing this client
  (429, or a redirect to its ``/sorry/`` captcha page) is a state, not an
  error to retry. Each refusal in a row sets a cool-down that grows with
  jitter, from minutes towards hours; a success ends the series. While it
  runs, no request is sent, by any process: every request checks it just
  before it leaves, and a run ends at once and says until when. It is
  updated by conditional writes (``shared_state``), and a damaged or absurd
  file is repaired and named, never taken for "no cool-down".
* **Last request** (``state/trends_last_request.json``): the minimum interval
  between two requests holds across processes, not only within one.

The lake may be a local folder or S3: one small JSON object each, rewritten
whole (a crash leaves the old or the new version).

Clocks: a cool-down's ``until`` is written with the refusing host's clock and
compared with the reader's. A host ahead by less than the cool-down's headroom
to ``TRENDS_COOLDOWN_MAX_MINUTES`` lengthens it by its lead; one further ahead
is capped (``SKEW_TOLERANCE``); one behind shortens it by its lag.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from elex_assets.core import shared_state
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
    note: str = ""  # set when the stored state was damaged or absurd and had to be repaired

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
        note = f" [{self.note}]" if self.note else ""
        return (
            f"Google Trends is refusing this client until {until} "
            f"({self.refusals} {plural} since {since}); nothing requested{note}"
        )

    def to_json(self) -> dict[str, Any]:
        out = {
            "until": self.until.isoformat(),
            "refusals": self.refusals,
            "since": self.since.isoformat(),
            "reason": self.reason,
        }
        return {**out, "note": self.note} if self.note else out

    def to_bytes(self) -> bytes:
        return json.dumps(self.to_json()).encode()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Cooldown:
        refusals = int(data["refusals"])
        if not 1 <= refusals <= MAX_REFUSALS:
            raise ValueError(f"refusals={refusals} is not between 1 and {MAX_REFUSALS}")
        return cls(
            until=_utc(data["until"]),
            refusals=refusals,
            since=_utc(data["since"]),
            reason=str(data.get("reason", "")),
            note=str(data.get("note", "")),
        )


MAX_REFUSALS = 1000
CLEARED = {"refusals": 0}  # what a success leaves: the series is over
# A cool-down may end this much later than TRENDS_COOLDOWN_MAX_MINUTES from now before
# it is called absurd and capped: clocks of hosts sharing a lake differ a little.
SKEW_TOLERANCE = timedelta(minutes=5)


def _utc(text: Any) -> datetime:
    value = datetime.fromisoformat(str(text))
    if value.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    return value.astimezone(UTC)


def _parse(raw: bytes) -> Cooldown | None:
    """The stored cool-down (None: a success cleared it); ValueError when damaged."""
    try:
        data = json.loads(raw)
        if isinstance(data, dict) and data.get("refusals") == 0:
            return None
        if not isinstance(data, dict):
            raise ValueError(f"a JSON {type(data).__name__}, not an object")
        return Cooldown.from_json(data)
    except (KeyError, TypeError, OverflowError) as exc:
        raise ValueError(f"{type(exc).__name__}: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"not text: {exc}") from None


@dataclass(frozen=True)
class CooldownPolicy:
    """Cool-down length after the n-th refusal in a row: base * 2**(n-1), capped, jittered."""

    base: timedelta = timedelta(minutes=15)
    maximum: timedelta = timedelta(hours=6)

    def __post_init__(self) -> None:
        if self.base <= timedelta(0) or self.maximum < self.base:
            raise ValueError("the Trends cool-down must be positive and its maximum >= its base")

    @classmethod
    def minutes(cls, base: float, maximum: float) -> CooldownPolicy:
        """``TRENDS_COOLDOWN_MINUTES`` and ``TRENDS_COOLDOWN_MAX_MINUTES``, as read."""
        return cls(timedelta(minutes=base), timedelta(minutes=maximum))

    def length(self, refusals: int, rng: random.Random) -> timedelta:
        ceiling = min(self.maximum, self.base * 2 ** min(refusals - 1, 30))
        return ceiling * (0.75 + 0.25 * rng.random())

    @property
    def refusals_at_maximum(self) -> int:
        """The first refusal count whose cool-down reaches the maximum (the doubling's end)."""
        n = 1
        while self.base * 2 ** (n - 1) < self.maximum and n < 31:
            n += 1
        return n


@dataclass
class TrendsGate:
    """The lake-wide gate every Trends request passes: cool-down, shared interval.

    The cool-down is read before **every** request (not only when a run starts), right
    before it is sent, so a refusal seen by one process stops the others' next requests;
    only requests already on the wire may still go out. Updates are conditional writes
    (``elex_assets.core.shared_state``): a success answered after another process's
    refusal never erases it, and two refusals of the same wave count once.

    A damaged cool-down file, or one running further than ``policy.maximum`` past this
    process's clock (garbage; a host whose clock is hours ahead; ``until`` 2999), is
    named in the log and in the run's message, never read as "no cool-down": it is
    rewritten as a cool-down ending ``policy.maximum`` from now at the doubling's top.
    """

    lake: Lake
    policy: CooldownPolicy = field(default_factory=CooldownPolicy)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    rng: random.Random = field(default_factory=random.Random)
    source: str = "trends"  # "trends_official": the official API's own cool-down and interval
    log: Callable[[str], None] = lambda _message: None

    def __post_init__(self) -> None:
        self.cooldown_key, self.last_request_key = state_keys(self.source)

    # -- cool-down ------------------------------------------------------------
    def _load(self) -> tuple[Cooldown | None, shared_state.Stored | None]:
        """The stored cool-down, repaired first when damaged or absurd, and its version."""
        for _ in range(shared_state.MAX_ATTEMPTS):
            stored = shared_state.read(self.lake, self.cooldown_key)
            if stored is None:
                return None, None
            now = self.clock()
            where = self.lake.uri(self.cooldown_key)
            maximum = self.policy.maximum
            limit = f"TRENDS_COOLDOWN_MAX_MINUTES={maximum.total_seconds() / 60:g}"
            try:
                cooldown = _parse(stored.data)
            except ValueError as exc:
                repaired = Cooldown(
                    until=now + maximum, refusals=self.policy.refusals_at_maximum, since=now,
                    reason="unreadable state",
                    note=(f"the cool-down state {where} was unreadable ({exc}); it was taken "
                          f"as a refusal and replaced by a cool-down of {limit}"),
                )
            else:
                if cooldown is None or cooldown.until <= now + maximum + SKEW_TOLERANCE:
                    return cooldown, stored
                repaired = replace(
                    cooldown, until=now + maximum,
                    note=(f"the cool-down in {where} ran until {cooldown.until:%Y-%m-%d %H:%M} "
                          f"UTC, beyond {limit} from this host's clock; capped"),
                )
            self.log(repaired.note)
            shared_state.write_if(self.lake, self.cooldown_key, repaired.to_bytes(), stored)
        raise shared_state.SharedStateConflict(f"{self.lake.uri(self.cooldown_key)}: kept changing")

    def cooldown(self) -> Cooldown | None:
        """The recorded refusal series, running or over (None once a success ended it)."""
        return self._load()[0]

    def active_cooldown(self) -> Cooldown | None:
        cooldown = self.cooldown()
        return cooldown if cooldown is not None and cooldown.active(self.clock()) else None

    def check(self) -> str:
        """Raise :class:`TrendsBlocked` (no request sent) while a cool-down runs.

        Returns the version of the state seen, to hand to :meth:`succeeded` or
        :meth:`refused` once the request is answered ("" when there was none).
        """
        cooldown, stored = self._load()
        if cooldown is not None and cooldown.active(self.clock()):
            raise TrendsBlocked(cooldown.message())
        return stored.version if stored is not None else ""

    def refused(self, reason: str, seen: str | None = None) -> Cooldown:
        """Google refused a request: start (or extend) the cool-down and return it.

        ``seen``: what :meth:`check` returned before the request. When another process
        has recorded a refusal since, and it runs, this one is the same wave: kept as is.
        """

        def change(stored: shared_state.Stored | None) -> tuple[bytes | None, Cooldown]:
            now = self.clock()
            try:
                previous = _parse(stored.data) if stored is not None else None
            except ValueError:  # damaged: the series was at least at the doubling's top
                previous = Cooldown(now, self.policy.refusals_at_maximum - 1 or 1, now)
            changed = seen is not None and (stored.version if stored else "") != seen
            if changed and previous is not None and previous.active(now):
                return None, previous
            refusals = min((previous.refusals if previous else 0) + 1, MAX_REFUSALS)
            cooldown = Cooldown(
                until=now + self.policy.length(refusals, self.rng),
                refusals=refusals,
                since=previous.since if previous else now,
                reason=reason,
            )
            return cooldown.to_bytes(), cooldown

        return shared_state.update(self.lake, self.cooldown_key, change)

    def succeeded(self, seen: str | None = None) -> None:
        """A useful answer ends the refusal series, unless a refusal was recorded since the
        request left (``seen``: what :meth:`check` returned before it; None: end it anyway)."""
        stored = shared_state.read(self.lake, self.cooldown_key)
        if stored is None:
            return
        try:
            current = _parse(stored.data)
        except ValueError:
            current = None  # damaged: a success proves Google answers; clear it
        else:
            if current is None:
                return  # already cleared
        if seen is not None and stored.version != seen:
            return
        cleared = json.dumps({**CLEARED, "cleared_at": self.clock().isoformat()}).encode()
        shared_state.write_if(self.lake, self.cooldown_key, cleared, stored)

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
