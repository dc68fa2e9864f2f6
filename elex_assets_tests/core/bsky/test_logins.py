"""Bluesky logins: 10 a day per account (createSession's own ratelimit-policy 10;w=86400).
Every attempt is counted in the lake and bounded; a refused login is a named cool-down."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from elex_assets.core.bsky.api import (
    BskyLoginBudgetExhausted,
    BskyLoginCoolDown,
    BskyLoginRateLimited,
    BskyPolicy,
)
from elex_assets.core.bsky.client import BskyClient
from elex_assets.core.bsky.collect import collect_day, cooldown_until
from elex_assets.core.bsky.query import build_queries
from elex_assets.core.bsky.session import LakeSessionStore, LoginLedger
from elex_assets.core.lake import Lake
from elex_assets.core.registry import load_registry
from elex_assets.sandbox.bsky_server import LOGIN_LIMIT, BskySandbox

T0 = 1_795_000_000.0  # a fixed instant (epoch seconds)
CANDIDATES = list(load_registry("2027").selected())[:2]
POLICY = BskyPolicy(max_attempts=4, backoff_base=0.01, backoff_max=0.02)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sandbox() -> Iterator[BskySandbox]:
    with BskySandbox(CANDIDATES, posts_per_day=40, seed=1) as server:
        yield server


def _logins(sandbox: BskySandbox) -> int:
    return sum(1 for r in sandbox.requests if r["path"].endswith("createSession"))


def _client(sandbox: BskySandbox, lake: Lake | None = None, budget: int = 8,
            clock: Clock | None = None) -> BskyClient:
    ledger = None
    if lake is not None:
        def ledger(handle: str) -> LoginLedger:
            return LoginLedger(lake, handle, sandbox.base_url, budget, clock or Clock())
    return BskyClient(None, None, sandbox.base_url, POLICY, sleep=lambda _s: None,
                      logins=ledger)


def test_the_ledger_counts_attempts_over_a_rolling_day(tmp_path: Path) -> None:
    clock = Clock()
    ledger = LoginLedger(Lake(str(tmp_path)), "me.bsky.social", "https://bsky.social", 3, clock)
    for i in range(3):
        ledger.check()
        assert ledger.record() == i + 1
        clock.now += 3600
    with pytest.raises(BskyLoginBudgetExhausted, match="BSKY_MAX_LOGINS_PER_DAY=3") as err:
        ledger.check()
    assert err.value.reset_at == T0 + 86_400  # when the first attempt leaves the day
    clock.now = T0 + 86_400
    ledger.check()  # the first attempt is a day old: one login is free again
    with pytest.raises(ValueError, match="BSKY_MAX_LOGINS_PER_DAY=11"):
        LoginLedger(Lake(str(tmp_path)), "me", budget=11)


def test_a_spent_budget_refuses_to_log_in_without_asking(sandbox: BskySandbox,
                                                         tmp_path: Path) -> None:
    lake = Lake(str(tmp_path))
    clock = Clock()
    for _ in range(2):
        client = _client(sandbox, lake, budget=2, clock=clock)
        client.login(reuse=False)
    assert _logins(sandbox) == 2
    with pytest.raises(BskyLoginBudgetExhausted) as err:
        _client(sandbox, lake, budget=2, clock=clock).login(reuse=False)
    assert _logins(sandbox) == 2  # nothing asked
    assert isinstance(err.value, BskyLoginCoolDown) and err.value.reset_at == T0 + 86_400


def test_a_login_429_is_a_named_cool_down_until_its_reset_never_retried(
    sandbox: BskySandbox, tmp_path: Path
) -> None:
    for _ in range(LOGIN_LIMIT):  # the account's 10 logins of the day, spent elsewhere
        _client(sandbox).login(reuse=False)
    lake = Lake(str(tmp_path))
    day = datetime.fromtimestamp(T0, UTC).date()
    now = datetime.fromtimestamp(T0, UTC) + timedelta(days=1, hours=2)
    before = _logins(sandbox)
    client = _client(sandbox, lake, budget=10)
    with pytest.raises(BskyLoginRateLimited, match="limited to 10 a day per account") as err:
        collect_day(client, lake, build_queries(CANDIDATES), day, now=now)
    assert _logins(sandbox) == before + 1  # one attempt: no retry storm
    assert "10;w=86400" in str(err.value)
    reset = datetime.fromtimestamp(err.value.reset_at, UTC)
    assert cooldown_until(lake) == reset.replace(microsecond=0)
    # The next runs ask nothing until the reset, and say why.
    skipped = collect_day(_client(sandbox, lake), lake, build_queries(CANDIDATES), day,
                          now=reset - timedelta(minutes=5))
    assert "cooling down" in skipped.notes[0] and _logins(sandbox) == before + 1


def test_sessions_are_kept_in_the_lake_so_runs_do_not_log_in(sandbox: BskySandbox,
                                                            tmp_path: Path) -> None:
    lake = Lake(str(tmp_path))

    def client() -> BskyClient:
        return BskyClient(None, None, sandbox.base_url, POLICY,
                          sessions=lambda h, p: LakeSessionStore(lake, h, p, sandbox.base_url),
                          logins=lambda h: LoginLedger(lake, h, sandbox.base_url, 8, Clock()))

    runs = [client() for _ in range(11)]  # more runs than the day's 10 logins
    for run in runs:
        run.search('"x"', since="2026-11-20T00:00:00.000Z", until="2026-11-21T00:00:00.000Z")
    assert _logins(sandbox) == 1 and sum(r.logins for r in runs) == 1
    assert all(r.session_reused for r in runs[1:])
    assert len(runs[0].ledger.attempts()) == 1
    assert any(k.startswith("state/bsky_logins/") for k in lake.list("state/"))
