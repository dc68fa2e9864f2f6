"""dataset-metadata.json: id, title, subtitle, license, per-file schemas, description."""

from __future__ import annotations

from datetime import date

import pytest

from elex_assets.core.kaggle.export import export_week, read_manifests
from elex_assets.core.kaggle.metadata import MetadataError, build_metadata, check_dataset_id
from elex_assets.core.lake import Lake
from elex_assets.core.schemas import TRENDS, TWEETS
from elex_assets_tests.lake_builder import ELECTION, build_weeks, week, write_tweets_day


@pytest.fixture
def manifests(tmp_path) -> list[dict]:
    lake = Lake.from_url(str(tmp_path / "lake"))
    build_weeks(lake, [date(2026, 11, 23)], tweets_per_day=2)
    for day in week(date(2026, 11, 30))[:5]:
        write_tweets_day(lake, day, 1)
    export_week(lake, ELECTION, "tweets", 2026, 48, content_policy="full")
    export_week(lake, ELECTION, "tweets", 2026, 49, allow_incomplete=True)
    export_week(lake, ELECTION, "trends_interest_over_time", 2026, 48, parquet_twin=True)
    return read_manifests(lake)


def test_metadata_schema(manifests):
    meta = build_metadata(
        "jane/french-election-test",
        manifests,
        ["chart_2027.png"],
        "ids",
        extra_files={"DATA_DICTIONARY.md": "Every column"},
        cover="dataset-cover-image.png",
    )
    assert set(meta) == {
        "id",
        "title",
        "subtitle",
        "licenses",
        "keywords",
        "expectedUpdateFrequency",
        "image",
        "description",
        "resources",
    }
    assert meta["expectedUpdateFrequency"] == "weekly"
    assert meta["image"] == "dataset-cover-image.png"
    assert meta["id"] == "jane/french-election-test"
    assert 6 <= len(meta["title"]) <= 50 and 20 <= len(meta["subtitle"]) <= 80
    assert meta["licenses"] == [{"name": "CC-BY-SA-4.0"}]
    paths = [r["path"] for r in meta["resources"]]
    assert paths == [
        "2027/trends_interest_over_time/2026_48.csv.gz",
        "2027/trends_interest_over_time/2026_48.parquet",
        "2027/tweets/2026_48.csv.gz",
        "2027/tweets/2026_49.csv.gz",
        "DATA_DICTIONARY.md",
        "chart_2027.png",
    ]
    by_path = {r["path"]: r for r in meta["resources"]}
    full = by_path["2027/tweets/2026_48.csv.gz"]["schema"]["fields"]
    assert [f["name"] for f in full] == [("query_id" if n == "query" else n) for n in TWEETS.names]
    fields = {f["name"]: f for f in full}
    assert fields["created_at"]["type"] == "datetime"
    assert fields["like_count"]["type"] == "integer"
    assert fields["candidates"]["description"].startswith("Ids of the candidates the post names")
    assert "';'-separated" in fields["candidates"]["description"]
    ids = by_path["2027/tweets/2026_49.csv.gz"]
    assert "text" not in [f["name"] for f in ids["schema"]["fields"]]
    assert "missing 2026-12-05, 2026-12-06" in ids["description"]
    trends = by_path["2027/trends_interest_over_time/2026_48.csv.gz"]["schema"]["fields"]
    assert [f["name"] for f in trends] == TRENDS["interest_over_time"].names
    assert {f["name"]: f["type"] for f in trends}["value_comparable"] == "numeric"


def test_description_has_coverage_counts_gaps_and_chart(manifests):
    text = build_metadata("jane/french-election-test", manifests, ["chart_2027.png"], "ids")[
        "description"
    ]
    assert "## Election 2027" in text
    assert "| tweets | 2 (2026-W48 to 2026-W49) | 12 (2026-11-23 to 2026-12-04) | 40 |" in text
    assert "tweets 2026-W49: exported incomplete, no data for 2026-12-05, 2026-12-06" in text
    assert "`chart_2027.png`" in text
    assert "re-hydrate" in text
    assert "## Columns of `tweets` (content policy `ids`)" in text
    assert "| `value_comparable` | numeric | Interest rescaled on the shared anchor term" in text
    assert "https://github.com/" not in text  # no placeholder link


def test_description_starts_with_coverage_missing_days_and_posts_plan(manifests):
    text = build_metadata(
        "jane/french-election-test", manifests, [], "ids", posts_plan="sample"
    )["description"]
    first = text.splitlines()
    assert first[0].startswith("**Coverage:** election 2027: posts on X 2026-11-23 to "
                               "2026-12-04 (12 days, 40 rows); Google Trends 2026-11-23 to "
                               "2026-11-29")
    assert "Updated weekly" in first[0]
    assert first[2] == ("**Missing days:** 2027 tweets 2026-12-05, 2027 tweets 2026-12-06.")
    assert first[4].startswith("**Posts plan:** `sample`: a sample")


@pytest.mark.parametrize("bad", [None, "", "noslash", "jane/Bad_Slug", "jane/short"])
def test_dataset_id_is_checked(bad):
    with pytest.raises(MetadataError, match="KAGGLE_DATASET"):
        check_dataset_id(bad)


def test_every_election_in_the_lake_is_described(tmp_path):
    from elex_assets_tests.lake_builder import PAST_ELECTION

    lake = Lake.from_url(str(tmp_path / "lake"))
    build_weeks(lake, [date(2021, 11, 22), date(2026, 11, 23)], tweets_per_day=1)
    export_week(lake, PAST_ELECTION, "tweets", 2021, 47)
    export_week(lake, ELECTION, "tweets", 2026, 48)
    meta = build_metadata("jane/french-election-test", read_manifests(lake), [], "ids")
    assert [r["path"] for r in meta["resources"]] == [
        "2022/tweets/2021_47.csv.gz",
        "2027/tweets/2026_48.csv.gz",
    ]
    assert "election 2022: posts on X" in meta["description"].splitlines()[0]
    assert "## Election 2022" in meta["description"] and "## Election 2027" in meta["description"]


def _as_source(manifests: list[dict], source: str) -> list[dict]:
    """The tweets weeks presented as another family's (its files renamed)."""
    return [{**m, "source": source, "content_policy": "ids",
             "files": [f.replace("/tweets/", f"/{source}/") for f in m["files"]]}
            for m in manifests if m["source"] == "tweets"]


def test_the_dataset_names_bluesky_when_it_holds_bluesky_posts(manifests):
    """Issue 26: the face of the dataset named only X and Trends, though it held Bluesky."""
    with_bsky = manifests + _as_source(manifests, "bsky_posts")
    meta = build_metadata("jane/french-election-test", with_bsky, [], "ids")
    assert "Bluesky" in meta["title"] and "Bluesky" in meta["subtitle"]
    assert 6 <= len(meta["title"]) <= 50 and 20 <= len(meta["subtitle"]) <= 80
    assert "bluesky" in meta["keywords"]
    coverage = meta["description"].splitlines()[0]
    # coverage per source: each family present, in words
    assert "posts on X 2026-11-23 to 2026-12-04" in coverage
    assert "posts on Bluesky 2026-11-23 to 2026-12-04 (12 days, 40 rows)" in coverage
    assert "# French presidential election on X, Bluesky and Google Trends" in meta["description"]
    by_path = {r["path"]: r["description"] for r in meta["resources"]}
    assert by_path["2027/bsky_posts/2026_48.csv.gz"].startswith(
        "Posts on Bluesky naming the candidates, election 2027")


def test_without_bluesky_weeks_the_face_names_what_it_holds(manifests):
    meta = build_metadata("jane/french-election-test", manifests, [], "ids")
    assert meta["title"] == "French Presidential Election: X & Google Trends"
    assert "Bluesky" not in meta["subtitle"] and "bluesky" not in meta["keywords"]


def test_a_new_platform_is_named_once_its_family_is_described(manifests, monkeypatch):
    """The hook for Wikipedia pageviews: a FAMILIES entry is all the face needs."""
    from elex_assets.core.kaggle import data_dictionary, metadata

    columns = metadata.column_fields  # the family's schema lands with it, not here
    monkeypatch.setattr(metadata, "column_fields", lambda source, policy: (
        [] if source == "wiki_pageviews" else columns(source, policy)))
    monkeypatch.setitem(data_dictionary.FAMILIES, "wiki_pageviews", data_dictionary.Family(
        "Wikipedia pageviews of the candidates' articles",
        "<election>/wiki_pageviews/<ISO year>_<ISO week>.csv.gz",
        "one article on one day", "Wikimedia's pageviews API.",
        label="Wikipedia pageviews", platform="Wikipedia"))
    every = manifests + _as_source(manifests, "bsky_posts") + _as_source(
        manifests, "wiki_pageviews")
    meta = build_metadata("jane/french-election-test", every, [], "ids")
    assert 6 <= len(meta["title"]) <= 50 and 20 <= len(meta["subtitle"]) <= 80
    for name in ("X", "Bluesky", "Trends", "Wikipedia"):
        assert name in meta["title"] and name in meta["subtitle"]
    assert "wikipedia" in meta["keywords"]
    assert "Wikipedia pageviews 2026-11-23" in meta["description"].splitlines()[0]
