"""The dataset's chart: share of voice on X and comparable Google Trends interest, per day.

matplotlib with the Agg backend (no display needed on a server). The series
come from the weekly export manifests (see ``export.WeekExport.daily``), so the
chart never rescans the lake.
"""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import date

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

Series = dict[str, dict[str, float]]  # day (ISO) -> candidate id -> value


def merge_daily(manifests: list[dict], source: str) -> Series:
    """Merge the ``daily`` series of one source's manifests (later exports win per day)."""
    merged: Series = {}
    for manifest in manifests:
        if manifest["source"] == source:
            merged.update(manifest.get("daily", {}))
    return dict(sorted(merged.items()))


def share_of_voice(posts: Series) -> Series:
    """Posts naming each candidate / posts naming any candidate, per day (0-1)."""
    out: Series = {}
    for day, counts in posts.items():
        total = sum(counts.values())
        out[day] = {c: v / total for c, v in counts.items()} if total else {}
    return out


def render_chart(posts: Series, interest: Series, title: str) -> bytes:
    """PNG bytes: share of voice (top) and Trends comparable interest (bottom)."""
    sov = share_of_voice(posts)
    names = sorted({c for series in (posts, interest) for day in series.values() for c in day})
    # 20 distinct colours (a campaign has up to ~16 candidates), the same in both panels.
    cycle = list(plt.get_cmap("tab20").colors)
    colors = {c: cycle[i % len(cycle)] for i, c in enumerate(names)}
    fig, (ax_top, ax_bottom) = plt.subplots(2, 1, figsize=(11, 7), sharex=True, dpi=100)
    _plot(ax_top, sov, "Share of voice on X (posts naming the candidate)", colors, percent=True)
    _plot(
        ax_bottom,
        interest,
        "Google Trends interest in France (comparable scale)",
        colors,
        percent=False,
    )
    fig.suptitle(title)
    ax_bottom.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
    fig.autofmt_xdate()
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def _plot(ax: plt.Axes, series: Series, label: str, colors: dict[str, str], percent: bool) -> None:
    by_candidate: dict[str, list[tuple[date, float]]] = defaultdict(list)
    for day, values in series.items():
        for candidate, value in values.items():
            by_candidate[candidate].append((date.fromisoformat(day), value))
    ranked = sorted(by_candidate, key=lambda c: -sum(v for _, v in by_candidate[c]))
    for candidate in ranked:
        points = sorted(by_candidate[candidate])
        ys = [v * 100 if percent else v for _, v in points]
        ax.plot(
            [d for d, _ in points],
            ys,
            marker="." if len(points) < 60 else None,
            label=candidate,
            color=colors[candidate],
        )
    ax.set_title(label, fontsize=10)
    ax.set_ylabel("% of posts" if percent else "interest")
    if not by_candidate:
        ax.text(0.5, 0.5, "no data yet", ha="center", va="center", transform=ax.transAxes)
    else:
        ax.legend(fontsize=7, ncol=2, loc="upper left")
    ax.grid(alpha=0.3)
