"""The lake-wide Trends state: cool-down after refusals, shared request interval."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from elex_assets.core.lake import Lake
from elex_assets.core.trends.errors import TrendsBlocked
from elex_assets.core.trends.state import Cooldown, CooldownPolicy, TrendsGate


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def gate_on(lake_dir: Path, clock: Clock, seed: int = 0) -> TrendsGate:
    policy = CooldownPolicy(base=timedelta(minutes=15), maximum=timedelta(hours=6))
    return TrendsGate(Lake.from_url(str(lake_dir)), policy, clock, random.Random(seed))


def test_refusals_in_a_row_grow_from_minutes_to_hours_then_a_success_resets(tmp_path) -> None:
    clock = Clock(datetime(2026, 12, 1, 12, 2, tzinfo=UTC))
    gate = gate_on(tmp_path, clock)
    lengths = []
    for _ in range(7):
        cooldown = gate.refused("429")
        lengths.append(cooldown.until - clock.now)
        clock.now = cooldown.until  # the next try, right after the cool-down
    assert timedelta(minutes=11) <= lengths[0] <= timedelta(minutes=15)
    assert all(b > a for a, b in zip(lengths[:5], lengths[1:6], strict=True))
    assert timedelta(hours=4, minutes=30) <= lengths[-1] <= timedelta(hours=6)  # capped
    assert gate.cooldown().refusals == 7
    assert gate.cooldown().since == datetime(2026, 12, 1, 12, 2, tzinfo=UTC)
    gate.succeeded()
    assert gate.cooldown() is None
    assert timedelta(minutes=11) <= gate.refused("429").until - clock.now <= timedelta(minutes=15)


def test_jitter_differs_between_clients(tmp_path: Path) -> None:
    clock = Clock(datetime(2026, 12, 1, 12, tzinfo=UTC))
    ends = {gate_on(tmp_path / str(seed), clock, seed).refused("429").until for seed in range(5)}
    assert len(ends) > 1


def test_every_process_sees_the_cooldown_and_sends_nothing(tmp_path: Path) -> None:
    clock = Clock(datetime(2026, 12, 1, 12, 2, tzinfo=UTC))
    gate_on(tmp_path, clock).refused("302 to its captcha page")
    gate_on(tmp_path, clock).refused("429")
    gate_on(tmp_path, clock).refused("429")
    other = gate_on(tmp_path, clock)  # another process: only the lake in common
    cooldown = other.cooldown()
    assert cooldown is not None and cooldown.refusals == 3
    with pytest.raises(TrendsBlocked) as caught:
        other.check()
    expected = (
        f"Google Trends is refusing this client until {cooldown.until:%H:%M} UTC "
        "(3 refusals since 12:02); nothing requested"
    )
    assert str(caught.value) == expected
    clock.now = cooldown.until + timedelta(seconds=1)
    other.check()  # over: requests may go again


def test_message_names_the_day_when_the_cooldown_ends_another_day() -> None:
    cooldown = Cooldown(
        until=datetime(2026, 12, 2, 1, 5, tzinfo=UTC), refusals=6,
        since=datetime(2026, 12, 1, 20, 0, tzinfo=UTC),
    )
    assert cooldown.message() == (
        "Google Trends is refusing this client until 2026-12-02 01:05 UTC "
        "(6 refusals since 2026-12-01 20:00); nothing requested"
    )


def test_an_unreadable_state_does_not_block_for_ever(tmp_path: Path) -> None:
    (tmp_path / "state").mkdir()
    (tmp_path / "state/trends_cooldown.json").write_text("{not json")
    gate_on(tmp_path, Clock(datetime(2026, 12, 1, tzinfo=UTC))).check()


def test_minimum_interval_holds_across_processes(tmp_path: Path) -> None:
    clock = Clock(datetime(2026, 12, 1, 12, tzinfo=UTC))
    waits: list[float] = []
    first, second = gate_on(tmp_path, clock), gate_on(tmp_path, clock)
    assert first.wait_turn(5.0, waits.append) == 0.0  # nobody asked before
    clock.now += timedelta(seconds=2)
    assert second.wait_turn(5.0, waits.append) == pytest.approx(3.0)
    assert waits == [pytest.approx(3.0)]
    clock.now += timedelta(seconds=10)
    assert first.wait_turn(5.0, waits.append) == 0.0
