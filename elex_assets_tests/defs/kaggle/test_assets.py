"""Kaggle assets in Dagster: weekly exports, the incomplete-week rule, automation, dataset."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from elex_assets.core.lake import Lake
from elex_assets.defs.kaggle.assets import (
    FORCE_TAG,
    kaggle_automation_sensor,
    kaggle_dataset_asset,
    kaggle_export_assets,
)
from elex_assets.defs.kaggle.resources import KaggleResource
from elex_assets.partitions import daily_partitions, trends_partitions
from elex_assets.resources import LakeResource
from elex_assets.settings import open_lake
from elex_assets_tests.fake_kaggle import FakeKaggleServer
from elex_assets_tests.lake_builder import PAST_ELECTION as ELECTION
from elex_assets_tests.lake_builder import build_weeks, week, write_tweets_day

MONDAY = date(2021, 11, 22)  # partition key of 2021-W47
EXPORTS = kaggle_export_assets(ELECTION)
DATASET = kaggle_dataset_asset(EXPORTS)
BY_NAME = {a.key.to_user_string(): a for a in EXPORTS}


def upstream_stubs() -> list[dg.AssetSpec]:
    """Stand-ins for the collectors' assets, with their partitions (written on other branches)."""
    stubs = [dg.AssetSpec("tweets", partitions_def=daily_partitions(ELECTION))]
    stubs += [
        dg.AssetSpec(f"trends_{k}", partitions_def=trends_partitions(ELECTION))
        for k in ("interest_over_time", "interest_by_region", "related_topics", "related_queries")
    ]
    return stubs


@pytest.fixture
def lake(tmp_path) -> Lake:
    return Lake.from_url(str(tmp_path / "lake"))


def resources(lake: Lake, **kaggle) -> dict:
    return {"lake": LakeResource(url=lake.url), "kaggle": KaggleResource(**kaggle)}


def test_weekly_export_materialises_with_metadata(lake: Lake):
    rows = build_weeks(lake, [MONDAY], tweets_per_day=3)
    result = dg.materialize(
        [BY_NAME["kaggle_tweets"]], partition_key=MONDAY.isoformat(), resources=resources(lake)
    )
    assert result.success
    (mat,) = result.asset_materializations_for_node("kaggle_tweets")
    assert mat.metadata["rows"].value == rows["tweets"]
    assert mat.metadata["iso_week"].value == "2021-W47"
    assert mat.metadata["path"].value.endswith("kaggle/2022/tweets/2021_47.csv.gz")
    assert mat.metadata["content_policy"].value == "ids"
    preview = mat.metadata["preview"].value.splitlines()
    assert preview[0].startswith("| id | created_at | lang |") and len(preview) == 2 + 5
    assert lake.exists("kaggle/2022/tweets/2021_47.csv.gz")


def test_incomplete_week_fails_plainly_unless_forced(lake: Lake):
    for day in week(MONDAY)[:6]:
        write_tweets_day(lake, day, 2)
    asset = BY_NAME["kaggle_tweets"]
    result = dg.materialize(
        [asset],
        partition_key=MONDAY.isoformat(),
        resources=resources(lake),
        raise_on_error=False,
    )
    assert not result.success
    failure = result.failure_data_for_node("kaggle_tweets")
    assert "no data for 2021-11-28" in failure.error.message
    assert not lake.exists("kaggle/2022/tweets/2021_47.csv.gz")

    by_config = dg.materialize(
        [asset],
        partition_key=MONDAY.isoformat(),
        resources=resources(lake),
        run_config=dg.RunConfig({"kaggle_tweets": {"config": {"allow_incomplete": True}}}),
    )
    (mat,) = by_config.asset_materializations_for_node("kaggle_tweets")
    assert mat.metadata["missing_days"].value == ["2021-11-28"]
    assert mat.metadata["forced_incomplete"].value is True

    by_tag = dg.materialize(
        [asset],
        partition_key=MONDAY.isoformat(),
        resources=resources(lake),
        tags={FORCE_TAG: "true"},
    )
    assert by_tag.success


def test_definitions_load_with_the_upstream_assets_and_map_partitions():
    defs = dg.Definitions(
        assets=[*upstream_stubs(), *EXPORTS, DATASET], resources=resources(Lake.from_url("."))
    )
    graph = defs.resolve_asset_graph()
    tweets = graph.get(dg.AssetKey("kaggle_tweets"))
    assert dg.AssetKey("tweets") in tweets.parent_keys
    trends = graph.get(dg.AssetKey("kaggle_trends_related_topics"))
    assert dg.AssetKey("trends_related_topics") in trends.parent_keys
    mapping = graph.get_partition_mapping(
        dg.AssetKey("kaggle_trends_related_topics"), dg.AssetKey("trends_related_topics")
    )
    upstream = mapping.get_upstream_mapped_partitions_result_for_partitions(
        graph.get(dg.AssetKey("kaggle_trends_related_topics"))
        .partitions_def.empty_subset()
        .with_partition_keys([MONDAY.isoformat()]),
        graph.get(dg.AssetKey("kaggle_trends_related_topics")).partitions_def,
        trends_partitions(ELECTION),
    ).partitions_subset.get_partition_keys()
    assert sorted(upstream) == sorted(
        f"{a}|{d.isoformat()}" for d in week(MONDAY) for a in ("fr", "world")
    )


def test_a_week_exports_itself_once_its_seventh_day_landed():
    defs = dg.Definitions(
        assets=[*upstream_stubs(), BY_NAME["kaggle_tweets"]],
        resources=resources(Lake.from_url(".")),
    )
    instance = dg.DagsterInstance.ephemeral()
    when = datetime(2021, 11, 29, 6, tzinfo=UTC)  # Monday after the week

    def requested(cursor=None):
        result = dg.evaluate_automation_conditions(
            defs=defs,
            instance=instance,
            evaluation_time=when,
            cursor=cursor,
            asset_selection=dg.AssetSelection.assets("kaggle_tweets"),
        )
        keys = {
            pk
            for ar in result.results
            for pk in (
                ar.true_subset.expensively_compute_partition_keys()
                if ar.key == dg.AssetKey("kaggle_tweets")
                else []
            )
        }
        return keys, result.cursor

    for day in week(MONDAY)[:6]:
        instance.report_runless_asset_event(
            dg.AssetMaterialization("tweets", partition=day.isoformat())
        )
    keys, cursor = requested()
    assert keys == set()  # Sunday has not landed: the week waits
    instance.report_runless_asset_event(
        dg.AssetMaterialization("tweets", partition=week(MONDAY)[6].isoformat())
    )
    keys, _ = requested(cursor)
    assert keys == {MONDAY.isoformat()}


def test_automation_sensor_runs_by_default():
    sensor = kaggle_automation_sensor()
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert isinstance(sensor, dg.AutomationConditionSensorDefinition)


def test_project_definitions_include_kaggle():
    from elex_assets.definitions import get_defs

    defs = get_defs()

    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"kaggle_tweets", "kaggle_trends_interest_over_time", "kaggle_dataset"} <= keys
    sensors = {s.name: s for s in defs.sensors or []}
    assert sensors["kaggle_automation_sensor"].default_status == dg.DefaultSensorStatus.RUNNING


def dataset_folder(lake: Lake) -> Path:
    return Path(lake.url) / "kaggle"


def export_two_weeks(lake: Lake) -> None:
    build_weeks(lake, [MONDAY, date(2021, 11, 29)], tweets_per_day=2)
    for asset in EXPORTS:
        for monday in (MONDAY, date(2021, 11, 29)):
            assert dg.materialize(
                [asset], partition_key=monday.isoformat(), resources=resources(lake)
            ).success


def test_dataset_folder_is_built_and_not_published_without_credentials(lake: Lake):
    export_two_weeks(lake)
    result = dg.materialize([DATASET], resources=resources(lake, dataset="jane/elex-french-2022"))
    (mat,) = result.asset_materializations_for_node("kaggle_dataset")
    assert mat.metadata["published"].value is False
    assert "publishing is disabled" in mat.metadata["publication"].value
    assert mat.metadata["chart_2022.png"].value.startswith("![chart_2022.png](data:image/png")
    folder = dataset_folder(lake)
    meta = json.loads((folder / "dataset-metadata.json").read_text())
    assert meta["id"] == "jane/elex-french-2022"
    weekly = [r for r in meta["resources"] if r["path"].endswith(".csv.gz")]
    assert len(weekly) == 12  # 6 sources x 2 weeks
    assert (folder / "chart_2022.png").read_bytes().startswith(b"\x89PNG")
    # What a reader needs beside the weekly files, each listed in the metadata.
    for name in (
        "DATA_DICTIONARY.md",
        "starter_notebook.ipynb",
        "2022/candidates.csv",
        "2022/queries.csv",
    ):
        assert (folder / name).is_file(), name
        assert name in {r["path"] for r in meta["resources"]}
    assert meta["image"] == "dataset-cover-image.png"
    assert (folder / "dataset-cover-image.png").read_bytes().startswith(b"\x89PNG")
    assert meta["expectedUpdateFrequency"] == "weekly"
    candidates = pl.read_csv(folder / "2022/candidates.csv")
    assert {"candidate_id", "name", "party", "status", "search_terms"} <= set(candidates.columns)
    assert "macron" in candidates["candidate_id"].to_list()
    queries = pl.read_csv(folder / "2022/queries.csv")
    week_ids = set(pl.read_csv(folder / "2022/tweets/2021_47.csv.gz")["query_id"])
    assert week_ids <= set(queries["query_id"]) and queries["query"].str.len_chars().min() > 0
    assert mat.metadata["notebook"].value == "executed"


def test_dataset_is_published_then_versioned(lake: Lake, tmp_path, monkeypatch):
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "kaggle-config"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    export_two_weeks(lake)
    with FakeKaggleServer() as fake:
        res = resources(
            lake,
            dataset="jane/elex-french-2022",
            username="jane",
            key="k",
            publish=True,
            api_endpoint=fake.url,
        )
        first = dg.materialize([DATASET], resources=res)
        (mat,) = first.asset_materializations_for_node("kaggle_dataset")
        assert mat.metadata["published"].value is True
        assert mat.metadata["publication"].value == "created jane/elex-french-2022"
        # A late Sunday post re-exports week 48; week 50 is new.
        write_tweets_day(lake, date(2021, 11, 28), 1, archive="late")
        assert dg.materialize(
            [BY_NAME["kaggle_tweets"]], partition_key="2021-11-22", resources=res
        ).success
        build_weeks(lake, [date(2021, 12, 6)], tweets_per_day=1)
        assert dg.materialize(
            [BY_NAME["kaggle_tweets"]], partition_key="2021-12-06", resources=res
        ).success
        assert dg.materialize([DATASET], resources=res).success
    (version,) = fake.bodies("CreateDatasetVersion")
    assert version["body"]["versionNotes"] == (
        "Added 1 weekly file(s): 2022/tweets/2021_49.csv.gz. "
        "Replaced 1 weekly file(s): 2022/tweets/2021_47.csv.gz."
    )
    assert "s3cr3t-key" not in json.dumps({k: str(v.value) for k, v in mat.metadata.items()})


def test_dataset_publishes_from_an_s3_lake(s3_bucket, tmp_path, monkeypatch):
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "kaggle-config"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    lake = open_lake(f"s3://{s3_bucket}/lake")
    build_weeks(lake, [MONDAY], tweets_per_day=1)
    res_lake = resources(lake)
    assert dg.materialize(
        [BY_NAME["kaggle_tweets"]], partition_key=MONDAY.isoformat(), resources=res_lake
    ).success
    with FakeKaggleServer() as fake:
        res = resources(
            lake,
            dataset="jane/elex-french-2022",
            username="jane",
            key="k",
            publish=True,
            api_endpoint=fake.url,
        )
        assert dg.materialize([DATASET], resources=res).success
    assert lake.exists("kaggle/dataset-metadata.json") and lake.exists("kaggle/chart_2022.png")
    (create,) = fake.bodies("CreateDataset")
    # The cover image travels through the metadata ("image"), not as a data file.
    assert sorted(fake.names[f["token"]] for f in create["files"]) == [
        "2022.zip",
        "DATA_DICTIONARY.md",
        "chart_2022.png",
        "starter_notebook.ipynb",
    ]
    # Then the metadata update carries what versions do not: cover image, update frequency.
    (update,) = fake.bodies("UpdateDatasetMetadata")
    assert update["settings"]["expectedUpdateFrequency"] == "weekly"
    assert update["settings"]["image"]["token"] in fake.names
    assert fake.names[update["settings"]["image"]["token"]] == "dataset-cover-image.png"
