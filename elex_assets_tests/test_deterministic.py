"""One definition of "deterministic", honoured by every collector (issue 25, item 3).

Each fault is injected into the real sandbox of its API. A deterministic one is
final: one request, no step retry, and the instance's run retries
(``run_retries`` as in dagster.yaml) leave the run failed. A transient one keeps
the run retries.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from elex_assets.core.registry import load_registry
from elex_assets.core.retrying import is_deterministic
from elex_assets.defs.bsky.assets import build_bsky_assets
from elex_assets.defs.bsky.resources import BskyResource
from elex_assets.defs.trends.assets import trends_assets
from elex_assets.defs.trends.resources import TrendsResource
from elex_assets.defs.x.assets import x_assets_for
from elex_assets.defs.x.counts import tweet_counts_for
from elex_assets.defs.x.resources import XResource
from elex_assets.resources import LakeResource, RegistryResource
from elex_assets.sandbox.bsky_server import BskySandbox
from elex_assets.sandbox.trends_server import TrendsSandbox
from elex_assets.sandbox.x_server import XSandbox

RETRIES = {"run_retries": {"enabled": True, "max_retries": 2}}
X_ELECTION = load_registry("2022").election
RAW_TWEETS, _ = x_assets_for(X_ELECTION)
TWEET_COUNTS = tweet_counts_for(X_ELECTION)
X_DAY = "2022-04-09"  # a past day: full-archive search and counts, any date the suite runs


def _outcome(instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult) -> str:
    """``will_retry`` as the instance decided it (the run retry daemon reads this tag)."""
    assert not result.success
    return instance.get_run_by_id(result.run_id).tags["dagster/will_retry"]


def _step_retried(result: dg.ExecuteInProcessResult) -> bool:
    return any(e.event_type_value == "STEP_UP_FOR_RETRY" for e in result.all_events)


@pytest.mark.parametrize(
    ("asset", "path", "fault", "reset_in", "requests", "will_retry", "error"),
    [
        # counts: a 401 was retried by the instance (and had no tag at all)
        (TWEET_COUNTS, "/2/tweets/counts", "401", 1.0, 1, "false", "XAuthError"),
        (TWEET_COUNTS, "/2/tweets/counts", "403", 1.0, 1, "false", "XAuthError"),
        (TWEET_COUNTS, "/2/tweets/counts", "usage_cap", 1.0, 1, "false", "XUsageCapError"),
        # a 429 whose reset is an hour away: past the 960 s bound, final at once
        (TWEET_COUNTS, "/2/tweets/counts", "429", 3600.0, 1, "false", "exceeds the bound"),
        (RAW_TWEETS, "/2/tweets/search", "429", 3600.0, 1, "false", "exceeds the bound"),
        # transient: the client's backoff, then the instance may run it again
        (TWEET_COUNTS, "/2/tweets/counts", "503", 1.0, 2, "true", "XRetriesExhausted"),
        (RAW_TWEETS, "/2/tweets/search", "503", 1.0, 2, "true", "XRetriesExhausted"),
    ],
    ids=["counts-401", "counts-403", "counts-usage-cap", "counts-429-in-an-hour",
         "search-429-in-an-hour", "counts-503", "search-503"],
)
def test_x_faults(
    tmp_path: Path, asset: dg.AssetsDefinition, path: str, fault: str, reset_in: float,
    requests: int, will_retry: str, error: str,
) -> None:
    with (XSandbox(election="2022", posts_per_day=200, seed=7) as sandbox,
          dg.instance_for_test(overrides=RETRIES) as instance):
        sandbox.faults.add(fault, times=50, path=path, reset_in=reset_in)
        result = dg.materialize(
            [asset], partition_key=X_DAY, instance=instance, raise_on_error=False,
            resources={
                "lake": LakeResource(url=str(tmp_path)),
                "registry": RegistryResource(election="2022"),
                "x": XResource(base_url=sandbox.base_url, endpoint="all", backoff_base=0.01,
                               max_attempts=2),
            },
        )
        assert _outcome(instance, result) == will_retry
        assert not _step_retried(result)
        assert len([r for r in sandbox.requests if r["path"].startswith(path)]) == requests
        (failure,) = result.get_step_failure_events()
        assert error in failure.step_failure_data.error.to_string()


TRENDS_DAY = dg.MultiPartitionKey({"area": "fr", "date": "2026-11-20"})


@pytest.mark.parametrize(
    ("fault", "will_retry", "error"),
    [
        ("other_keywords", "false", "it answered for"),  # a mismatch was run twice more
        ("429", "false", "refused this client"),  # a refusal: the cool-down
        ("503", "true", "still failing"),  # transient
    ],
)
def test_trends_faults(tmp_path: Path, fault: str, will_retry: str, error: str) -> None:
    asset = trends_assets(load_registry("2027").election, retry_policy=None)[0]
    with TrendsSandbox() as sandbox, dg.instance_for_test(overrides=RETRIES) as instance:
        sandbox.inject(fault, times=None)
        result = dg.materialize(
            [asset], partition_key=TRENDS_DAY, instance=instance, raise_on_error=False,
            resources={
                "lake": LakeResource(url=str(tmp_path)),
                "registry": RegistryResource(election="2027"),
                "trends": TrendsResource(base_url=sandbox.base_url, min_interval_seconds=0.0,
                                         backoff_base_seconds=0.01, max_attempts=2),
            },
        )
        assert _outcome(instance, result) == will_retry
        assert not _step_retried(result)
        (failure,) = result.get_step_failure_events()
        assert error in failure.step_failure_data.error.to_string()


def test_trends_cooldown_is_final(tmp_path: Path) -> None:
    """A run started during a cool-down sends nothing, and is not run again by the instance."""
    asset = trends_assets(load_registry("2027").election, retry_policy=None)[0]
    with TrendsSandbox() as sandbox, dg.instance_for_test(overrides=RETRIES) as instance:
        res = {
            "lake": LakeResource(url=str(tmp_path)),
            "registry": RegistryResource(election="2027"),
            "trends": TrendsResource(base_url=sandbox.base_url, min_interval_seconds=0.0,
                                     max_attempts=1),
        }
        sandbox.block()
        first = dg.materialize([asset], partition_key=TRENDS_DAY, instance=instance,
                               raise_on_error=False, resources=res)
        sandbox.reset()
        second = dg.materialize([asset], partition_key=TRENDS_DAY, instance=instance,
                                raise_on_error=False, resources=res)
        assert sandbox.requests == []
        assert _outcome(instance, first) == _outcome(instance, second) == "false"


def test_bluesky_rate_limit_past_the_bound_is_final(tmp_path: Path) -> None:
    raw = build_bsky_assets(load_registry("2027").election)[0]
    with (BskySandbox(election="2027", posts_per_day=50, seed=4) as sandbox,
          dg.instance_for_test(overrides=RETRIES) as instance):
        sandbox.faults.add("429", times=50, reset_in=3600, path="/xrpc/app.bsky.feed")
        result = dg.materialize(
            [raw], partition_key="2026-09-01", instance=instance, raise_on_error=False,
            resources={
                "lake": LakeResource(url=str(tmp_path)),
                "registry": RegistryResource(election="2027"),
                "bsky": BskyResource(base_url=sandbox.base_url, max_attempts=3),
            },
        )
        assert _outcome(instance, result) == "false"
        (failure,) = result.get_step_failure_events()
        assert "Bluesky rate limit" in failure.step_failure_data.error.to_string()


def test_every_error_says_whether_it_is_transient() -> None:
    from elex_assets.core.bsky.api import BskyAuthError, BskyRateLimited, BskyRetriesExhausted
    from elex_assets.core.lease import LeaseHeld
    from elex_assets.core.retrying import Transient
    from elex_assets.core.trends.errors import TrendsBlocked, TrendsMismatch, TrendsUnavailable
    from elex_assets.core.x.client import XAuthError, XRetriesExhausted
    from elex_assets.core.x.collect import XBudgetExceeded
    from elex_assets.core.x.normalise import RawFileError
    from elex_assets.core.x.spend import XSpendCeiling

    final = [XAuthError("x"), XBudgetExceeded("x"), XSpendCeiling("x"), RawFileError("x"),
             LeaseHeld("x"), TrendsBlocked("x"), TrendsMismatch("x"), BskyAuthError("x"),
             BskyRateLimited("x", 0.0)]
    transient = [Transient("x"), XRetriesExhausted("x"), TrendsUnavailable("x"),
                 BskyRetriesExhausted("x"), OSError("disk full")]
    assert [is_deterministic(e) for e in final] == [True] * len(final)
    assert [is_deterministic(e) for e in transient] == [False] * len(transient)


def test_every_asset_and_op_of_the_definitions_runs_under_final_errors() -> None:
    """So that no collector, present or future, can forget the definition above."""
    from elex_assets.definitions import get_defs

    defs = get_defs()
    every = defs.resolve_asset_graph().assets_defs
    nodes = [a.op for a in every if a.is_executable and a.keys]  # not check-only definitions
    of_assets = {a.op.name for a in every}
    nodes += [n.definition for job in defs.resolve_all_job_defs() for n in job.graph.nodes
              if n.definition.name not in of_assets]  # plain ops (the X stream)
    assert len(nodes) > 20
    bare = sorted({n.name for n in nodes
                   if not getattr(n.compute_fn.decorated_fn, "final_on_deterministic", False)})
    assert bare == []


@pytest.mark.parametrize("asset", [TWEET_COUNTS, RAW_TWEETS], ids=["counts", "search"])
def test_a_dollar_ceiling_is_final(tmp_path: Path, asset: dg.AssetsDefinition) -> None:
    with (XSandbox(election="2022", posts_per_day=200, seed=7) as sandbox,
          dg.instance_for_test(overrides=RETRIES) as instance):
        result = dg.materialize(
            [asset], partition_key=X_DAY, instance=instance, raise_on_error=False,
            resources={
                "lake": LakeResource(url=str(tmp_path)),
                "registry": RegistryResource(election="2022"),
                "x": XResource(base_url=sandbox.base_url, endpoint="all", posts_plan="full",
                               price_post_read_usd=0.005, price_counts_all_usd=0.01,
                               max_usd_per_day=0.015),
            },
        )
        assert _outcome(instance, result) == "false"
        assert not _step_retried(result)


def test_a_deterministic_error_raised_while_a_body_yields_is_final(tmp_path: Path) -> None:
    """A body that yields its results (the pageviews range run) is wrapped as a generator:
    an error raised after its first result is still made final (it escaped the wrapper
    when the body's generator was returned unstarted)."""
    from elex_assets.core.wiki.api import WikimediaMismatch
    from elex_assets.failures import final_on_deterministic

    def raising(context: dg.AssetExecutionContext):  # noqa: ANN202
        raise WikimediaMismatch("an answer about another article")
        yield  # a generator

    wrapped = dg.asset(name="yields_then_fails", output_required=False)(
        final_on_deterministic(raising))
    with dg.instance_for_test(overrides=RETRIES) as instance:
        result = dg.materialize([wrapped], instance=instance, raise_on_error=False)
        assert _outcome(instance, result) == "false"
        failure = result.get_step_failure_events()[0].step_failure_data
        assert "another article" in failure.error.message
