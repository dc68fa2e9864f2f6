"""``dataset-metadata.json`` for the Kaggle dataset, generated from the export manifests.

Kaggle readers see each file's description and column schema (name, type,
description from ``schemas.py``) and a Markdown description with the coverage
of every source (days and weeks), row counts, the days missing from weeks
that were forced out incomplete, and the chart.
"""

from __future__ import annotations

import re
from collections import defaultdict

import polars as pl

from elex_assets.core.kaggle.export import LIST_SEPARATOR, export_columns
from elex_assets.core.layout import KAGGLE

TITLE = "French Presidential Election: X & Google Trends"
SUBTITLE = "Posts on X naming the candidates and Google Trends interest, one file a week"
LICENSE = "CC-BY-SA-4.0"
KEYWORDS = ["politics", "social networks", "twitter", "france", "elections", "time series"]
UPDATE_FREQUENCY = "weekly"  # Kaggle's expectedUpdateFrequency: a new ISO week every Monday
DATASET_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*/[a-z0-9][a-z0-9-]{4,48}[a-z0-9]$")

SOURCE_TITLES = {
    "tweets": "Posts on X naming the candidates",
    "trends_interest_over_time": "Google Trends interest over time",
    "trends_interest_by_region": "Google Trends interest by region",
    "trends_related_topics": "Google Trends related topics (top and rising)",
    "trends_related_queries": "Google Trends related queries (top and rising)",
    "bsky_posts": "Posts on Bluesky naming the candidates",
    "tweet_counts": "Hourly post counts per candidate from X's counts API",
}


class MetadataError(ValueError):
    """Settings that make an invalid Kaggle dataset (the message names the setting)."""

    transient = False  # final: see core.retrying.is_deterministic


def check_dataset_id(dataset_id: str | None) -> str:
    if not dataset_id:
        raise MetadataError("KAGGLE_DATASET is not set; expected owner/slug, e.g. jane/elex-2027")
    if not DATASET_ID_RE.match(dataset_id):
        raise MetadataError(
            f"KAGGLE_DATASET={dataset_id!r} is not owner/slug (slug: 6-50 characters, "
            "lower-case letters, digits and hyphens)"
        )
    return dataset_id


def kaggle_type(dtype: pl.DataType) -> str:
    """Column type as Kaggle's metadata names it (lists are ``;``-joined strings in CSV)."""
    if isinstance(dtype, pl.Datetime):
        return "datetime"
    if dtype == pl.Date:
        return "date"
    if dtype == pl.Boolean:
        return "boolean"
    if dtype.is_integer():
        return "integer"
    if dtype.is_numeric():
        return "numeric"
    return "string"


def column_fields(source: str, policy: str | None) -> list[dict[str, str]]:
    fields = []
    for col in export_columns(source, policy or "full"):
        description = col.description
        if isinstance(col.dtype, pl.List):
            description += f" ('{LIST_SEPARATOR}'-separated in CSV)"
        if isinstance(col.dtype, pl.Datetime):
            description += " (ISO 8601, UTC)"
        fields.append(
            {"name": col.name, "type": kaggle_type(col.dtype), "description": description}
        )
    return fields


def relative(key: str) -> str:
    """Lake key under ``kaggle/`` -> path inside the dataset folder."""
    return key.removeprefix(f"{KAGGLE}/")


def resources(manifests: list[dict]) -> list[dict]:
    out = []
    for m in manifests:
        fields = column_fields(m["source"], m.get("content_policy"))
        for key in m["files"]:
            what = "Parquet twin of the CSV" if key.endswith(".parquet") else "Gzip CSV, UTF-8"
            note = (
                f"; incomplete week, missing {', '.join(m['missing_days'])}"
                if m["missing_days"]
                else ""
            )
            out.append(
                {
                    "path": relative(key),
                    "description": (
                        f"{SOURCE_TITLES.get(m['source'], m['source'])}, election {m['election']}, "
                        f"ISO week {m['iso_year']}-W{m['iso_week']:02d} "
                        f"(from {m['week_start']}): {m['rows']} rows. {what}{note}."
                    ),
                    "schema": {"fields": fields},
                }
            )
    return out


def _ranges(days: list[str]) -> str:
    return f"{days[0]} to {days[-1]}" if days else "none"


def headline(manifests: list[dict], posts_plan: str) -> list[str]:
    """The description's first lines (what a reader sees first): coverage, gaps, posts plan."""
    from elex_assets.core.kaggle.data_dictionary import POSTS_PLANS

    coverage = []
    missing = []
    for election in sorted({m["election"] for m in manifests}):
        parts = []
        for source in ("tweets", "tweet_counts", "trends_interest_over_time"):
            ms = [m for m in manifests if m["election"] == election and m["source"] == source]
            days = sorted({d for m in ms for d in m["rows_by_day"]})
            if days:
                label = {"tweets": "posts", "tweet_counts": "hourly counts",
                         "trends_interest_over_time": "Google Trends"}[source]
                parts.append(f"{label} {_ranges(days)} ({len(days)} days, "
                             f"{sum(m['rows'] for m in ms):,} rows)")
            missing += [f"{election} {source} {d}" for m in ms for d in m["missing_days"]]
        if parts:
            coverage.append(f"election {election}: " + "; ".join(parts))
    lines = [
        "**Coverage:** " + (" — ".join(coverage) if coverage else "no week exported yet")
        + f". Updated {UPDATE_FREQUENCY} (a new file per source each ISO week).",
        "",
        "**Missing days:** " + (", ".join(missing) if missing else "none") + ".",
        "",
        f"**Posts plan:** `{posts_plan}`: {POSTS_PLANS.get(posts_plan, posts_plan)}. "
        "Share of voice is computed from X's hourly counts where the dataset has them "
        "(complete), from the posts otherwise.",
        "",
    ]
    return lines


def describe(
    manifests: list[dict],
    charts: list[str],
    content_policy: str,
    posts_plan: str = "full",
    extra_files: dict[str, str] | None = None,
) -> str:
    """The Markdown description: coverage, gaps and posts plan first; then what, files, chart."""
    lines = [
        *headline(manifests, posts_plan),
        "# French presidential election on X and Google Trends",
        "",
        "Posts on X (Twitter) naming the candidates, and Google Trends interest for them, "
        "collected day by day by elex (an open-source Dagster pipeline) and exported one file "
        "per ISO week (Monday to Sunday, UTC): `<election>/<source>/<ISO year>_<ISO week>.csv.gz`.",
        "",
        "Start with `DATA_DICTIONARY.md` (every file and column, with units and caveats) and "
        "`starter_notebook.ipynb` (load a week, plot share of voice and Trends, hydrate ids). "
        "`<election>/candidates.csv` says who each `candidate_id` is; "
        "`<election>/queries.csv` gives the text of each `query_id`.",
        "",
        "Timestamps are ISO 8601 in UTC; lists are `;`-separated; empty fields are null. "
        "Every file's columns are documented in the file's schema.",
        "",
    ]
    if content_policy == "ids":
        lines += [
            "Posts are published as **ids, times, candidates and metrics only** (no text or "
            "author handles), as X's developer terms allow: re-hydrate them with the X API "
            "to get the content.",
            "",
        ]
    by_election: dict[str, list[dict]] = defaultdict(list)
    for m in manifests:
        by_election[m["election"]].append(m)
    for election, ms in sorted(by_election.items()):
        lines += [
            f"## Election {election}",
            "",
            "| source | weeks | days | rows |",
            "|---|---|---|---|",
        ]
        gaps = []
        by_source: dict[str, list[dict]] = defaultdict(list)
        for m in ms:
            by_source[m["source"]].append(m)
        for source, sms in by_source.items():
            days = sorted({d for m in sms for d in m["rows_by_day"]})
            weeks = [f"{m['iso_year']}-W{m['iso_week']:02d}" for m in sms]
            rows = sum(m["rows"] for m in sms)
            lines.append(
                f"| {source} | {len(weeks)} ({weeks[0]} to {weeks[-1]}) | "
                f"{len(days)} ({_ranges(days)}) | {rows:,} |"
            )
            gaps += [
                f"- {source} {m['iso_year']}-W{m['iso_week']:02d}: exported incomplete, "
                f"no data for {', '.join(m['missing_days'])}"
                for m in sms
                if m["missing_days"]
            ]
        lines.append("")
        if gaps:
            lines += ["Missing days (weeks exported although incomplete):", "", *gaps, ""]
    # Kaggle's API attaches column schemas to top-level files only (election folders travel
    # as zip archives), so the columns are documented in the description as well.
    sources = sorted({(m["source"], m.get("content_policy")) for m in manifests})
    for source, policy in sources:
        label = f" (content policy `{policy}`)" if policy else ""
        lines += [
            f"## Columns of `{source}`{label}",
            "",
            "| column | type | meaning |",
            "|---|---|---|",
        ]
        lines += [
            f"| `{f['name']}` | {f['type']} | {f['description']} |"
            for f in column_fields(source, policy)
        ]
        lines.append("")
    if extra_files:
        lines += ["## Reference files", "", "| file | what it holds |", "|---|---|"]
        lines += [f"| `{path}` | {what} |" for path, what in sorted(extra_files.items())]
        lines.append("")
    if charts:
        lines += [
            "## Chart",
            "",
            "Share of voice per candidate per day (posts naming each candidate) and Google "
            "Trends interest on the comparable scale: "
            + ", ".join(f"`{c}`" for c in charts)
            + " in the dataset.",
            "",
        ]
    return "\n".join(lines)


def build_metadata(
    dataset_id: str | None,
    manifests: list[dict],
    charts: list[str],
    content_policy: str,
    *,
    extra_files: dict[str, str] | None = None,
    cover: str | None = None,
    posts_plan: str = "full",
) -> dict:
    """The whole ``dataset-metadata.json`` (validated: id, subtitle length, one license).

    ``extra_files`` (path -> what it holds: dictionary, notebook, candidates and
    queries files) are listed as resources; ``cover`` is the cover image's path.
    """
    if not 20 <= len(SUBTITLE) <= 80:
        raise MetadataError(f"subtitle must be 20-80 characters, got {len(SUBTITLE)}")
    meta = {
        "id": check_dataset_id(dataset_id),
        "title": TITLE,
        "subtitle": SUBTITLE,
        "licenses": [{"name": LICENSE}],
        "keywords": KEYWORDS,
        "expectedUpdateFrequency": UPDATE_FREQUENCY,
        "description": describe(manifests, charts, content_policy, posts_plan, extra_files),
        "resources": resources(manifests)
        + [{"path": p, "description": d} for p, d in sorted((extra_files or {}).items())]
        + [{"path": c, "description": "Chart: share of voice and Trends per candidate"}
           for c in charts],
    }
    if cover:
        meta["image"] = cover
    return meta
