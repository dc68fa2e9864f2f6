"""elex estimate: a range of days priced from counts equals what collecting them costs."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from elex_assets.cli.main import main
from elex_assets.core.lake import Lake
from elex_assets.core.registry import load_registry
from elex_assets.core.x.client import RetryPolicy, XClient
from elex_assets.core.x.collect import collect_day
from elex_assets.core.x.estimate import campaign_day_cost, estimate_days
from elex_assets.core.x.query import build_queries
from elex_assets.core.x.spend import Ceilings, Prices, SpendGuard
from elex_assets.sandbox.x_server import XSandbox

NOW = datetime(2022, 4, 20, 12, tzinfo=UTC)


def test_the_estimate_of_a_full_day_is_what_collecting_it_costs(
    x_sandbox: XSandbox, tmp_path  # noqa: ANN001
) -> None:
    queries = build_queries(load_registry("2022").selected()[:5], max_length=1024)
    client = XClient("tok", x_sandbox.base_url, RetryPolicy(backoff_base=0.01))
    days = [date(2022, 4, 8), date(2022, 4, 9)]
    est = estimate_days(client, queries, days[0], days[1], count_queries=6, prices=Prices(),
                        plan="full", sample_per_day=400, full_archive=True, now=NOW)
    assert x_sandbox.served["counts_all"] == len(queries)  # one counts request per query
    lake = Lake.from_url(str(tmp_path))
    for e, day in zip(est, days, strict=True):
        guard = SpendGuard(lake, f"r{day.day}", ceilings=Ceilings(None, None), sandbox=True)
        result = collect_day(client, lake, queries, day, endpoint="all", now=NOW, spend=guard)
        assert e.posts_matching == e.posts_read == result.posts > 0
        assert e.posts_usd == pytest.approx(guard.ledger.total().usd)
        assert e.counts_usd == pytest.approx(6 * 0.01)
    sample = estimate_days(client, queries, days[0], days[1], count_queries=6, prices=Prices(),
                           plan="sample", sample_per_day=240, full_archive=True, now=NOW)
    assert all(s.posts_read <= 24 * len(queries) * 10 for s in sample)
    assert all(s.posts_read < e.posts_read for s, e in zip(sample, est, strict=True))


def test_a_campaign_day_under_the_default_plan() -> None:
    cost = campaign_day_cost(Prices(), plan="sample", sample_per_day=400, search_queries=2,
                             count_queries=18, posts_per_day=50_000)
    assert cost == pytest.approx(400 * 0.005 + 24 * 18 * 0.005)  # 40 pages of 10 posts


def test_the_cli_prints_the_estimate_and_records_its_cost(
    x_sandbox: XSandbox, tmp_path, monkeypatch, capsys  # noqa: ANN001
) -> None:
    for k, v in {"X_API_BASE_URL": x_sandbox.base_url, "ELEX_ELECTION": "2022",
                 "ELEX_LAKE_URL": str(tmp_path), "X_SEARCH_ENDPOINT": "all"}.items():
        monkeypatch.setenv(k, v)
    assert main(["estimate", "--from", "2022-04-08", "--to", "2022-04-10", "--plan", "full"]) == 0
    out = capsys.readouterr().out
    assert "X_POSTS_PLAN=full" in out and "2022-04-10  all" in out
    total = [line for line in out.splitlines() if line.startswith("total")]
    assert total and float(total[0].split()[-1]) > 0
    assert "This estimate itself cost $" in out and "state/x_spend/" in out
    assert main(["estimate", "--from", "2022-04-10", "--to", "2022-04-08"]) == 2
