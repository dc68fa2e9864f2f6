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


def test_a_candidate_has_one_colour_in_both_panels(monkeypatch) -> None:
    """The legend colours of a candidate match across the X and Trends panels."""
    import matplotlib.pyplot as plt

    from elex_assets.core import chart

    seen: dict[str, set] = {}
    real_plot = plt.Axes.plot

    def spy(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        seen.setdefault(kwargs["label"], set()).add(kwargs.get("color"))
        return real_plot(self, *args, **kwargs)

    monkeypatch.setattr(plt.Axes, "plot", spy)
    names = [f"c{i}" for i in range(16)]
    posts = {"2026-11-16": {n: i + 1 for i, n in enumerate(names)}}
    interest = {"2026-11-16": {n: 100 - i for i, n in enumerate(names)}}
    chart.render_chart(posts, interest, "t")
    assert set(seen) == set(names)
    assert all(len(colours) == 1 and None not in colours for colours in seen.values())
    assert len({next(iter(c)) for c in seen.values()}) == 16  # distinct for 16 candidates
