"""A refresh of today on an S3 lake reads the day's ``tweets`` file at most once.

The refresh job (``raw_tweets`` + ``tweets`` + every check attached to them) runs
through Dagster against the sandbox X API and moto's S3 server over real HTTP;
moto's own request recorder lists what the server served, so the count is of
real requests, whoever made them (boto3 or polars' object_store).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urlparse

import dagster as dg
import pytest
import requests

from elex_assets.core import layout
from elex_assets.core.lake import Lake
from elex_assets.core.registry import load_registry
from elex_assets.defs.x.assets import x_assets_for
from elex_assets.defs.x.automation import build_x_automation
from elex_assets.defs.x.resources import XResource
from elex_assets.monitoring.attach import with_monitoring
from elex_assets.partitions import day_key
from elex_assets.resources import LakeResource, RegistryResource
from elex_assets.sandbox.x_server import XSandbox

ELECTION = load_registry("2027").election


@pytest.fixture
def recorded(moto_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto's request recorder on, writing to a file of this test; yields the endpoint."""
    from moto.moto_api import recorder

    # The recorder's file is fixed when moto is imported; point it at this test's folder.
    monkeypatch.setattr(recorder, "_location", str(tmp_path / "moto_recording"))
    requests.post(f"{moto_server}/moto-api/recorder/reset-recording", timeout=10)
    requests.post(f"{moto_server}/moto-api/recorder/start-recording", timeout=10)
    try:
        yield moto_server
    finally:
        requests.post(f"{moto_server}/moto-api/recorder/stop-recording", timeout=10)


def served(endpoint: str) -> list[tuple[str, str]]:
    """(method, path) of every request moto served since the last reset; then resets."""
    text = requests.get(f"{endpoint}/moto-api/recorder/download-recording", timeout=10).text
    requests.post(f"{endpoint}/moto-api/recorder/reset-recording", timeout=10)
    out = []
    for line in text.splitlines():
        if line.strip():
            entry = json.loads(line)
            out.append((entry["method"], unquote(urlparse(entry["url"]).path)))
    return out


def test_a_refresh_of_today_downloads_the_day_at_most_once(
    recorded: str, s3_bucket: str, tmp_path: Path, fixed_now: datetime
) -> None:
    today = fixed_now.date()  # a campaign day (clock.NOW)
    # No post after this instant: the second refresh finds nothing new (a quiet 5 minutes).
    quiet_from = int((fixed_now - timedelta(seconds=30)).timestamp() * 1000)
    url = f"s3://{s3_bucket}/elex"
    target = layout.clean_tweets_key(today)
    path = f"/{s3_bucket}/elex/{target}"
    raw, tweets = x_assets_for(ELECTION)
    jobs, _, _ = build_x_automation(raw, tweets)
    with XSandbox(election="2027", posts_per_day=3000, seed=5) as sandbox:
        newest_first = sandbox.generator.posts_newest_first
        sandbox.generator.posts_newest_first = (  # type: ignore[method-assign]
            lambda start, end: newest_first(start, min(end, quiet_from))
        )
        defs = with_monitoring(
            dg.Definitions(
                assets=[raw, tweets], jobs=jobs,
                resources={
                    "lake": LakeResource(url=url),
                    "registry": RegistryResource(election="2027"),
                    "x": XResource(base_url=sandbox.base_url, backoff_base=0.01),
                },
            ),
            ELECTION,
        )
        job = defs.resolve_job_def("x_refresh_job")
        lake = Lake.from_url(url)
        gets: list[int] = []
        versions = []
        metadata = []
        with dg.instance_for_test() as instance:
            for _ in range(2):
                result = job.execute_in_process(partition_key=day_key(today), instance=instance)
                assert result.success
                checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
                assert {"no_duplicate_ids", "required_columns", "posts_present",
                        "tweets_accounted"} <= set(checks)
                assert all(e.passed for e in checks.values()), checks
                log = served(recorded)
                gets.append(sum(1 for m, p in log if m == "GET" and p == path))
                versions.append((lake.modified_at(target),
                                 sum(1 for m, p in log if m == "PUT" and p == path)))
                meta = result.asset_materializations_for_node("tweets")[0].metadata
                metadata.append({k: meta[k].value for k in ("rows", "preview",
                                                            "posts_per_candidate_json")})
    print(f"GET requests of {target} per refresh: {gets}")
    assert versions[0][1] == 1  # the first refresh wrote the day once
    assert versions[1] == (versions[0][0], 0)  # the second, with nothing new, did not write
    assert all(n <= 1 for n in gets), gets
    # The quiet refresh reports what the file holds without reading it: the same figures.
    assert metadata[0] == metadata[1]
    assert metadata[0]["rows"] == lake.read_parquet(target).height > 0
