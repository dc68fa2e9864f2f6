"""Publishing through the real kaggle client against a fake Kaggle API on loopback."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from datetime import date
from pathlib import Path

import pytest

from elex_assets.core.kaggle.export import export_week, read_manifests
from elex_assets.core.kaggle.metadata import build_metadata
from elex_assets.core.kaggle.publish import (
    file_fingerprints,
    publish,
    version_notes,
    why_not_publish,
)
from elex_assets.core.lake import Lake
from elex_assets_tests.fake_kaggle import FakeKaggleServer
from elex_assets_tests.lake_builder import ELECTION, build_weeks

DATASET = "jane/french-election-test"


@pytest.fixture
def kaggle_env(tmp_path, monkeypatch):
    """No real credentials or config reachable: a temp config dir and home."""
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "kaggle-config"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN", "KAGGLE_API_ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def folder(tmp_path) -> Path:
    lake = Lake.from_url(str(tmp_path / "lake"))
    build_weeks(lake, [date(2026, 11, 23)], tweets_per_day=2)
    export_week(lake, ELECTION, "tweets", 2026, 48)
    export_week(lake, ELECTION, "trends_related_queries", 2026, 48)
    metadata = build_metadata(DATASET, read_manifests(lake), [], "ids")
    lake.write_bytes("kaggle/dataset-metadata.json", json.dumps(metadata).encode())
    return Path(lake.url) / "kaggle"


def test_creates_the_dataset_when_kaggle_does_not_know_it(kaggle_env, folder):
    with FakeKaggleServer() as fake:
        result = publish(
            folder,
            dataset_id=DATASET,
            username="jane",
            key="s3cr3t",
            notes="Added 2 weekly file(s)",
            endpoint=fake.url,
        )
    assert result.published and result.action == "created"
    assert [name for name, _ in fake.calls] == [
        "GetDatasetStatus",
        "GetDatasetStatus",
        "StartBlobUpload",
        "CreateDataset",
        "UpdateDatasetMetadata",  # then the metadata update (no cover image in this folder)
    ]
    update = fake.bodies("UpdateDatasetMetadata")[0]
    assert update["settings"]["expectedUpdateFrequency"] == "weekly"
    # Legacy API key: HTTP basic auth with the username and key.
    assert fake.auth[0] == "Basic " + base64.b64encode(b"jane:s3cr3t").decode()
    create = fake.bodies("CreateDataset")[0]
    assert create["ownerSlug"] == "jane" and create["slug"] == "french-election-test"
    assert create["title"] == "French Presidential Election: X & Google Trends"
    assert create["licenseName"] == "CC-BY-SA-4.0"
    assert "## Election 2027" in create["description"]
    assert create.get("isPrivate", False) is False  # public (false is not serialised)
    # The election folder travels as a zip that Kaggle unpacks into folders.
    (token,) = [f["token"] for f in create["files"]]
    assert fake.names[token] == "2027.zip"
    names = zipfile.ZipFile(io.BytesIO(fake.uploads[token])).namelist()
    assert sorted(n.replace("\\", "/") for n in names) == [
        "trends_related_queries/2026_48.csv.gz",
        "tweets/2026_48.csv.gz",
    ]


def test_new_version_carries_the_notes(kaggle_env, folder):
    with FakeKaggleServer() as fake:
        fake.known.add(DATASET)
        notes = "Added 1 weekly file(s): 2027/tweets/2026_49.csv.gz."
        result = publish(
            folder,
            dataset_id=DATASET,
            username="jane",
            key="k",
            notes=notes,
            endpoint=fake.url,
        )
    assert result.action == "new version"
    (version,) = fake.bodies("CreateDatasetVersion")
    assert version["ownerSlug"] == "jane" and version["datasetSlug"] == "french-election-test"
    assert version["body"]["versionNotes"] == notes
    assert len(version["body"]["files"]) == 1


def test_version_notes_say_what_changed():
    before = {"kaggle/2027/tweets/2026_48.csv.gz": "t1"}
    after = {"kaggle/2027/tweets/2026_48.csv.gz": "t2", "kaggle/2027/tweets/2026_49.csv.gz": "t2"}
    assert version_notes(before, after) == (
        "Added 1 weekly file(s): 2027/tweets/2026_49.csv.gz. "
        "Replaced 1 weekly file(s): 2027/tweets/2026_48.csv.gz."
    )
    assert "no weekly file changed" in version_notes(after, after)


def test_reasons_not_to_publish():
    assert "disabled" in why_not_publish(False, "jane", "k")
    assert why_not_publish(True, None, None) == "KAGGLE_USERNAME and KAGGLE_KEY not set"
    assert why_not_publish(True, "jane", "k") is None


def test_fingerprints_cover_every_file(tmp_path):
    manifests = [{"files": ["a.csv.gz", "a.parquet"], "exported_at": "x"}]
    assert file_fingerprints(manifests) == {"a.csv.gz": "x", "a.parquet": "x"}
