"""The platforms chart: each candidate's share of voice on X and on Bluesky, day by day.

A second image beside the dataset's main chart (``core.chart``), drawn from the same
export-manifest series, with the same colour for a candidate in both panels, so a
reader sees where each campaign is talked about.
"""

from __future__ import annotations

import io

import matplotlib.dates as mdates
import matplotlib.pyplot as plt

from elex_assets.core.chart import Series, _plot, share_of_voice


def render_platforms_chart(x_posts: Series, bsky_posts: Series, title: str) -> bytes:
    """PNG bytes: share of voice on X (top) and on Bluesky (bottom), with each day's volume."""
    names = sorted({c for s in (x_posts, bsky_posts) for day in s.values() for c in day})
    cycle = list(plt.get_cmap("tab20").colors)
    colors = {c: cycle[i % len(cycle)] for i, c in enumerate(names)}
    fig, (ax_x, ax_b) = plt.subplots(2, 1, figsize=(11, 7), sharex=True, sharey=True, dpi=100)
    x_total = sum(sum(v.values()) for v in x_posts.values())
    b_total = sum(sum(v.values()) for v in bsky_posts.values())
    _plot(ax_x, share_of_voice(x_posts),
          f"Share of voice on X ({x_total:,.0f} candidate mentions)", colors, percent=True)
    _plot(ax_b, share_of_voice(bsky_posts),
          f"Share of voice on Bluesky ({b_total:,.0f} candidate mentions)", colors, percent=True)
    fig.suptitle(title)
    ax_b.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
    fig.autofmt_xdate()
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()
