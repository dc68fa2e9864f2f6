"""The X client: redirected tweepy, retries bounded, the token kept out of logs."""

from __future__ import annotations

import logging
import time

import pytest

from elex_assets.core.x.client import RetryPolicy, XClient, XRetriesExhausted, is_sandbox_url
from elex_assets_tests.clock import NOW

# The code reads time.time() for a reset's distance: it is frozen at NOW_TS.
NOW_TS = NOW.timestamp()
pytestmark = pytest.mark.usefixtures("frozen_now")

TOKEN = "tok-SECRET-987"
PARAMS = {"start_time": "2022-04-09T18:00:00Z", "end_time": "2022-04-09T19:00:00Z"}


def test_requests_go_to_the_base_url_and_the_token_never_reaches_the_logs(
    x_sandbox, caplog  # noqa: ANN001
) -> None:
    client = XClient(TOKEN, x_sandbox.base_url, RetryPolicy(backoff_base=0.01))
    with caplog.at_level(logging.DEBUG):
        x_sandbox.faults.add("503")
        page = client.search("all", "Macron", max_results=10, **PARAMS)
    assert page.result_count > 0 and page.params["query"] == "Macron"
    assert x_sandbox.search_requests()[-1]["path"] == "/2/tweets/search/all"
    assert "Making API request" in caplog.text  # tweepy's debug log, headers included
    assert TOKEN not in caplog.text and TOKEN not in repr(client)


def test_a_rate_limit_reset_beyond_the_bound_fails_clearly(x_sandbox) -> None:  # noqa: ANN001
    client = XClient(TOKEN, x_sandbox.base_url, RetryPolicy(max_rate_limit_wait=1))
    x_sandbox.faults.add("429", reset_in=60)
    with pytest.raises(XRetriesExhausted, match="reset in .* exceeds the bound of 1s"):
        client.search("all", "Macron", max_results=10, **PARAMS)


def test_sandbox_mode_is_a_loopback_base_url() -> None:
    assert is_sandbox_url("http://127.0.0.1:8000")
    assert is_sandbox_url("http://localhost:1")
    assert is_sandbox_url("http://[::1]:9")
    assert not is_sandbox_url("https://api.twitter.com")
    assert not is_sandbox_url("http://10.0.0.1")


@pytest.mark.parametrize("reset_in", [-30.0, None], ids=["reset-in-the-past", "no-reset"])
def test_a_429_without_a_future_reset_waits_the_backoff_never_a_burst(
    x_sandbox, reset_in  # noqa: ANN001
) -> None:
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    client = XClient(TOKEN, x_sandbox.base_url, RetryPolicy(backoff_base=0.01), sleep=sleep)
    x_sandbox.faults.add("429", times=3, reset_in=reset_in)
    page = client.search("all", "Macron", max_results=10, **PARAMS)
    assert page.result_count > 0
    assert len(waits) == 3 and all(w >= 1.0 for w in waits)
    times = [r["at"] for r in x_sandbox.search_requests()]
    assert len(times) == 4
    assert all(b - a >= 1.0 for a, b in zip(times, times[1:], strict=False))


def test_the_wait_grows_with_the_attempts_when_the_reset_is_past() -> None:
    policy = RetryPolicy(backoff_base=2.0, jitter=0.0)
    past = NOW_TS - 60
    assert [policy.rate_limit_wait(past, n)[0] for n in (1, 2, 3)] == [2.0, 4.0, 8.0]
    assert RetryPolicy(backoff_base=0.01).rate_limit_wait(None, 1)[0] == 1.0
    ahead, why = policy.rate_limit_wait(NOW_TS + 30, 1)
    assert 29 < ahead < 32 and "x-rate-limit-reset" in why
