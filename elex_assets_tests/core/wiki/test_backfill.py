"""The archive elections' pageviews: a whole campaign from its registry, in a request per
article, into the live asset's daily files and weekly exports."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import polars as pl

from elex_assets.core import layout
from elex_assets.core.kaggle.export import read_manifests
from elex_assets.core.lake import Lake
from elex_assets.core.registry import load_registry
from elex_assets.core.wiki.backfill import backfill_election
from elex_assets.core.wiki.client import WikiClient, user_agent
from elex_assets.defs.archive import archive_wiki_pageviews
from elex_assets.defs.wiki.resources import WikiResource
from elex_assets.resources import LakeResource
from elex_assets.sandbox.wiki_server import WikiSandbox

NOW = datetime(2017, 6, 1, tzinfo=UTC)


def test_the_2017_campaign_in_one_request_per_article(tmp_path: Path) -> None:
    registry = load_registry("2017")
    lake = Lake.from_url(str(tmp_path))
    with WikiSandbox.for_candidates(registry.candidates, clock=lambda: NOW) as sandbox:
        client = WikiClient(user_agent("ops@example.org"), sandbox.base_url)
        report = backfill_election(client, lake, registry, ("fr", "en"), now=NOW)
    election = registry.election
    days = (election.campaign_end - election.campaign_start).days + 1
    assert report.articles == 2 * len(registry) == len(sandbox.requests) == client.requests
    assert len(report.written) == days and report.result.not_loaded == []
    first = pl.read_parquet(tmp_path / layout.clean_wiki_key(date(2017, 1, 1)))
    assert set(first["candidate_id"]) == set(registry.ids)
    # complete weeks only: 2017-01-01 is a Sunday (its week began in 2016), 2017-05-14 too
    manifests = [m for m in read_manifests(lake) if m["source"] == "wiki_pageviews"]
    assert len(manifests) == len(report.weeks_exported) == 20
    assert all(m["election"] == "2017" and not m["missing_days"] for m in manifests)
    assert sum(m["rows"] for m in manifests) == 2 * len(registry) * days


def test_the_archive_asset_runs_the_same_backfill(tmp_path: Path) -> None:
    registry = load_registry("2022")
    now = datetime(2022, 6, 1, tzinfo=UTC)
    with WikiSandbox.for_candidates(registry.candidates, clock=lambda: now) as sandbox:
        result = dg.materialize(
            [archive_wiki_pageviews],
            run_config={"ops": {"archive_wiki_pageviews": {"config": {"election": "2022",
                                                                      "export": False}}}},
            resources={"lake": LakeResource(url=str(tmp_path)),
                       "wiki": WikiResource(base_url=sandbox.base_url)})
    assert result.success
    meta = result.asset_materializations_for_node("archive_wiki_pageviews")[0].metadata
    election = registry.election
    assert meta["days_written"].value == (election.campaign_end - election.campaign_start).days + 1
    assert meta["answers"].value == 2 * len(registry)
    assert (tmp_path / layout.clean_wiki_key(election.campaign_start + timedelta(days=30))).exists()
