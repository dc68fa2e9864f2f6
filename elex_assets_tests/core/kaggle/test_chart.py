"""The charts: small multiples a reader can follow, and a cover legible at Kaggle's size."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import polars as pl
import pytest

from elex_assets.core.kaggle.chart import (
    COVER_SIZE,
    HIGHLIGHT,
    chart_figure,
    cover_figure,
    election_share_of_voice,
    merge_daily,
    render_chart,
    render_cover,
    share_of_voice,
)
from elex_assets.core.lake import Lake

NAMES = {f"c{i}": f"Person Number{i}" for i in range(16)}
POSTS = {
    f"2026-11-{16 + d}": {f"c{i}": float((16 - i) * 10 + d) for i in range(16)} for d in range(7)
}
INTEREST = {f"2026-11-{16 + d}": {f"c{i}": 100.0 / (i + 1) for i in range(16)} for d in range(7)}


def test_share_of_voice_uses_the_union_when_known():
    sov = share_of_voice({"2026-11-23": {"a": 3.0, "b": 1.0}, "2026-11-24": {}})
    assert sov == {"2026-11-23": {"a": 0.75, "b": 0.25}, "2026-11-24": {}}
    # A post naming both counts once in the union: shares then sum to more than 1.
    union = share_of_voice({"2026-11-23": {"a": 3.0, "b": 1.0, "_all": 3.0}})
    assert union == {"2026-11-23": {"a": 1.0, "b": 1 / 3}}
    assert share_of_voice({"d": {"a": 1.0}}, {"d": 4.0}) == {"d": {"a": 0.25}}


def test_later_exports_win_per_day():
    manifests = [
        {"source": "tweets", "daily": {"2026-11-23": {"a": 1.0}}},
        {"source": "tweets", "daily": {"2026-11-23": {"a": 5.0}, "2026-11-24": {"b": 2.0}}},
        {"source": "trends_related_queries", "daily": {}},
    ]
    assert merge_daily(manifests, "tweets") == {"2026-11-23": {"a": 5.0}, "2026-11-24": {"b": 2.0}}


def _visible(fig):
    return [ax for ax in fig.get_axes() if ax.get_visible()]


def test_one_panel_per_candidate_and_block_with_shared_axes_and_units():
    fig = chart_figure(POSTS, INTEREST, "Election", NAMES)
    axes = _visible(fig)
    assert len(axes) == 2 * 16  # share of voice block + Trends block
    titles = [ax.get_title(loc="left") for ax in axes]
    assert titles[:16] == titles[16:] == [NAMES[f"c{i}"] for i in range(16)]  # busiest first
    texts = [sf._suptitle.get_text() for sf in fig.subfigs]
    assert "unit: % of posts naming any candidate that name this one" in texts[0]
    assert "unit: 100 = the anchor term's mean interest that day" in texts[1]
    sov, trends = axes[:16], axes[16:]
    assert len({ax.get_ylim() for ax in sov}) == 1 and len({ax.get_ylim() for ax in trends}) == 1
    assert len({ax.get_xlim() for ax in axes}) == 1
    # In each panel, exactly one line is the candidate's colour; the others are grey.
    for ax in axes:
        colours = [line.get_color() for line in ax.get_lines()]
        assert colours.count(HIGHLIGHT) == 1 and len(colours) == 16
    plt.close(fig)


@pytest.mark.parametrize("empty", [False, True])
def test_renders_a_png(empty):
    png = render_chart({} if empty else POSTS, {} if empty else INTEREST, "test", NAMES)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    height, width = mpimg.imread(io.BytesIO(png)).shape[:2]
    assert width >= 1000 and height >= (300 if empty else 1000)


def test_cover_is_kaggle_size_with_the_leaders_named():
    share = share_of_voice(POSTS)
    png = render_cover(share, "Share of voice on X, 2027", NAMES)
    height, width = mpimg.imread(io.BytesIO(png)).shape[:2]
    assert (width, height) == COVER_SIZE
    fig = cover_figure(share, "Share of voice on X, 2027", NAMES)
    (ax,) = fig.get_axes()
    labels = [t.get_text() for t in ax.texts]
    assert labels == ["Number0", "Number1", "Number2", "Number3"]  # the top 4, by share
    greys = [ln for ln in ax.get_lines() if ln.get_color() == "#c8c8c8"]
    assert len(greys) == 12
    # Text legible at 560x280: no label under 8 points.
    sizes = [t.get_fontsize() for t in (*ax.texts, ax.title, *ax.get_xticklabels())]
    assert min(sizes) >= 8
    plt.close(fig)


def test_share_of_voice_comes_from_tweet_counts_where_present(tmp_path):
    lake = Lake.from_url(str(tmp_path / "lake"))
    at = datetime(2026, 11, 23, 10, tzinfo=UTC)
    counts = pl.DataFrame(
        {
            "hour": [at, at, at, at],
            "candidate_id": ["a", "b", "_all", "a"],
            "post_count": [30, 10, 35, 5],
            "endpoint": ["recent"] * 4,
            "collected_at": [at] * 4,
        }
    )
    lake.write_parquet("clean/tweet_counts/date=2026-11-23/part-0.parquet", counts)
    manifests = [
        {
            "source": "tweets",
            "expected_days": ["2026-11-23", "2026-11-24"],
            "daily": {"2026-11-23": {"a": 1.0, "b": 1.0}, "2026-11-24": {"a": 3.0, "b": 1.0}},
            "posts_naming_any": {"2026-11-23": 2, "2026-11-24": 4},
        }
    ]
    share, origin = election_share_of_voice(lake, manifests)
    assert share["2026-11-23"] == {"a": 1.0, "b": 10 / 35}  # counts: 35 / 35 and 10 / 35
    assert share["2026-11-24"] == {"a": 0.75, "b": 0.25}  # no counts that day: the posts
    assert origin == "X counts API where collected, posts collected elsewhere"
    assert date(2026, 11, 23).isoformat() in share


def test_wikipedia_views_are_a_third_block_beside_trends_in_the_same_order():
    views = {d: {f"c{i}": 50_000.0 / (i + 1) for i in range(16)} for d in POSTS}
    fig = chart_figure(POSTS, INTEREST, "Election", NAMES, pageviews=views)
    axes = _visible(fig)
    assert len(axes) == 3 * 16
    titles = [ax.get_title(loc="left") for ax in axes]
    assert titles[32:] == titles[:16]  # the same candidate in the same place in every block
    texts = [sf._suptitle.get_text() for sf in fig.subfigs]
    assert texts[2].startswith("Wikipedia page views") and "fr and en Wikipedia" in texts[2]
    wiki = axes[32:]
    assert len({ax.get_ylim() for ax in wiki}) == 1 and wiki[0].get_ylim()[1] >= 50_000
    plt.close(fig)
    # without page views, the chart is as before: two blocks
    fig = chart_figure(POSTS, INTEREST, "Election", NAMES, pageviews={})
    assert len(_visible(fig)) == 2 * 16
    plt.close(fig)
