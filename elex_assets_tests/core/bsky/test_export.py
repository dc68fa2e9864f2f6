"""Weekly Kaggle export of bsky_posts: ids by default, text only under the full policy."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from elex_assets.core import layout
from elex_assets.core.kaggle.export import export_week, iso_week_days
from elex_assets.core.lake import Lake
from elex_assets.core.registry import load_registry
from elex_assets.core.schemas import BSKY_POSTS

COLLECTED = datetime(2027, 2, 17, 14, 30, tzinfo=UTC)  # when the built rows were collected

ELECTION = load_registry("2027").election
WEEK = (2026, 40)


def _day_frame(day, n: int) -> pl.DataFrame:
    rows = []
    for i in range(n):
        uri = f"at://did:plc:abc{i}/app.bsky.feed.post/3k{day:%m%d}{i:03d}"
        rows.append({
            "id": uri, "created_at": datetime(day.year, day.month, day.day, i % 24, tzinfo=UTC),
            "text": f"secret text {i} Bardella", "lang": "fr", "author_id": f"did:plc:abc{i}",
            "author_username": f"user{i}.bsky.social", "post_type": "original",
            "candidates": ["bardella"], "collected_at": COLLECTED,
            "source": "bsky_search", "platform": "bluesky", "like_count": i,
        })
    rows.append({"id": "at://did:plc:gone/app.bsky.feed.post/3kgone", "post_type": "deleted",
                 "created_at": datetime(day.year, day.month, day.day, tzinfo=UTC),
                 "candidates": [], "collected_at": COLLECTED, "source": "bsky_search",
                 "platform": "bluesky", "deleted_at": COLLECTED})
    return pl.DataFrame(rows, schema=BSKY_POSTS.polars)


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    lake = Lake.from_url(str(tmp_path))
    for day in iso_week_days(*WEEK):
        lake.write_parquet(layout.clean_bsky_key(day), _day_frame(day, 5))
    return lake


def _csv(lake: Lake, key: str) -> pl.DataFrame:
    return pl.read_csv(gzip.decompress(lake.read_bytes(key)))


def test_ids_policy_exports_uris_times_candidates_metrics_without_text(lake: Lake) -> None:
    export = export_week(lake, ELECTION, "bsky_posts", *WEEK)
    assert export.files == ["kaggle/2027/bsky_posts/2026_40.csv.gz"]
    df = _csv(lake, export.files[0])
    assert {"id", "created_at", "candidates", "like_count", "platform"} <= set(df.columns)
    assert "text" not in df.columns and "author_username" not in df.columns
    assert df.height == export.rows == 35  # tombstones are not exported
    assert not df["id"].str.contains("gone").any()
    assert export.content_policy == "ids"
    assert export.daily["2026-09-28"] == {"bardella": 5.0}


def test_full_policy_exports_the_text(lake: Lake) -> None:
    export = export_week(lake, ELECTION, "bsky_posts", *WEEK, content_policy="full")
    df = _csv(lake, export.files[0])
    assert df["text"].str.contains("secret text").all()
    assert "deleted_at" not in df.columns and df.height == 35


def test_the_dataset_gets_a_platforms_chart(lake: Lake) -> None:
    from elex_assets.core.kaggle.dataset import PublishSettings, assemble_dataset

    export_week(lake, ELECTION, "bsky_posts", *WEEK)
    out = assemble_dataset(lake, PublishSettings(dataset_id="me/elex-test", dataset_configured=False,
                                                 content_policy="ids", enabled=False))
    names = [name for name, _ in out["charts"]]
    assert "chart_2027_platforms.png" in names
    png = dict(out["charts"])["chart_2027_platforms.png"]
    assert png.startswith(b"\x89PNG") and lake.exists("kaggle/chart_2027_platforms.png")
