"""The shared retry layer: what is retried, how long it waits, and that tests never really wait."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from elex_assets.core import retrying as layer
from elex_assets.core.retrying import RateLimited, RetryPolicy, Transient
from elex_assets_tests.clock import NOW

# The code reads time.time() for a reset's distance: it is frozen at NOW_TS.
NOW_TS = NOW.timestamp()
pytestmark = pytest.mark.usefixtures("frozen_now")


class Exhausted(RuntimeError):
    def __init__(self, stop: layer.GiveUp) -> None:
        super().__init__(f"gave up after {stop.attempts}: {stop.last}")
        self.stop = stop


class Run:
    """An attempt that fails with ``faults`` in turn, then answers ``"ok"``; counts the calls
    and records the sleeps and retry messages instead of sleeping."""

    def __init__(self, *faults: Exception) -> None:
        self.faults = list(faults)
        self.calls = 0
        self.sleeps: list[float] = []
        self.messages: list[tuple[str, int]] = []

    def attempt(self) -> str:
        self.calls += 1
        if self.faults:
            raise self.faults.pop(0)
        return "ok"

    def __call__(self, policy: RetryPolicy, **options: object) -> str:
        retry = layer.retrying(policy, give_up=Exhausted, sleep=self.sleeps.append,
                         on_retry=lambda message, n: self.messages.append((message, n)),
                         **options)  # type: ignore[arg-type]
        return retry(self.attempt)


def forever(fault: Callable[[], Exception]) -> list[Exception]:
    return [fault() for _ in range(50)]


def test_transient_faults_back_off_exponentially_up_to_the_limit() -> None:
    run = Run(*forever(lambda: Transient("HTTP 503")))
    policy = RetryPolicy("test", max_attempts=5, backoff_base=2.0, backoff_max=10.0)
    with pytest.raises(Exhausted, match="gave up after 5: HTTP 503") as info:
        run(policy)
    assert run.calls == 5 and len(run.sleeps) == 4  # no sleep after the last attempt
    for wait, ceiling in zip(run.sleeps, [2.0, 4.0, 8.0, 10.0], strict=True):
        assert ceiling / 2 <= wait <= ceiling  # jittered, never above backoff_max
    assert info.value.stop.reasons == ["HTTP 503"] * 5
    assert not info.value.stop.rate_limited and not info.value.stop.beyond_bound


def test_a_transient_fault_then_success_returns_the_answer_and_reports_each_retry_once() -> None:
    run = Run(Transient("HTTP 502"), Transient("network error (ConnectionError)"))
    assert run(RetryPolicy("test", backoff_base=0.01), what="X API search") == "ok"
    assert run.calls == 3
    assert [n for _, n in run.messages] == [1, 2]
    first, second = (m for m, _ in run.messages)
    assert first.startswith("X API search: HTTP 502 (attempt 1/6); retrying in")
    assert "network error (ConnectionError) (attempt 2/6)" in second


@pytest.mark.parametrize("fault", [ValueError("HTTP 400"), PermissionError("HTTP 401")])
def test_a_deterministic_fault_is_raised_at_once_after_one_call(fault: Exception) -> None:
    run = Run(fault, Transient("never reached"))
    with pytest.raises(type(fault), match="HTTP 40"):
        run(RetryPolicy("test"))
    assert (run.calls, run.sleeps, run.messages) == (1, [], [])


def test_a_429_waits_for_a_reset_ahead() -> None:
    run = Run(RateLimited(reset=NOW_TS + 30))
    assert run(RetryPolicy("test", reset_header="x-rate-limit-reset")) == "ok"
    assert len(run.sleeps) == 1 and 29 < run.sleeps[0] <= 31
    assert "waiting" in run.messages[0][0] and "for x-rate-limit-reset" in run.messages[0][0]


def test_a_429_reset_beyond_the_bound_gives_up_without_waiting() -> None:
    run = Run(RateLimited(reset=NOW_TS + 3600))
    with pytest.raises(Exhausted) as info:
        run(RetryPolicy("test", max_rate_limit_wait=900.0))
    stop = info.value.stop
    assert run.calls == 1 and run.sleeps == []
    assert stop.rate_limited and stop.beyond_bound and 3599 < stop.wait <= 3601


@pytest.mark.parametrize("reset", [-30.0, None], ids=["reset-in-the-past", "no-reset"])
def test_a_429_without_a_reset_ahead_waits_at_least_a_second_never_a_burst(
    reset: float | None,
) -> None:
    at = None if reset is None else NOW_TS + reset
    run = Run(*[RateLimited(reset=at) for _ in range(3)])
    assert run(RetryPolicy("test", backoff_base=0.01)) == "ok"
    assert len(run.sleeps) == 3 and all(w >= 1.0 for w in run.sleeps)
    assert all("backoff" in m for m, _ in run.messages)


def test_the_wait_after_a_past_reset_grows_with_the_attempts() -> None:
    policy = RetryPolicy("test", backoff_base=2.0, jitter=0.0)
    past = NOW_TS - 60
    assert [policy.rate_limit_wait(past, n)[0] for n in (1, 2, 3)] == [2.0, 4.0, 8.0]
    assert policy.rate_limit_wait(None, 1)[0] == 2.0
    fixed = RetryPolicy("test", missing_reset_wait=60.0, reset_header="ratelimit-reset")
    assert fixed.rate_limit_wait(None, 1) == (60.0, "(no ratelimit-reset)")


def test_the_sleep_and_the_randomness_are_injected() -> None:
    """A policy with long waits runs at once: every wait goes to the injected sleep."""
    policy = RetryPolicy("test", max_attempts=4, backoff_base=100.0, backoff_max=1000.0)
    waits = []
    for _ in range(2):
        run = Run(*forever(lambda: Transient("HTTP 500")))
        with pytest.raises(Exhausted):
            run(policy, rng=random.Random(7))
        waits.append(run.sleeps)
    assert waits[0] == waits[1] and sum(waits[0]) > 300  # seconds asked for, none slept


def test_rate_limit_headers() -> None:
    now = 1_000_000.0
    assert layer.reset_from_headers({"x-rate-limit-reset": "1000060"}, now) == 1_000_060.0
    assert layer.reset_from_headers({"RateLimit-Reset": "1000030"}, now) == 1_000_030.0
    assert layer.reset_from_headers({"Retry-After": "15"}, now) == 1_000_015.0
    assert layer.reset_from_headers({"x-rate-limit-reset": ""}, now) is None  # X's "no reset"
    assert layer.reset_from_headers({}, now) is None


@pytest.mark.parametrize("skew", [-3600.0, 0.0, 7 * 3600.0], ids=["server-behind", "same", "ahead"])
def test_a_reset_is_counted_on_the_servers_clock_not_ours(skew: float) -> None:
    """A 429 says "reset at 12:00:30" in the server's clock and carries its Date: we wait
    30 s whatever our clock says (before: a host 1 h fast waited 0, 7 h slow gave up)."""
    from email.utils import format_datetime

    here = 1_000_000.0  # this host's clock
    server = datetime.fromtimestamp(here + skew, UTC).replace(microsecond=0)
    headers = {"x-rate-limit-reset": str(int(server.timestamp()) + 30),
               "Date": format_datetime(server, usegmt=True)}
    reset = layer.reset_from_headers(headers, here)
    assert reset == pytest.approx(here + 30)
    wait, why = RetryPolicy("test").rate_limit_wait(reset, 1, now=here)
    assert 30 <= wait <= 31 and "x-rate-limit-reset" in why
    assert layer.on_local_clock(here + 30, {}, here) == here + 30  # no Date: as given


@pytest.mark.parametrize(
    ("bounds", "message"),
    [({"max_attempts": 0}, "max_attempts"), ({"backoff_base": -1.0}, "negative"),
     ({"jitter": 2.0}, "jitter")],
)
def test_bad_bounds_are_refused_naming_the_api(bounds: dict, message: str) -> None:
    with pytest.raises(ValueError, match=f"Bluesky retry policy: .*{message}"):
        RetryPolicy("Bluesky", **bounds)
