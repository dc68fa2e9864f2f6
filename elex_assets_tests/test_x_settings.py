"""X settings: live defaults that bound a first day's spend, sandbox defaults, clear errors."""

from __future__ import annotations

import pytest

from elex_assets.settings import XSettings

VARS = ("X_API_BASE_URL", "X_MAX_USD_PER_DAY", "X_MAX_USD_PER_MONTH", "X_POSTS_PLAN",
        "X_SAMPLE_POSTS_PER_DAY", "X_PRICE_POST_READ_USD", "X_PRICE_COUNTS_RECENT_USD",
        "X_PRICE_COUNTS_ALL_USD")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARS:
        monkeypatch.delenv(name, raising=False)


def test_live_defaults_cap_a_first_day() -> None:
    s = XSettings.from_env()
    assert s.base_url == "https://api.x.com"
    assert (s.max_usd_per_day, s.max_usd_per_month, s.posts_plan) == (5.0, 100.0, "sample")
    assert (s.price_post_read_usd, s.price_counts_recent_usd, s.price_counts_all_usd) == (
        0.005, 0.005, 0.01)


def test_the_sandbox_reads_everything_without_a_ceiling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_API_BASE_URL", "http://127.0.0.1:8123")
    s = XSettings.from_env()
    assert (s.max_usd_per_day, s.max_usd_per_month, s.posts_plan) == (0.0, 0.0, "full")
    monkeypatch.setenv("X_MAX_USD_PER_DAY", "$2.5")
    assert XSettings.from_env().max_usd_per_day == 2.5


@pytest.mark.parametrize(("name", "value", "message"), [
    ("X_MAX_USD_PER_DAY", "five", "X_MAX_USD_PER_DAY='five': expected an amount"),
    ("X_PRICE_POST_READ_USD", "-1", "X_PRICE_POST_READ_USD='-1': expected a finite amount"),
    ("X_POSTS_PLAN", "some", "X_POSTS_PLAN='some': expected one of full, sample, off"),
    ("X_SAMPLE_POSTS_PER_DAY", "lots", "X_SAMPLE_POSTS_PER_DAY='lots': expected an integer"),
])
def test_bad_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=message.replace("$", r"\$")):
        XSettings.from_env()


def test_the_docs_state_the_default_campaign_day_cost() -> None:
    """docs/costs.md (the README's "Going live" until issue 26): the figure follows the
    price settings and the 2027 registry."""
    import re

    from elex_assets import PROJECT_DIR
    from elex_assets.core.registry import load_registry
    from elex_assets.core.x.counts import count_queries
    from elex_assets.core.x.estimate import campaign_day_cost
    from elex_assets.core.x.query import build_queries
    from elex_assets.core.x.spend import Prices

    s = XSettings.from_env()
    cands = load_registry("2027").selected(s.min_status)
    searches = len(build_queries(cands, max_length=512, languages=s.languages,
                                 include_retweets=s.include_retweets))
    counts = len(count_queries(cands, max_length=512, languages=s.languages,
                               include_retweets=s.include_retweets))
    prices = Prices(s.price_post_read_usd, s.price_counts_recent_usd, s.price_counts_all_usd)
    cost = campaign_day_cost(prices, plan=s.posts_plan, sample_per_day=s.sample_posts_per_day,
                             search_queries=searches, count_queries=counts,
                             posts_per_day=10**6)
    costs = (PROJECT_DIR / "docs" / "costs.md").read_text()
    stated = re.search(r"A campaign day under the default plan costs \$([0-9.]+)", costs)
    assert stated and float(stated.group(1)) == pytest.approx(cost, abs=0.005)
    assert f"24 x {counts} counts queries" in costs
    assert cost <= s.max_usd_per_day == 5.0
