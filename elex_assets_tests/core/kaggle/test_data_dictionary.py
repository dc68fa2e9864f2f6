"""DATA_DICTIONARY.md and the reference files come from the schemas and the registry."""

from __future__ import annotations

from datetime import date

import polars as pl

from elex_assets.core.kaggle.data_dictionary import (
    FAMILIES,
    data_dictionary,
    family_columns,
    incomplete_families,
)
from elex_assets.core.kaggle.export import SOURCES, export_week, read_manifests
from elex_assets.core.kaggle.reference import (
    candidates_frame,
    queries_frame,
    to_csv,
    write_reference_files,
)
from elex_assets.core.lake import Lake
from elex_assets.core.registry import load_registry
from elex_assets.core.schemas import CANDIDATES_FILE, QUERIES_FILE, TRENDS, TWEETS
from elex_assets_tests.lake_builder import ELECTION, build_weeks


def test_every_column_of_every_family_is_documented_from_the_schemas():
    sources = {"tweets": "ids", "tweet_counts": None, **{f"trends_{k}": None for k in TRENDS}}
    text = data_dictionary(sources, posts_plan="sample")
    for source, policy in sources.items():
        assert f"## `{source}`:" in text
        for col in family_columns(source, policy):
            assert f"| `{col.name}` |" in text, (source, col.name)
            assert col.description in text
    for schema in (CANDIDATES_FILE, QUERIES_FILE):
        for col in schema.columns:
            assert f"| `{col.name}` |" in text and col.description in text
    # Schema descriptions are used verbatim: a changed description changes the dictionary.
    assert TWEETS.columns[1].description in text
    assert "| `value_comparable` | decimal | % of the anchor's mean interest that day |" in text
    assert "| `created_at` | timestamp (ISO 8601, UTC) | UTC |" in text
    assert "Posts plan of this collection: **sample**" in text
    for caveat in ("Compliance removals", "`value_comparable` = 100 x value", "Sampling"):
        assert caveat in text
    assert "`text`" not in text.split("## `tweets`")[1].split("## `")[0]  # ids policy


def test_candidates_file_from_the_registry():
    reg = load_registry("2027")
    df = candidates_frame([c.to_dict() for c in reg.candidates])
    assert df.columns == CANDIDATES_FILE.names and df.height == len(reg)
    row = df.filter(pl.col("candidate_id") == reg.candidates[1].id).row(0, named=True)
    cand = reg.candidates[1]
    assert row["name"] == cand.name and row["party"] == cand.party
    assert row["status"] in ("potential", "declared", "withdrawn")
    assert row["status_as_of"] == cand.as_of
    assert row["search_terms"] == list(cand.search_terms)
    csv = pl.read_csv(to_csv(df, CANDIDATES_FILE))
    assert csv.columns == CANDIDATES_FILE.names
    assert ";" in "".join(csv["search_terms"].drop_nulls().to_list())


def test_queries_file_lists_every_query_of_the_weekly_files(tmp_path):
    lake = Lake.from_url(str(tmp_path / "lake"))
    build_weeks(lake, [date(2026, 11, 23), date(2026, 11, 30)], tweets_per_day=1)
    for w in (48, 49):
        export_week(lake, ELECTION, "tweets", 2026, w)
    manifests = read_manifests(lake)
    entries = [{"id": "macron", "search_terms": ["macron"]}, {"id": "x", "search_terms": ["zz"]}]
    df = queries_frame(manifests, entries)
    assert df.to_dicts() == [
        {
            "query_id": next(iter(manifests[0]["queries"])),
            "query": "macron OR le pen",
            "candidates": ["macron"],
            "first_week": "2026-W48",
            "last_week": "2026-W49",
        }
    ]
    out = write_reference_files(lake, "2027", manifests)
    assert sorted(out) == ["kaggle/2027/candidates.csv", "kaggle/2027/queries.csv"]
    assert lake.exists("kaggle/2027/queries.csv")


def test_every_family_the_export_can_write_has_a_complete_entry():
    """A new family (e.g. wiki_pageviews) in the export fails here until it is described."""
    assert incomplete_families(SOURCES) == {}
    assert incomplete_families(["wiki_pageviews_draft"]) == {"wiki_pageviews_draft": ["entry"]}


def test_every_family_has_its_summary_row_and_a_section_titled_in_words():
    """Issue 26: bsky_posts had no file pattern, no "one row is", a section `bsky_posts: bsky_posts`."""
    text = data_dictionary({s: ("ids" if s in ("tweets", "bsky_posts") else None)
                            for s in SOURCES})
    for source in SOURCES:
        fam = FAMILIES[source]
        assert f"| `{source}` | `{fam.path}` | {fam.row} |" in text, source
        assert f"## `{source}`: {fam.title}" in text, source
        assert fam.title != source and fam.path.endswith(".csv.gz") and fam.row
    assert "## `bsky_posts`: Posts on Bluesky naming the candidates" in text
    assert "`<election>/bsky_posts/<ISO year>_<ISO week>.csv.gz`" in text
    section = text.split("## `bsky_posts`")[1].split("## `")[0]
    assert "`text`" not in section  # ids policy
    assert "| `id` |" in section


def test_a_family_without_an_entry_still_reads_in_words():
    text = data_dictionary({"news_articles": None})
    assert "## `news_articles`: News articles" in text
    assert "`<election>/news_articles/<ISO year>_<ISO week>.csv.gz`" in text


def test_the_wiki_pageviews_family_says_what_a_row_is_and_the_automated_caveat():
    text = data_dictionary({"wiki_pageviews": None})
    section = text.split("## `wiki_pageviews`:")[1]
    assert section.startswith(" Wikipedia page views per candidate")
    assert "`<election>/wiki_pageviews/<ISO year>_<ISO week>.csv.gz`" in section
    assert "**One row is** one candidate's article on one Wikipedia (fr or en) on one UTC day" \
        in section
    assert "since May 2020" in section and "2017 views still include it" in section
    for col in family_columns("wiki_pageviews", None):
        assert f"| `{col.name}` |" in section
    assert "| `views` | integer | page views per day |" in section
