"""The filtered stream is metered like search: posts and dollars, under the same ceilings.

Before: ``stream_to_lake`` read posts with no spend guard, so a stream job ran for
its whole duration whatever ``X_MAX_USD_PER_DAY`` or ``X_MAX_POSTS_PER_MONTH`` said,
and its posts appeared in no ledger.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from elex_assets.core.lake import Lake
from elex_assets.core.registry import load_registry
from elex_assets.core.x.collect import PostBudget, Usage, XBudgetExceeded
from elex_assets.core.x.query import build_queries
from elex_assets.core.x.spend import Ceilings, Prices, SpendGuard, XSpendCeiling
from elex_assets.core.x.stream import StreamMeter, stream_to_lake
from elex_assets.sandbox.x_server import XSandbox

NOW = datetime(2022, 4, 9, 18, tzinfo=UTC)  # the run's clock (fixed: ledgers, month)
BLOCK = 10
DURATION = 60.0  # an upper bound: the ceilings stop the stream long before


def _fast_clock(start: datetime, speed: float) -> Callable[[], datetime]:
    """The sandbox's clock: from a fixed instant, ``speed`` times faster than elapsed time,
    so posts flow without waiting (no wall clock is read)."""
    t0 = time.monotonic()
    return lambda: start + timedelta(seconds=(time.monotonic() - t0) * speed)


@pytest.fixture
def sandbox() -> Iterator[XSandbox]:
    with XSandbox(election="2022", posts_per_day=300_000, seed=7, stream_interval=0.05,
                  clock=_fast_clock(NOW, 60)) as server:
        yield server


def _landed(lake: Lake) -> int:
    return sum(len(gzip.decompress(lake.read_bytes(k)).splitlines())
               for k in lake.list("raw/tweets/") if k.endswith(".jsonl.gz"))


def _stream(sandbox: XSandbox, lake: Lake, meter: StreamMeter) -> BaseException:
    queries = build_queries(load_registry("2022").selected()[:3], max_length=512)
    started = time.monotonic()
    with pytest.raises((XSpendCeiling, XBudgetExceeded)) as caught:
        stream_to_lake("t", sandbox.base_url, lake, queries, DURATION, "run1",
                       flush_seconds=0.2, meter=meter)
    assert time.monotonic() - started < DURATION / 2  # stopped by the ceiling, not the clock
    return caught.value


def test_the_dollar_ceiling_stops_the_stream_and_every_post_is_billed(
    sandbox: XSandbox, tmp_path: Path
) -> None:
    lake = Lake.from_url(str(tmp_path))
    price = Prices().post_read
    ceiling = 50 * price
    guard = SpendGuard(lake, "run1", ceilings=Ceilings(ceiling, None), sandbox=True,
                       clock=lambda: NOW)
    stopped = _stream(sandbox, lake, StreamMeter(None, guard, block=BLOCK))
    assert isinstance(stopped, XSpendCeiling) and "X_MAX_USD_PER_DAY=0.25" in str(stopped)
    landed = _landed(lake)
    # the ceiling's posts, plus the few X had already sent when the stream disconnected
    assert 50 <= landed <= 50 + 2 * BLOCK
    assert guard.ledger.total().posts_read == landed  # this run's ledger: every post
    today, _month = guard.totals()
    assert today == pytest.approx(landed * price)  # the shared ledger: every post


def test_the_post_budget_stops_the_stream_and_counts_every_post(
    sandbox: XSandbox, tmp_path: Path
) -> None:
    lake = Lake.from_url(str(tmp_path))
    lake.write_bytes("state/x_usage/2022-04.json", b'{"month": "2022-04", "posts": 160}')
    posts = PostBudget(lake, "2022-04", 200)  # 40 left: other runs read 160
    stopped = _stream(sandbox, lake, StreamMeter(posts, None, block=BLOCK))
    assert isinstance(stopped, XBudgetExceeded) and "X_MAX_POSTS_PER_MONTH=200" in str(stopped)
    landed = _landed(lake)
    assert 40 <= landed <= 40 + 2 * BLOCK
    usage = Usage.load(lake, "2022-04")
    assert usage.posts == 160 + landed and usage.runs == 1
