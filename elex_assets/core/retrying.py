"""The one retry layer of every API elex calls (X, X compliance, Google Trends, Bluesky).

Built on tenacity. Each API declares one :class:`RetryPolicy` (its bounds); each
client turns the outcome of one attempt into what this layer understands:

* :class:`Transient` (5xx, network errors, truncated bodies): retried with an
  exponential, jittered, bounded backoff, up to ``max_attempts`` calls;
* :class:`RateLimited` (429): waits until the API's reset when it lies ahead,
  never longer than ``max_rate_limit_wait`` (beyond it the client gives up at
  once: a later run resumes), and when the reset is missing or already past the
  growing backoff, never under ``rate_limit_min_wait`` (no burst of retries);
* any other exception is deterministic (401/403, usage cap, 400, a refusal that
  starts a cool-down, an answer about something else): raised after one call.

What the client raises when the bounds are spent is its own (``give_up``); each
retry is reported once, through ``on_retry``; ``sleep`` is injectable so that
tests never really wait.

**One definition of "deterministic"** (:func:`is_deterministic`), honoured by the
Dagster layer (``elex_assets.failures``): every error elex raises declares
``transient`` (a class attribute, or set on the instance). ``transient = False``:
running again soon gives the same answer (auth refused on any endpoint, an answer
that does not match its request, a budget or dollar ceiling, a cool-down, a rate
limit whose reset lies past the wait bound, a damaged file, another writer, bad
settings): the run fails at once, with no retry in the run and no run retry.
``transient = True``: faults still there after the bounded backoff (5xx, network,
truncated bodies): a later try may work, so the step or run retries apply.
Exceptions that declare nothing (a full disk, a lost S3 connection) keep the
instance's run retries, as a crash does.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import tenacity

T = TypeVar("T")
E = TypeVar("E", bound=BaseException)
OnRetry = Callable[[str, int], None]


def is_deterministic(exc: BaseException) -> bool:
    """True when ``exc`` says running again soon cannot help (``transient = False``)."""
    transient = getattr(exc, "transient", None)
    return transient is not None and not transient


def past_the_bound(error: E, stop: GiveUp) -> E:
    """``error`` (a client's give-up) made final when the wait it stopped at is a rate
    limit reset beyond ``max_rate_limit_wait``: retrying in this run, or in a run
    retry a minute later, would meet the same 429."""
    if stop.beyond_bound:
        error.transient = False  # type: ignore[attr-defined]
    return error


class Transient(Exception):
    """One attempt failed in a way worth another try; ``reason`` says how, in a few words."""

    transient = True

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.why = ""  # how the wait after it was chosen (rate limits), for the retry message


class RateLimited(Transient):
    """A 429; ``reset`` is when the window reopens (epoch seconds), when the API said."""

    def __init__(self, reason: str = "rate limited (429)", reset: float | None = None) -> None:
        super().__init__(reason)
        self.reset = reset


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one API is tried: declared once per API, shrunk by tests."""

    name: str = "API"
    max_attempts: int = 6
    backoff_base: float = 2.0  # the first backoff's ceiling; it doubles each attempt
    backoff_max: float = 120.0
    jitter: float = 0.5  # a backoff is drawn in [1 - jitter, 1] x its ceiling
    max_rate_limit_wait: float = 960.0  # a reset further away than this is not waited for
    rate_limit_min_wait: float = 1.0  # after a 429, never ask again sooner than this
    missing_reset_wait: float | None = None  # a 429 without reset: this long (None: backoff)
    reset_header: str = "x-rate-limit-reset"  # named in the retry messages

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"{self.name} retry policy: max_attempts must be at least 1")
        if min(self.backoff_base, self.backoff_max, self.max_rate_limit_wait,
               self.rate_limit_min_wait) < 0:
            raise ValueError(f"{self.name} retry policy: waits must not be negative")
        if not 0 <= self.jitter <= 1:
            raise ValueError(f"{self.name} retry policy: jitter must lie between 0 and 1")

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Delay after failed attempt ``attempt`` (1-based): exponential, jittered, bounded."""
        ceiling = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        draw = rng.random() if rng is not None else random.random()
        return ceiling * (1 - self.jitter * draw)

    def rate_limit_wait(
        self, reset: float | None, attempt: int, rng: random.Random | None = None,
        now: float | None = None,
    ) -> tuple[float, str]:
        """Wait after a 429, and why: until ``reset`` when it lies ahead, else the backoff
        (or ``missing_reset_wait`` when there is no reset), never under the minimum."""
        floor = self.rate_limit_min_wait
        if reset:
            ahead = reset - (time.time() if now is None else now) + 0.5
            if ahead > 0:
                return max(floor, ahead), f"for {self.reset_header}"
            return max(floor, self.backoff(attempt, rng)), (
                f"(backoff: {self.reset_header} already past)")
        if self.missing_reset_wait is not None:
            return max(floor, self.missing_reset_wait), f"(no {self.reset_header})"
        return max(floor, self.backoff(attempt, rng)), f"(backoff: no {self.reset_header})"


@dataclass(frozen=True)
class GiveUp:
    """Why the retries stopped, for the client's own error."""

    policy: RetryPolicy
    attempts: int
    reasons: list[str]  # one per failed attempt, oldest first
    wait: float  # the wait the next attempt would have needed
    rate_limited: bool  # the last failure was a 429
    beyond_bound: bool  # ... whose reset lies further than ``max_rate_limit_wait``

    @property
    def last(self) -> str:
        return self.reasons[-1]


def on_local_clock(
    reset: float | None, headers: Mapping[str, str] | None, now: float | None = None
) -> float | None:
    """A server's reset time (epoch seconds, the server's clock) on this host's clock.

    The distance to the reset is measured on the server's clock (the reset minus the
    response's ``Date``, both the server's), then counted from this host's now: a host
    whose clock is off by minutes waits as long as the server means. Without a ``Date``
    header the reset is taken as it is. ``Date`` counts whole seconds, so the wait may
    be up to a second longer, never shorter."""
    if reset is None or not headers:
        return reset
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        server_now = email.utils.parsedate_to_datetime(lower["date"]).timestamp()
    except (KeyError, TypeError, ValueError):
        return reset
    return (time.time() if now is None else now) + (reset - server_now)


def reset_from_headers(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """When a rate-limit window reopens (epoch seconds, this host's clock), from
    ``x-rate-limit-reset`` or ``ratelimit-reset`` (epoch seconds, re-anchored by the
    response's ``Date``) or ``retry-after`` (seconds from now); None if absent."""
    lower = {k.lower(): v for k, v in headers.items()}
    for name in ("x-rate-limit-reset", "ratelimit-reset"):
        try:
            return on_local_clock(float(lower[name]), headers, now)
        except (KeyError, ValueError):
            pass
    try:
        return (time.time() if now is None else now) + float(lower["retry-after"])
    except (KeyError, ValueError):
        return None


def retrying(
    policy: RetryPolicy,
    *,
    give_up: Callable[[GiveUp], Exception],
    what: str = "",
    sleep: Callable[[float], None] = time.sleep,
    on_retry: OnRetry | None = None,
    rng: random.Random | None = None,
) -> tenacity.Retrying:
    """A tenacity ``Retrying`` that applies ``policy`` to :class:`Transient` faults only."""
    import tenacity  # when a client first calls out: loading the definitions stays light

    label = what or policy.name
    reasons: list[str] = []

    def fault(state: tenacity.RetryCallState) -> Transient:
        exc = state.outcome.exception() if state.outcome else None
        assert isinstance(exc, Transient)  # noqa: S101 - tenacity retries nothing else
        return exc

    def wait(state: tenacity.RetryCallState) -> float:
        exc = fault(state)
        if state.attempt_number == 1:
            reasons.clear()  # a Retrying used for a second call starts afresh
        reasons.append(exc.reason)
        if isinstance(exc, RateLimited):
            seconds, exc.why = policy.rate_limit_wait(exc.reset, state.attempt_number, rng)
            return seconds
        return policy.backoff(state.attempt_number, rng)

    def beyond_bound(state: tenacity.RetryCallState) -> bool:
        return (isinstance(fault(state), RateLimited)
                and state.upcoming_sleep > policy.max_rate_limit_wait)

    def stop(state: tenacity.RetryCallState) -> bool:  # tenacity >= 9 computes the wait first
        return state.attempt_number >= policy.max_attempts or beyond_bound(state)

    def report(state: tenacity.RetryCallState) -> None:
        exc, seconds = fault(state), state.upcoming_sleep
        how = f"waiting {seconds:.1f}s {exc.why}" if exc.why else f"retrying in {seconds:.2f}s"
        if on_retry is not None:
            on_retry(f"{label}: {exc.reason} (attempt {state.attempt_number}/"
                     f"{policy.max_attempts}); {how}", state.attempt_number)

    def exhausted(state: tenacity.RetryCallState) -> None:
        raise give_up(GiveUp(
            policy, state.attempt_number, list(reasons), state.upcoming_sleep,
            isinstance(fault(state), RateLimited), beyond_bound(state),
        )) from None

    return tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(Transient),
        wait=wait,
        stop=stop,
        sleep=sleep,
        before_sleep=report,
        retry_error_callback=exhausted,
    )

