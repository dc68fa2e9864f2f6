"""The chart: share of voice and comparable interest, rendered as a PNG."""

from __future__ import annotations

import io

import matplotlib.image as mpimg
import pytest

from elex_assets.core.chart import merge_daily, render_chart, share_of_voice


def test_share_of_voice_sums_to_one_per_day():
    sov = share_of_voice({"2026-11-23": {"a": 3.0, "b": 1.0}, "2026-11-24": {}})
    assert sov == {"2026-11-23": {"a": 0.75, "b": 0.25}, "2026-11-24": {}}


def test_later_exports_win_per_day():
    manifests = [
        {"source": "tweets", "daily": {"2026-11-23": {"a": 1.0}}},
        {"source": "tweets", "daily": {"2026-11-23": {"a": 5.0}, "2026-11-24": {"b": 2.0}}},
        {"source": "trends_related_queries", "daily": {}},
    ]
    assert merge_daily(manifests, "tweets") == {"2026-11-23": {"a": 5.0}, "2026-11-24": {"b": 2.0}}


@pytest.mark.parametrize("empty", [False, True])
def test_renders_a_png(empty):
    posts = {} if empty else {"2026-11-23": {"a": 3.0, "b": 1.0}, "2026-11-24": {"a": 1.0}}
    interest = {} if empty else {"2026-11-23": {"a": 40.0, "b": 10.5}}
    png = render_chart(posts, interest, "test")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    height, width = mpimg.imread(io.BytesIO(png)).shape[:2]
    assert (width, height) == (1100, 700)
