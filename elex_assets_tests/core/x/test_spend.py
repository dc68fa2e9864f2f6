"""Dollars: one ledger file per run, summed on read; ceilings stop before the crossing request."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest

from elex_assets.core.lake import Lake
from elex_assets.core.registry import load_registry
from elex_assets.core.x.client import RetryPolicy, XApiError, XClient
from elex_assets.core.x.collect import collect_day
from elex_assets.core.x.query import build_queries
from elex_assets.core.x.spend import (
    Ceilings,
    Prices,
    SpendGuard,
    SpendLedgerDamaged,
    XSpendCeiling,
    ledger_key,
    read_ledgers,
    spent,
)
from elex_assets.sandbox.x_server import XSandbox

NOW = datetime(2022, 4, 20, 12, tzinfo=UTC)
PRICES = Prices()


def _client(sandbox: XSandbox) -> XClient:
    return XClient("tok", sandbox.base_url, RetryPolicy(backoff_base=0.01))


def _queries():  # noqa: ANN202
    return build_queries(load_registry("2022").selected()[:3], max_length=1024)


def test_two_concurrent_runs_lose_no_count(x_sandbox: XSandbox, tmp_path) -> None:  # noqa: ANN001
    lake = Lake.from_url(str(tmp_path))
    guards = [SpendGuard(lake, f"run{i}", ceilings=Ceilings(None, None), sandbox=True)
              for i in range(2)]
    days = [date(2022, 4, 8), date(2022, 4, 9)]
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            collect_day(_client(x_sandbox), lake, _queries(), days[i], endpoint="all",
                        run_id=f"run{i}", now=NOW, spend=guards[i])
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    ledgers = read_ledgers(lake)
    assert len(ledgers) == 2
    each = [g.ledger.total() for g in guards]
    total = spent(lake, sandbox=True)
    assert total.posts_read == sum(e.posts_read for e in each) == x_sandbox.served["posts_read"]
    assert total.usd == pytest.approx(x_sandbox.served["posts_read"] * PRICES.post_read)
    assert spent(lake, sandbox=False).usd == 0  # sandbox spend never counts as live


def test_a_ceiling_just_above_one_run_stops_the_next_before_it_asks(
    x_sandbox: XSandbox, tmp_path, fixed_now: datetime  # noqa: ANN001
) -> None:
    lake = Lake.from_url(str(tmp_path))
    first = SpendGuard(lake, "first", ceilings=Ceilings(None, None), sandbox=True)
    collect_day(_client(x_sandbox), lake, _queries(), date(2022, 4, 8), endpoint="all",
                run_id="first", now=NOW, spend=first)
    cost = first.ledger.total().usd
    assert cost > 0
    served = len(x_sandbox.search_requests())
    ceiling = cost + 0.02  # four posts' worth: less than X's smallest page (10)
    second = SpendGuard(lake, "second", ceilings=Ceilings(ceiling, None), sandbox=True)
    with pytest.raises(XSpendCeiling) as err:
        collect_day(_client(x_sandbox), lake, _queries(), date(2022, 4, 9), endpoint="all",
                    run_id="second", now=NOW, spend=second)
    assert len(x_sandbox.search_requests()) == served  # stopped before asking
    message = str(err.value)
    assert f"X_MAX_USD_PER_DAY={ceiling:g}" in message
    # (At the wall clock, on 31 December, the reset named next year: the check of the year
    # failed; "now" is the test's.)
    reset = fixed_now.date() + timedelta(days=1)
    assert f"The ceiling resets at {reset} 00:00 UTC" in message
    total = spent(lake, sandbox=True)
    assert total.usd == pytest.approx(x_sandbox.served["posts_read"] * PRICES.post_read)
    assert total.usd <= ceiling


def test_the_page_shrinks_to_fit_the_ceiling(x_sandbox: XSandbox, tmp_path) -> None:  # noqa: ANN001
    lake = Lake.from_url(str(tmp_path))
    guard = SpendGuard(lake, "r", ceilings=Ceilings(0.3, None), sandbox=True)  # 60 posts
    with pytest.raises(XSpendCeiling, match="X_MAX_USD_PER_DAY=0.3"):
        collect_day(_client(x_sandbox), lake, _queries(), date(2022, 4, 9), endpoint="all",
                    run_id="r", now=NOW, spend=guard)
    sizes = [int(r["params"]["max_results"]) for r in x_sandbox.search_requests()]
    assert sizes[0] == 60 and x_sandbox.served["posts_read"] <= 60
    assert guard.ledger.total().usd <= 0.3 + 1e-9
    # The pages fetched before the stop were landed, and their cost is in the ledger.
    assert guard.ledger.total().posts_read == x_sandbox.served["posts_read"]


def test_a_monthly_ceiling_names_itself_and_the_first_of_next_month(tmp_path) -> None:  # noqa: ANN001
    lake = Lake.from_url(str(tmp_path))
    clock = lambda: datetime(2027, 3, 14, 9, tzinfo=UTC)  # noqa: E731
    guard = SpendGuard(lake, "m", ceilings=Ceilings(None, 0.004), clock=clock)
    with pytest.raises(XSpendCeiling, match=r"X_MAX_USD_PER_MONTH=0.004.*2027-04-01 00:00 UTC"):
        guard.before_counts("recent")
    guard = SpendGuard(lake, "m2", ceilings=Ceilings(None, 0.006), clock=clock)
    guard.before_counts("recent")
    guard.record_counts("recent")
    assert spent(lake, sandbox=False, month="2027-03", today=date(2027, 3, 14)).usd == \
        pytest.approx(0.005)
    with pytest.raises(XSpendCeiling):
        guard.before_counts("recent")


def test_a_past_day_is_summed_once_and_a_run_spanning_midnight_counts_once(tmp_path) -> None:  # noqa: ANN001
    lake = Lake.from_url(str(tmp_path))
    now = [datetime(2027, 3, 14, 23, 59, tzinfo=UTC)]
    guard = SpendGuard(lake, "night", ceilings=Ceilings(None, None), clock=lambda: now[0])
    guard.record_posts(100)  # $0.50 on the 14th
    now[0] = datetime(2027, 3, 15, 0, 1, tzinfo=UTC)
    guard.record_posts(20)  # $0.10 on the 15th, same run
    other = SpendGuard(lake, "day", ceilings=Ceilings(None, None), clock=lambda: now[0])
    other.record_counts("recent")  # $0.005 on the 15th
    assert guard.totals() == pytest.approx((0.105, 0.605))
    assert other.totals() == pytest.approx((0.105, 0.605))
    # Yesterday stays open (a host whose clock is behind may still record on it) ...
    assert spent(lake, sandbox=False, day="2027-03-14", today=date(2027, 3, 15)).usd == \
        pytest.approx(0.5)
    assert not lake.exists("state/x_spend/closed/2027-03-14.json")
    # ... and is summed for good the day after.
    assert spent(lake, sandbox=False, day="2027-03-14", today=date(2027, 3, 16)).usd == \
        pytest.approx(0.5)
    assert lake.exists("state/x_spend/closed/2027-03-14.json")
    assert spent(lake, sandbox=False).usd == pytest.approx(0.605)


def test_the_day_ceiling_resets_at_utc_midnight_and_only_then(tmp_path) -> None:  # noqa: ANN001
    """Why a test of the day ceiling must fix its "now": its two runs must bill one UTC
    day. A run just after midnight starts a fresh day; one just before it does not."""
    lake = Lake.from_url(str(tmp_path))
    noon = datetime(2026, 12, 31, 12, tzinfo=UTC)
    first = SpendGuard(lake, "first", ceilings=Ceilings(None, None), clock=lambda: noon)
    first.before_counts("recent")
    first.record_counts("recent")  # $0.005 on 31 December
    for when, today_usd in ((datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC), 0.005),
                            (datetime(2027, 1, 1, 0, 0, 1, tzinfo=UTC), 0.0)):
        later = SpendGuard(lake, "later", ceilings=Ceilings(0.005, None),
                           clock=lambda when=when: when)
        assert later.totals()[0] == pytest.approx(today_usd)


def test_a_failed_request_releases_its_reservation(x_sandbox: XSandbox, tmp_path) -> None:  # noqa: ANN001
    lake = Lake.from_url(str(tmp_path))
    guard = SpendGuard(lake, "r", ceilings=Ceilings(1.0, None), sandbox=True,
                       clock=lambda: NOW)
    x_sandbox.faults.add("401", path="/2/tweets/search")
    with pytest.raises(XApiError):
        collect_day(_client(x_sandbox), lake, _queries(), date(2022, 4, 9), endpoint="all",
                    run_id="r", now=NOW, spend=guard)
    assert guard.totals() == (0.0, 0.0)  # the page reserved before the 401 is not billed


def test_a_damaged_shared_ledger_is_named_and_stops_paid_requests(tmp_path) -> None:  # noqa: ANN001
    lake = Lake.from_url(str(tmp_path))
    path = tmp_path / ledger_key("2027-03")
    path.parent.mkdir(parents=True)
    path.write_text('{"month": "2027-03", "live": {"2027-03-14": "lots"}}')
    guard = SpendGuard(lake, "d", ceilings=Ceilings(5.0, None),
                       clock=lambda: datetime(2027, 3, 14, 9, tzinfo=UTC))
    with pytest.raises(SpendLedgerDamaged, match=str(path)):
        guard.before_counts("recent")


def test_reservations_of_two_guards_never_cross_the_ceiling_together(tmp_path) -> None:  # noqa: ANN001
    lake = Lake.from_url(str(tmp_path))
    clock = lambda: datetime(2027, 3, 14, 9, tzinfo=UTC)  # noqa: E731
    a, b = (SpendGuard(lake, n, ceilings=Ceilings(0.01, None), clock=clock) for n in "ab")
    a.before_counts("recent")  # $0.005 reserved, not yet answered
    b.before_counts("recent")  # the other $0.005
    with pytest.raises(XSpendCeiling, match=r"\$0.010 spent today"):
        a.before_counts("recent")  # a third would cross $0.01 even though none is recorded
