"""The newcomer's path in a real browser: an instance with data, seen through ``dagster dev``.

The set-up materialises a small instance and lake with the jobs the demo runs (the
candidates and two days of posts, on the sandboxes, with the project's
dagster.yaml); then the test starts the webserver and daemon on that instance with
the sandboxes serving, and checks what a user would look at: the asset graph, the
materialised partitions of a partitioned asset, and a materialisation launched
from the UI. Screenshots land in ``test-artifacts/``. (The whole demo is not run
here: it took most of CI's time, and every job it runs has its own tests.)
"""

from __future__ import annotations

import json
import os
import shutil
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from elex_assets import PROJECT_DIR
from elex_assets_tests.ui.conftest import ARTIFACTS

EXPECTED_ASSETS = [
    "candidates",
    "raw_tweets",
    "tweets",
    "trends_interest_over_time",
    "trends_interest_by_region",
    "trends_related_topics",
    "trends_related_queries",
    "kaggle_tweets",
    "kaggle_dataset",
]


# Two past days of the 2027 campaign (fixed, so the count below does not depend on the date).
DAYS = ("2026-11-18", "2026-11-19")
X_POSTS_PER_DAY = "200"  # small: the UI shows partitions, not volumes


@pytest.fixture(scope="module")
def ui_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ui-instance")


@pytest.fixture(scope="module")
def ui_env(ui_home: Path) -> Iterator[dict[str, str]]:
    """Prepare ``ui_home`` (instance and lake) on the sandboxes; they keep serving after,
    for the runs the webserver launches."""
    import dagster as dg

    from elex_assets.cli.demo import Step, execute
    from elex_assets.definitions import build_defs
    from elex_assets.sandbox.serve import start_sandboxes
    from elex_assets.settings import load_settings

    env = {
        "DAGSTER_HOME": str(ui_home),
        "ELEX_LAKE_URL": str(ui_home / "lake"),
        "X_SANDBOX_POSTS_PER_DAY": X_POSTS_PER_DAY,
    }
    shutil.copyfile(PROJECT_DIR / "dagster.yaml", ui_home / "dagster.yaml")
    saved = dict(os.environ)
    os.environ.update(env)
    servers = start_sandboxes(demo=True)  # sets X_API_BASE_URL etc. in os.environ
    try:
        defs = build_defs(load_settings())  # not get_defs(): no cached defs for later tests
        steps = [Step("candidates", "registry_job")]
        steps += [Step(f"posts {day}", "x_refresh_job", day) for day in DAYS]
        with dg.DagsterInstance.from_config(str(ui_home)) as instance:
            for step in steps:
                result = execute(defs, instance, step)
                assert result.success, f"{step.label}: run {result.run_id} failed"
        sandbox_env = {k: v for k, v in os.environ.items() if saved.get(k) != v}
        yield {**env, **sandbox_env}
    finally:
        for server in servers.values():
            server.stop()
        os.environ.clear()
        os.environ.update(saved)


def _assert_no_modal(page) -> None:  # noqa: ANN001
    """The instance has ``nux: enabled: false``: no "Join the community" modal to dismiss."""
    page.wait_for_timeout(500)
    assert not page.get_by_role("dialog").filter(has_text="Skip").count(), "a modal opened"


def _graphql(base_url: str, query: str) -> dict:
    request = urllib.request.Request(
        f"{base_url}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["data"]


def test_asset_graph_lists_the_assets(dagster_dev: str, browser) -> None:  # noqa: ANN001
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.goto(f"{dagster_dev}/assets", wait_until="networkidle")
    assert _graphql(dagster_dev, "{ shouldShowNux }") == {"shouldShowNux": False}
    _assert_no_modal(page)
    page.get_by_text("raw_tweets").first.wait_for(timeout=60_000)
    body = page.inner_text("body")
    missing = [name for name in EXPECTED_ASSETS if name not in body]
    assert not missing, f"asset catalog lacks {missing}"
    page.goto(
        f"{dagster_dev}/assets/kaggle_dataset?view=lineage&lineageScope=upstream&lineageDepth=5",
        wait_until="networkidle",
    )
    _assert_no_modal(page)
    page.get_by_text("raw_tweets").first.wait_for(timeout=60_000)
    page.wait_for_timeout(1500)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "asset-graph.png"))
    page.close()


def test_partitioned_asset_shows_materialised_partitions(dagster_dev: str, browser) -> None:  # noqa: ANN001
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.goto(f"{dagster_dev}/assets/tweets?view=partitions", wait_until="networkidle")
    _assert_no_modal(page)
    label = page.get_by_text(f"Materialized ({len(DAYS)})")  # the days the set-up collected
    label.first.wait_for(timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "tweets-partitions.png"))
    page.close()


def test_materialisation_launched_from_the_ui_succeeds(dagster_dev: str, browser) -> None:  # noqa: ANN001
    before = _graphql(dagster_dev, "{ runsOrError { ... on Runs { results { runId } } } }")
    known = {r["runId"] for r in before["runsOrError"]["results"]}
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.goto(f"{dagster_dev}/assets/candidates", wait_until="networkidle")
    page.wait_for_timeout(1500)
    _assert_no_modal(page)
    page.locator("button:has-text('Materialize')").first.click()
    deadline = time.monotonic() + 240
    status = None
    while time.monotonic() < deadline:
        runs = _graphql(
            dagster_dev, "{ runsOrError { ... on Runs { results { runId status } } } }"
        )["runsOrError"]["results"]
        new = [r for r in runs if r["runId"] not in known]
        status = new[0]["status"] if new else None
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            break
        time.sleep(2)
    page.reload(wait_until="networkidle")
    page.wait_for_timeout(1500)
    page.screenshot(path=str(ARTIFACTS / "materialised-from-ui.png"))
    page.close()
    assert status == "SUCCESS", f"run launched from the UI ended {status}"
