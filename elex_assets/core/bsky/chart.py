"""The platforms chart: each candidate's share of voice on X and on Bluesky, day by day.

A second image beside the dataset's main chart (``core.chart``), drawn from the same
export-manifest series and in the same style: small multiples, one panel per
candidate with the others greyed behind, the X block above the Bluesky block in the
same candidate order, so a reader sees where each campaign is talked about.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from elex_assets.core.kaggle.chart import SOV_UNIT, Series, _grid, _png, _ranked, share_of_voice


def render_platforms_chart(
    x_posts: Series,
    bsky_posts: Series,
    title: str,
    names: dict[str, str] | None = None,
    ncols: int = 4,
) -> bytes:
    """PNG bytes: share of voice on X (top block) and on Bluesky (bottom block)."""
    x_sov, b_sov = share_of_voice(x_posts), share_of_voice(bsky_posts)
    order = _ranked(x_sov, b_sov)
    x_total = sum(sum(v.values()) for v in x_posts.values())
    b_total = sum(sum(v.values()) for v in bsky_posts.values())
    rows = max(1, -(-len(order) // ncols))
    fig = plt.figure(figsize=(3.1 * ncols, (1.75 * rows + 1.0) * 2 + 0.6), dpi=100,
                     layout="constrained")
    fig.suptitle(title, fontsize=16, fontweight="bold")
    top, bottom = fig.subfigures(2, 1, hspace=0.04).flat
    unit = f"unit: {SOV_UNIT}"
    _grid(top, x_sov, order, names, f"Share of voice on X ({x_total:,.0f} candidate mentions)",
          unit, True, ncols)
    _grid(bottom, b_sov, order, names,
          f"Share of voice on Bluesky ({b_total:,.0f} candidate mentions)", unit, True, ncols)
    return _png(fig)
