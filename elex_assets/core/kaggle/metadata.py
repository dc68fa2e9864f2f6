"""``dataset-metadata.json`` for the Kaggle dataset, generated from the export manifests.

Kaggle readers see each file's description and column schema (name, type,
description from ``schemas.py``) and a Markdown description with the coverage
of every source (days and weeks), row counts, the days missing from weeks
that were forced out incomplete, and the chart.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

import polars as pl

from elex_assets.core.kaggle.export import LIST_SEPARATOR, export_columns
from elex_assets.core.layout import KAGGLE

LICENSE = "CC-BY-SA-4.0"
KEYWORDS = ["politics", "social networks", "france", "elections", "time series"]
UPDATE_FREQUENCY = "weekly"  # Kaggle's expectedUpdateFrequency: a new ISO week every Monday
DATASET_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*/[a-z0-9][a-z0-9-]{4,48}[a-z0-9]$")
TITLE_LENGTH = (6, 50)  # Kaggle's limits
SUBTITLE_LENGTH = (20, 80)


@dataclass(frozen=True)
class Platform:
    """A service the dataset draws on, as its face names it (title, subtitle, keywords)."""

    name: str
    short: str  # in the title, where characters are few
    holds: str  # in the subtitle
    keywords: tuple[str, ...]


# In the order the dataset's face names them. A family says its platform in
# ``data_dictionary.FAMILIES``; a new source adds its platform here (Wikipedia's is ready).
PLATFORMS = {
    "X": Platform("X", "X", "X posts and counts", ("twitter",)),
    "Bluesky": Platform("Bluesky", "Bluesky", "Bluesky posts", ("bluesky",)),
    "Google Trends": Platform("Google Trends", "Trends", "Google Trends interest",
                              ("google trends",)),
    "Wikipedia": Platform("Wikipedia", "Wikipedia", "Wikipedia pageviews", ("wikipedia",)),
}
# What the face names before any week is exported (a new dataset collects these).
DEFAULT_PLATFORMS = ("X", "Bluesky", "Google Trends")


def platforms(manifests: list[dict]) -> list[Platform]:
    """The platforms of the families exported, in ``PLATFORMS`` order."""
    from elex_assets.core.kaggle.data_dictionary import family

    names = {family(m["source"]).platform for m in manifests} or set(DEFAULT_PLATFORMS)
    return [p for name, p in PLATFORMS.items() if name in names]


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " & " + items[-1]


def title(found: list[Platform]) -> str:
    """``French Presidential Election: X, Bluesky & Google Trends``, shortened to fit."""
    for head, names in (("French Presidential Election", [p.name for p in found]),
                        ("French Presidential Election", [p.short for p in found]),
                        ("French Election", [p.short for p in found])):
        text = f"{head}: {_and(names)}"
        if len(text) <= TITLE_LENGTH[1]:
            return text
    return "French Presidential Election Online"


def subtitle(found: list[Platform]) -> str:
    """What the files hold, naming every platform (Kaggle allows 20-80 characters)."""
    holds = _and([p.holds for p in found]).replace(" & ", " and ")
    names = _and([p.name for p in found]).replace(" & ", " and ")
    for text in (f"{holds} on the candidates, one file a week", f"{holds}, weekly",
                 f"{names} data on the candidates, one file a week", f"{names}, weekly"):
        if len(text) <= SUBTITLE_LENGTH[1]:
            return text
    return "Posts, counts and interest on the candidates, one file a week"


def keywords(found: list[Platform]) -> list[str]:
    return [*KEYWORDS[:2], *(k for p in found for k in p.keywords), *KEYWORDS[2:]]


def source_title(source: str) -> str:
    from elex_assets.core.kaggle.data_dictionary import family

    return family(source).title


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
                        f"{source_title(m['source'])}, election {m['election']}, "
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
    from elex_assets.core.kaggle.data_dictionary import FAMILIES, POSTS_PLANS, family

    coverage = []
    missing = []
    exported = {m["source"] for m in manifests}
    platform_rank = {name: i for i, name in enumerate(PLATFORMS)}
    order = sorted([s for s in FAMILIES if s in exported],  # X, Bluesky, Trends, Wikipedia
                   key=lambda s: platform_rank.get(FAMILIES[s].platform, len(PLATFORMS))
                   ) + sorted(exported - set(FAMILIES))
    for election in sorted({m["election"] for m in manifests}):
        parts = []
        for source in order:
            ms = [m for m in manifests if m["election"] == election and m["source"] == source]
            days = sorted({d for m in ms for d in m["rows_by_day"]})
            if days:
                parts.append(f"{family(source).label} {_ranges(days)} ({len(days)} days, "
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
    found = platforms(manifests)
    holds = _and([p.holds for p in found]).replace(" & ", ", ")
    lines = [
        *headline(manifests, posts_plan),
        f"# French presidential election on {_and([p.name for p in found])}".replace(
            " & ", " and "),
        "",
        f"{holds[:1].upper()}{holds[1:]} for the candidates (X is Twitter), "
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
            "Share of voice per candidate per day (posts naming each candidate), Google "
            "Trends interest on the comparable scale and Wikipedia page views: "
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
    found = platforms(manifests)
    name, sub = title(found), subtitle(found)
    if not TITLE_LENGTH[0] <= len(name) <= TITLE_LENGTH[1]:
        raise MetadataError(f"title must be 6-50 characters, got {len(name)}: {name!r}")
    if not SUBTITLE_LENGTH[0] <= len(sub) <= SUBTITLE_LENGTH[1]:
        raise MetadataError(f"subtitle must be 20-80 characters, got {len(sub)}: {sub!r}")
    meta = {
        "id": check_dataset_id(dataset_id),
        "title": name,
        "subtitle": sub,
        "licenses": [{"name": LICENSE}],
        "keywords": keywords(found),
        "expectedUpdateFrequency": UPDATE_FREQUENCY,
        "description": describe(manifests, charts, content_policy, posts_plan, extra_files),
        "resources": resources(manifests)
        + [{"path": p, "description": d} for p, d in sorted((extra_files or {}).items())]
        + [{"path": c, "description": "Chart: share of voice, Trends and Wikipedia views per candidate"}
           for c in charts],
    }
    if cover:
        meta["image"] = cover
    return meta
