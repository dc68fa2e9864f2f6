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


@pytest.mark.parametrize("garbage", [b"{not json", b"", b"[1, 2]", b'{"until": "soon"}',
                                     b'{"until": "2026-12-01T13:00:00", "refusals": 2, '
                                     b'"since": "2026-12-01T12:00:00"}'])
def test_a_damaged_state_is_named_and_taken_as_the_longest_cooldown(
    tmp_path: Path, garbage: bytes
) -> None:
    (tmp_path / "state").mkdir()
    path = tmp_path / "state/trends_cooldown.json"
    path.write_bytes(garbage)
    clock = Clock(datetime(2026, 12, 1, tzinfo=UTC))
    logged: list[str] = []
    gate = gate_on(tmp_path, clock)
    gate.log = logged.append
    with pytest.raises(TrendsBlocked) as caught:  # never read as "no cool-down"
        gate.check()
    assert str(path) in str(caught.value) and "unreadable" in str(caught.value)
    assert logged and str(path) in logged[0]
    assert "until 06:00 UTC" in str(caught.value)  # TRENDS_COOLDOWN_MAX_MINUTES, not more
    clock.now += timedelta(hours=6, seconds=1)
    seen = gate.check()  # the maximum is over: requests may go again
    # The doubling does not restart at 1: the next refusal is at the maximum.
    cooldown = gate.refused("429", seen)
    assert cooldown.until - clock.now >= timedelta(hours=4, minutes=30)


def test_a_damaged_state_met_by_a_refusal_keeps_the_doubling_at_its_top(tmp_path: Path) -> None:
    (tmp_path / "state").mkdir()
    (tmp_path / "state/trends_cooldown.json").write_text("garbage")
    clock = Clock(datetime(2026, 12, 1, tzinfo=UTC))
    cooldown = gate_on(tmp_path, clock).refused("429")
    assert cooldown.until - clock.now >= timedelta(hours=4, minutes=30)


def test_a_cooldown_until_2999_is_capped_by_the_maximum_and_named(tmp_path: Path) -> None:
    (tmp_path / "state").mkdir()
    path = tmp_path / "state/trends_cooldown.json"
    path.write_text('{"until": "2999-01-01T00:00:00+00:00", "refusals": 3, '
                    '"since": "2026-12-01T00:00:00+00:00", "reason": "429"}')
    clock = Clock(datetime(2026, 12, 1, 12, tzinfo=UTC))
    with pytest.raises(TrendsBlocked, match="2999-01-01 00:00 UTC, beyond "
                       "TRENDS_COOLDOWN_MAX_MINUTES=360") as caught:
        gate_on(tmp_path, clock).check()
    assert str(path) in str(caught.value) and "until 18:00 UTC" in str(caught.value)
    clock.now += timedelta(hours=6, seconds=1)
    gate_on(tmp_path, clock).check()  # over after the maximum, not in 2999


def test_a_host_hours_ahead_blocks_no_longer_than_the_maximum(tmp_path: Path) -> None:
    ahead = Clock(datetime(2026, 12, 1, 20, tzinfo=UTC))  # 8 hours ahead of the reader
    for _ in range(6):
        gate_on(tmp_path, ahead).refused("429")  # at the top of the doubling: ~6 h
    reader = Clock(datetime(2026, 12, 1, 12, tzinfo=UTC))
    with pytest.raises(TrendsBlocked):
        gate_on(tmp_path, reader).check()
    reader.now += timedelta(hours=6, seconds=1)
    gate_on(tmp_path, reader).check()  # 6 h by the reader's clock, not 14


def test_a_success_in_flight_does_not_erase_a_refusal_recorded_meanwhile(tmp_path: Path) -> None:
    clock = Clock(datetime(2026, 12, 1, 12, tzinfo=UTC))
    a, b = gate_on(tmp_path, clock), gate_on(tmp_path, clock)
    seen_a, seen_b = a.check(), b.check()  # both send a request
    first = a.refused("429", seen_a)  # a's answer: refused
    b.succeeded(seen_b)  # b's answer (sent before the refusal) arrives after it
    assert b.active_cooldown() == first
    assert b.refused("429", seen_b) == first  # the same wave: not counted twice
    with pytest.raises(TrendsBlocked):
        b.check()


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
