"""The dataset's charts: share of voice on X, comparable Google Trends interest and
Wikipedia page views (attention per candidate), per day.

Small multiples, one panel per candidate on shared axes (the candidate in colour,
every other candidate in grey behind it for context), so a reader can follow
any one of 16 candidates; the unit of each block is written on the figure. A
separate cover image (Kaggle's 560x280) highlights the few leading candidates
and greys the rest.

Share of voice comes from the ``tweet_counts`` lake table (complete hourly
volumes from X's counts API) when it exists for a day, from the weekly
``tweets`` manifests otherwise. matplotlib with the Agg backend (no display).
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from types import ModuleType
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    import matplotlib.pyplot as plt

Series = dict[str, dict[str, float]]  # day (ISO) -> candidate id -> value
ALL = "_all"  # tweet_counts' union of every candidate's terms
TWEET_COUNTS_PREFIX = "clean/tweet_counts"
COVER_SIZE = (560, 280)  # Kaggle crops its cover to 560x280 (and a 280x280 thumbnail)
SOV_UNIT = "% of posts naming any candidate that name this one"
TRENDS_UNIT = "100 = the anchor term's mean interest that day"
WIKI_UNIT = "views per day of the candidate's articles, fr and en Wikipedia together"
HIGHLIGHT = "#1f5fa8"
PALETTE = ["#1f5fa8", "#d1495b", "#2e933c", "#edae49", "#6a4c93"]


def _matplotlib() -> tuple[ModuleType, ModuleType, ModuleType]:
    """``pyplot``, ``dates`` and ``ticker`` on the Agg backend, imported by the first chart.

    matplotlib takes over a second to import; only the runs that draw pay for it,
    not every run that loads the definitions.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates
    import matplotlib.pyplot
    import matplotlib.ticker

    return matplotlib.pyplot, matplotlib.dates, matplotlib.ticker


def merge_daily(manifests: list[dict], source: str, field: str = "daily") -> Series:
    """Merge one source's per-day series of the manifests (later exports win per day)."""
    merged: dict = {}
    for manifest in manifests:
        if manifest["source"] == source:
            merged.update(manifest.get(field, {}))
    return dict(sorted(merged.items()))


def share_of_voice(posts: Series, totals: dict[str, float] | None = None) -> Series:
    """Posts naming each candidate / posts naming any candidate, per day (0-1).

    ``totals`` (or the ``_all`` entry of a day) is the union; without it the sum
    of the candidates' counts is used.
    """
    out: Series = {}
    for day, counts in posts.items():
        counts = dict(counts)
        total = counts.pop(ALL, None) or (totals or {}).get(day) or sum(counts.values())
        out[day] = {c: v / total for c, v in counts.items()} if total else {}
    return out


def tweet_counts_daily(lake, days: Sequence[date]) -> Series:  # noqa: ANN001 (core.lake.Lake)
    """Per day and candidate (``_all`` included), the posts X counted: from ``tweet_counts``."""
    out: Series = {}
    for day in days:
        keys = [
            k
            for k in lake.list(f"{TWEET_COUNTS_PREFIX}/date={day.isoformat()}/")
            if k.endswith(".parquet")
        ]
        if not keys:
            continue
        df = (
            lake.scan_parquet(keys)
            .group_by(pl.col("candidate_id").cast(pl.String))
            .agg(pl.col("post_count").sum().cast(pl.Float64))
            .collect()
        )
        out[day.isoformat()] = dict(zip(df["candidate_id"], df["post_count"], strict=True))
    return out


def election_share_of_voice(lake, manifests: list[dict]) -> tuple[Series, str]:  # noqa: ANN001
    """Share of voice per day for an election's manifests, and where it came from.

    ``tweet_counts`` wins for every day it holds; the ``tweets`` manifests fill the rest.
    """
    posts = merge_daily(manifests, "tweets")
    totals = merge_daily(manifests, "tweets", "posts_naming_any")
    days = sorted({d for m in manifests for d in m.get("expected_days", [])})
    counted = tweet_counts_daily(lake, [date.fromisoformat(d) for d in days]) if days else {}
    sov = share_of_voice(posts, totals)
    sov.update(share_of_voice(counted))
    if counted and len(counted) == len(sov):
        origin = "X counts API"
    elif counted:
        origin = "X counts API where collected, posts collected elsewhere"
    else:
        origin = "posts collected"
    return dict(sorted(sov.items())), origin


def _by_candidate(series: Series) -> dict[str, list[tuple[date, float]]]:
    out: dict[str, list[tuple[date, float]]] = defaultdict(list)
    for day, values in series.items():
        for candidate, value in values.items():
            out[candidate].append((date.fromisoformat(day), value))
    return {c: sorted(points) for c, points in out.items()}


def _ranked(*series: Series) -> list[str]:
    """Candidates by mean value in the first series that has them (busiest first)."""
    score: dict[str, float] = {}
    for s in series:
        for c, points in _by_candidate(s).items():
            score.setdefault(c, sum(v for _, v in points) / len(points))
    return sorted(score, key=lambda c: (-score[c], c))


def _label(names: dict[str, str] | None, cid: str) -> str:
    return (names or {}).get(cid, cid)


def _short(name: str) -> str:
    """``Marine Le Pen`` -> ``Le Pen``: the name without its first given name."""
    parts = name.split(" ", 1)
    return parts[1] if len(parts) == 2 else name


def _png(fig: plt.Figure, **kwargs) -> bytes:  # noqa: ANN003
    """PNG bytes, palette-quantised: a line chart needs few colours (a third of the bytes)."""
    plt, _, _ = _matplotlib()
    from PIL import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", **kwargs)
    plt.close(fig)
    buffer.seek(0)
    image = Image.open(buffer).convert("RGB").quantize(colors=128)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _date_axis(ax: plt.Axes, first: date, last: date) -> None:
    _, mdates, _ = _matplotlib()
    span = (last - first).days
    ax.set_xlim(first - timedelta(hours=12), last + timedelta(hours=12))
    if span <= 10:
        ax.xaxis.set_major_locator(mdates.DayLocator(interval=max(1, -(-span // 3))))
    else:
        ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=2, maxticks=3))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))


def _grid(
    subfig,  # noqa: ANN001 (matplotlib SubFigure)
    series: Series,
    order: list[str],
    names: dict[str, str] | None,
    title: str,
    unit: str,
    percent: bool,
    ncols: int,
) -> None:
    _, _, ticker = _matplotlib()
    data = _by_candidate(series)
    scale = 100.0 if percent else 1.0
    subfig.suptitle(f"{title}\n{unit}", fontsize=13, fontweight="bold", x=0.01, ha="left")
    nrows = max(1, -(-len(order) // ncols))
    axes = subfig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
    days = sorted({d for points in data.values() for d, _ in points})
    for ax, cid in zip(axes.flat, order, strict=False):
        for other, points in data.items():
            if other != cid:
                ax.plot([d for d, _ in points], [v * scale for _, v in points],
                        color="#cccccc", linewidth=0.9, zorder=1)
        points = data.get(cid, [])
        if points:
            xs, ys = [d for d, _ in points], [v * scale for _, v in points]
            ax.plot(xs, ys, color=HIGHLIGHT, linewidth=2.2, zorder=3,
                    marker="o" if len(points) <= 10 else None, markersize=3)
            last = f"{ys[-1]:.0f}%" if percent else f"{ys[-1]:.0f}"
            ax.annotate(last, (xs[-1], ys[-1]), xytext=(3, 0), textcoords="offset points",
                        fontsize=9, color=HIGHLIGHT, va="center", fontweight="bold")
        else:
            ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes,
                    fontsize=9, color="#888888")
        ax.set_title(_label(names, cid), fontsize=11, loc="left")
        ax.grid(axis="y", alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(labelsize=9)
    for ax in list(axes.flat)[len(order):]:
        ax.set_visible(False)
    if days:
        _date_axis(axes.flat[0], days[0], days[-1])
    if not order:
        axes.flat[0].set_visible(True)
        axes.flat[0].text(0.5, 0.5, "no data yet", ha="center", va="center",
                          transform=axes.flat[0].transAxes)
    if percent:
        axes.flat[0].yaxis.set_major_formatter(ticker.PercentFormatter(decimals=0))
    axes.flat[0].set_ylim(bottom=0)


def render_chart(*args, **kwargs) -> bytes:  # noqa: ANN002, ANN003
    """PNG bytes of :func:`chart_figure` (same arguments)."""
    return _png(chart_figure(*args, **kwargs))


def chart_figure(
    posts: Series,
    interest: Series,
    title: str,
    names: dict[str, str] | None = None,
    *,
    share: Series | None = None,
    share_origin: str = "posts collected",
    pageviews: Series | None = None,
    ncols: int = 4,
) -> plt.Figure:
    """Blocks of small multiples (share of voice, Trends, then Wikipedia page views when
    ``pageviews`` holds any), one panel per candidate, busiest first, same order in every
    block and shared axes within each block.

    ``share`` is the share of voice per day (0-1) when already computed (from
    ``tweet_counts``); otherwise it is computed from ``posts``.
    """
    plt, _, _ = _matplotlib()
    sov = share if share is not None else share_of_voice(posts)
    views = pageviews or {}
    order = _ranked(sov, interest, views)
    blocks = [(s, k) for s, k in ((sov, "sov"), (interest, "trends"), (views, "wiki")) if s] \
        or [(sov, "sov")]
    rows = max(1, -(-len(order) // ncols))
    fig = plt.figure(figsize=(3.1 * ncols, (1.75 * rows + 1.0) * len(blocks) + 0.6), dpi=100,
                     layout="constrained")
    fig.suptitle(title, fontsize=16, fontweight="bold")
    subfigs = fig.subfigures(len(blocks), 1, hspace=0.04, squeeze=False).flat
    for subfig, (series, kind) in zip(subfigs, blocks, strict=True):
        if kind == "sov":
            _grid(subfig, series, order, names, f"Share of voice on X ({share_origin})",
                  f"unit: {SOV_UNIT}", True, ncols)
        elif kind == "trends":
            _grid(subfig, series, order, names, "Google Trends interest in France",
                  f"unit: {TRENDS_UNIT} (comparable across candidates)", False, ncols)
        else:
            _grid(subfig, series, order, names, "Wikipedia page views (people, not bots)",
                  f"unit: {WIKI_UNIT}", False, ncols)
    return fig


def render_cover(*args, **kwargs) -> bytes:  # noqa: ANN002, ANN003
    """PNG bytes of :func:`cover_figure` (same arguments), exactly 560x280."""
    return _png(cover_figure(*args, **kwargs))


def cover_figure(
    share: Series, title: str, names: dict[str, str] | None = None, top: int = 4
) -> plt.Figure:
    """Kaggle's cover, exactly 560x280: share of voice, the ``top`` leaders in colour with
    their names at the line ends, the other candidates in grey."""
    plt, mdates, ticker = _matplotlib()
    width, height = COVER_SIZE
    fig, ax = plt.subplots(figsize=(width / 100, height / 100), dpi=100)
    data = _by_candidate(share)
    order = _ranked(share)
    for cid in order[top:]:
        points = data[cid]
        ax.plot([d for d, _ in points], [v * 100 for _, v in points], color="#c8c8c8",
                linewidth=1.0, zorder=1)
    ends: list[tuple[float, str, str]] = []
    for i, cid in enumerate(order[:top]):
        points = data[cid]
        xs, ys = [d for d, _ in points], [v * 100 for _, v in points]
        color = PALETTE[i % len(PALETTE)]
        ax.plot(xs, ys, color=color, linewidth=2.4, zorder=3)
        ends.append((ys[-1], _short(_label(names, cid)), color))
    if data:
        days = sorted({d for points in data.values() for d, _ in points})
        _date_axis(ax, days[0], days[-1])
        ax.set_xticks(sorted({days[0], days[len(days) // 2], days[-1]}))
        # Room on the right for the names at the line ends (about a quarter of the width).
        ax.set_xlim(right=mdates.date2num(days[-1]) + max(2.0, (days[-1] - days[0]).days / 3))
        _label_ends(ax, ends, days[-1])
    else:
        ax.text(0.5, 0.5, "no data yet", ha="center", va="center", transform=ax.transAxes)
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter(ticker.PercentFormatter(decimals=0))
    ax.yaxis.set_major_locator(ticker.MaxNLocator(4))
    ax.set_title(title, fontsize=11, fontweight="bold", loc="left")
    ax.set_ylabel("share of posts", fontsize=9)
    ax.tick_params(labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", alpha=0.3)
    fig.subplots_adjust(left=0.11, right=0.98, top=0.88, bottom=0.12)
    return fig


def _label_ends(ax: plt.Axes, ends: list[tuple[float, str, str]], last: date) -> None:
    """Names at the line ends, spread apart just enough not to overlap, centred on their lines."""
    if not ends:
        return
    top = max(y for y, _, _ in ends) or 1.0
    gap = top * 0.11
    ordered = sorted(ends, reverse=True)
    # Clusters of labels closer than `gap` are laid out `gap` apart around their mean.
    clusters: list[list[tuple[float, str, str]]] = []
    for end in ordered:
        if clusters and clusters[-1][-1][0] - end[0] < gap:
            clusters[-1].append(end)
        else:
            clusters.append([end])
    for cluster in clusters:
        centre = sum(y for y, _, _ in cluster) / len(cluster)
        first = centre + gap * (len(cluster) - 1) / 2
        for i, (y, label, color) in enumerate(cluster):
            ax.annotate(label, (last, y), xytext=(last + timedelta(hours=10), first - i * gap),
                        textcoords="data", fontsize=9, fontweight="bold", color=color,
                        va="center")
