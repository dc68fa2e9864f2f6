"""Weekly Kaggle export: seven daily partitions of a clean table -> one csv.gz per ISO week.

How a clean row becomes a CSV row, in one place: the schema's column order
(``schemas.py``), timestamps as UTC ISO-8601 (``2026-11-23T10:00:00.000Z``),
lists joined with ``;``, UTF-8, empty field for null. The week is read lazily
from every ``*.parquet`` of each day's folder (live and archive files side by
side) and streamed to a gzip CSV by polars, so a week never has to fit in memory.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Literal

import polars as pl

from elex_assets.core.elections import Election
from elex_assets.core.lake import Lake
from elex_assets.core.layout import (
    AREAS,
    KAGGLE_STAGED,
    TRENDS_KINDS,
    clean_bsky_prefix,
    clean_trends_prefix,
    clean_tweet_counts_prefix,
    clean_tweets_prefix,
    clean_wiki_prefix,
    kaggle_key,
    kaggle_manifest_key,
    kaggle_staged_key,
)
from elex_assets.core.markdown import markdown_rows
from elex_assets.core.schemas import (
    BSKY_POSTS,
    QUERY_ID,
    TRENDS,
    TWEET_COUNTS,
    TWEETS,
    WIKI_PAGEVIEWS,
    Column,
    TableSchema,
)

ContentPolicy = Literal["full", "ids"]
CONTENT_POLICIES: tuple[str, ...] = ("full", "ids")
DEFAULT_CONTENT_POLICY: ContentPolicy = "ids"
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S%.3fZ"  # milliseconds: the precision of X and Trends
LIST_SEPARATOR = ";"
GZIP_LEVEL = 6  # gzip's own default: the benchmark compares with plain gzip

# What X's developer terms let anyone redistribute: ids, times, candidates, metrics.
# Text, handles, names, locations, hashtags, mentions and URLs need re-hydration.
TWEET_ID_COLUMNS = (
    "id",
    "created_at",
    "lang",
    "author_id",
    "conversation_id",
    "post_type",
    "referenced_id",
    "retweet_count",
    "reply_count",
    "like_count",
    "quote_count",
    "impression_count",
    "candidates",
    "query",
    "collected_at",
    "source",
)
SOURCES: tuple[str, ...] = ("tweets", *(f"trends_{k}" for k in TRENDS_KINDS), "tweet_counts")
# Bluesky (issue 17): the same policy as X. ``ids`` keeps URIs (they carry the author's
# DID), times, candidates and metrics; ``full`` adds the text, handles and entities.
BSKY_ID_COLUMNS = (
    "id", "created_at", "lang", "author_id", "conversation_id", "post_type", "referenced_id",
    "retweet_count", "reply_count", "like_count", "quote_count", "candidates", "query",
    "collected_at", "source", "platform", "cid", "indexed_at", "reply_root_id",
    "reply_parent_id", "quote_id",
)
SOURCES = (*SOURCES, "bsky_posts", "wiki_pageviews")


class IncompleteWeekError(ValueError):
    """A week with days that have not landed, exported without being forced."""


def schema_for(source: str) -> TableSchema:
    if source == "bsky_posts":
        return BSKY_POSTS
    if source == "tweets":
        return TWEETS
    if source == "tweet_counts":
        return TWEET_COUNTS
    if source == "wiki_pageviews":
        return WIKI_PAGEVIEWS
    if source.startswith("trends_") and source.removeprefix("trends_") in TRENDS:
        return TRENDS[source.removeprefix("trends_")]
    raise ValueError(f"unknown export source {source!r}; expected one of {SOURCES}")


def check_policy(policy: str) -> ContentPolicy:
    if policy not in CONTENT_POLICIES:
        raise ValueError(
            f"tweet content policy {policy!r} is not one of {', '.join(CONTENT_POLICIES)}"
        )
    return policy  # type: ignore[return-value]


def export_columns(source: str, policy: str = DEFAULT_CONTENT_POLICY) -> list[Column]:
    """The columns of a source's weekly file, in the schema's stable order.

    ``tweets`` files carry ``query_id`` in place of the query's text (listed once
    in ``<election>/queries.csv``).
    """
    schema = schema_for(source)
    columns = list(schema.columns)
    if source == "tweets":
        if check_policy(policy) == "ids":
            columns = [c for c in columns if c.name in TWEET_ID_COLUMNS]
        columns = [QUERY_ID if c.name == "query" else c for c in columns]
    if source == "bsky_posts":
        if check_policy(policy) == "ids":
            return [c for c in columns if c.name in BSKY_ID_COLUMNS]
        return [c for c in columns if c.name != "deleted_at"]  # tombstones are not exported
    return columns


def query_id(text: str) -> str:
    """A short, stable id of a query's text (the same text gets the same id every week)."""
    return "q" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]


def week_queries(lf: pl.LazyFrame) -> dict[str, str]:
    """``{query_id: text}`` of every distinct query of a week of ``tweets`` (few: one per query)."""
    texts = lf.select(pl.col("query").drop_nulls().unique()).collect()["query"].to_list()
    return {query_id(t): t for t in sorted(texts)}


def _query_id_expr(queries: dict[str, str]) -> pl.Expr:
    by_text = {text: qid for qid, text in queries.items()}
    return (
        pl.col("query")
        .replace_strict(list(by_text), list(by_text.values()), default=None, return_dtype=pl.String)
        .alias(QUERY_ID.name)
    )


# ---- ISO weeks -----------------------------------------------------------------


def iso_week_of(day: date) -> tuple[int, int]:
    year, week, _ = day.isocalendar()
    return year, week


def iso_week_days(iso_year: int, iso_week: int) -> list[date]:
    """Monday..Sunday of an ISO week (raises on a week the year does not have)."""
    monday = date.fromisocalendar(iso_year, iso_week, 1)
    return [monday + timedelta(days=i) for i in range(7)]


def week_of_partition_key(key: str) -> tuple[int, int]:
    """``2026-11-23`` (a weekly partition key, a Monday) -> ISO (year, week)."""
    try:
        monday = date.fromisoformat(key[:10])
    except ValueError:
        raise ValueError(f"weekly partition key {key!r} is not a date (YYYY-MM-DD)") from None
    if monday.weekday() != 0:
        raise ValueError(f"weekly partition key {key!r} is not a Monday (ISO weeks start Monday)")
    return iso_week_of(monday)


def expected_days(election: Election, iso_year: int, iso_week: int) -> list[date]:
    """Days of the week the election collects (the first and last weeks are partial)."""
    return [
        d
        for d in iso_week_days(iso_year, iso_week)
        if election.campaign_start <= d <= election.campaign_end
    ]


# ---- which files a day holds ------------------------------------------------------


def day_prefixes(source: str, day: date) -> list[str]:
    if source == "tweets":
        return [clean_tweets_prefix(day)]
    if source == "bsky_posts":
        return [clean_bsky_prefix(day)]
    if source == "tweet_counts":
        return [clean_tweet_counts_prefix(day)]
    if source == "wiki_pageviews":
        return [clean_wiki_prefix(day)]
    kind = schema_for(source).name.removeprefix("trends_")
    return [clean_trends_prefix(kind, area, day) for area in AREAS]


def day_files(lake: Lake, source: str, day: date) -> list[str]:
    """Every parquet file of a day (live ``part-0`` and ``archive-*`` alike, every area)."""
    return [
        key
        for prefix in day_prefixes(source, day)
        for key in lake.list(prefix)
        if key.endswith(".parquet")
    ]


def day_landed(lake: Lake, source: str, day: date) -> bool:
    """A day has landed when each of its folders (each area for Trends) holds a parquet file."""
    return all(
        any(k.endswith(".parquet") for k in lake.list(prefix))
        for prefix in day_prefixes(source, day)
    )


@dataclass
class WeekCoverage:
    expected: list[date]
    landed: list[date]

    @property
    def missing(self) -> list[date]:
        return [d for d in self.expected if d not in self.landed]

    @property
    def complete(self) -> bool:
        return not self.missing and bool(self.expected)


def week_coverage(
    lake: Lake, source: str, election: Election, iso_year: int, iso_week: int
) -> WeekCoverage:
    days = expected_days(election, iso_year, iso_week)
    return WeekCoverage(days, [d for d in days if day_landed(lake, source, d)])


# ---- the export ----------------------------------------------------------------


def csv_frame(
    lf: pl.LazyFrame,
    source: str,
    policy: str = DEFAULT_CONTENT_POLICY,
    queries: dict[str, str] | None = None,
) -> pl.LazyFrame:
    """Conform to the schema, keep the policy's columns, and render CSV-ready strings.

    ``queries`` (``{query_id: text}``, from :func:`week_queries` when not given)
    turns a post's query text into its short id.
    """
    columns = export_columns(source, policy)
    conformed = export_frame(lf, source, policy, queries)
    exprs = []
    for col in columns:
        expr = pl.col(col.name)
        if isinstance(col.dtype, pl.Datetime):
            expr = expr.dt.convert_time_zone("UTC").dt.strftime(TIMESTAMP_FORMAT)
        elif isinstance(col.dtype, pl.List):
            expr = expr.list.join(LIST_SEPARATOR)
        exprs.append(expr.alias(col.name))
    return conformed.select(exprs)


def export_frame(
    lf: pl.LazyFrame,
    source: str,
    policy: str = DEFAULT_CONTENT_POLICY,
    queries: dict[str, str] | None = None,
) -> pl.LazyFrame:
    """The weekly file's columns with their schema types (``query`` -> ``query_id``)."""
    conformed = schema_for(source).conform(lf)
    if source == "tweets":
        if queries is None:
            queries = week_queries(conformed)  # type: ignore[arg-type]
        conformed = conformed.with_columns(_query_id_expr(queries))
    return conformed.select([c.name for c in export_columns(source, policy)])  # type: ignore[return-value]


@dataclass
class WeekExport:
    election: str
    source: str
    iso_year: int
    iso_week: int
    week_start: str
    content_policy: str | None
    columns: list[str]
    rows: int
    rows_by_day: dict[str, int]
    expected_days: list[str]
    missing_days: list[str]
    forced: bool
    files: list[str]
    exported_at: str
    daily: dict[str, dict[str, float]] = field(default_factory=dict)
    queries: dict[str, str] = field(default_factory=dict)  # tweets: query_id -> query text
    posts_naming_any: dict[str, int] = field(default_factory=dict)  # tweets: per day
    preview: str = ""  # first rows as a Markdown table (Dagster UI), not in the manifest
    staged: dict[str, str] = field(default_factory=dict)  # final key -> where it was written

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def export_week(
    lake: Lake,
    election: Election,
    source: str,
    iso_year: int,
    iso_week: int,
    *,
    content_policy: str = DEFAULT_CONTENT_POLICY,
    parquet_twin: bool = False,
    allow_incomplete: bool = False,
) -> WeekExport:
    """Write ``kaggle/<election>/<source>/<YYYY>_<WW>.csv.gz`` (and its manifest) atomically.

    A week with a day that has not landed raises :class:`IncompleteWeekError`
    unless ``allow_incomplete``; then the missing days are recorded in the manifest.
    """
    policy = check_policy(content_policy)
    coverage = week_coverage(lake, source, election, iso_year, iso_week)
    if not coverage.expected:
        raise ValueError(
            f"ISO week {iso_year}-W{iso_week:02d} is outside the {election.id} campaign "
            f"({election.campaign_start} to {election.campaign_end})"
        )
    if coverage.missing and not allow_incomplete:
        raise IncompleteWeekError(
            f"{source} {iso_year}-W{iso_week:02d} ({election.id}) is incomplete: no data for "
            f"{', '.join(d.isoformat() for d in coverage.missing)}. It waits for those days; "
            "to export it anyway, force it (run config allow_incomplete: true or run tag "
            "elex/allow_incomplete_week=true)."
        )
    # every file of the week, also of a day only one area reached (an archive with one
    # area, a forced week): coverage decides completeness, never which rows are kept
    files_by_day = {
        d: files for d in coverage.expected if (files := day_files(lake, source, d))
    }
    keys = [k for files in files_by_day.values() for k in files]
    columns = export_columns(source, policy)
    lf = scan_week(lake, source, keys)
    queries = week_queries(lf) if source == "tweets" else {}

    csv_key = kaggle_key(election.id, source, iso_year, iso_week)
    # The files are written outside kaggle/, named in the manifest, then moved into
    # place: a crash leaves the old week whole, or a manifest whose files finish moving
    # on the next read (read_manifests), never a new file beside an old manifest.
    _finish_staged(lake, election.id, source, iso_year, iso_week)
    export_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    staged = {csv_key: kaggle_staged_key(csv_key, export_id)}
    with lake.writing(staged[csv_key], suffix=".csv.gz") as path:
        csv_frame(lf, source, policy, queries).sink_csv(
            path,
            compression="gzip",
            compression_level=GZIP_LEVEL,
            check_extension=False,
            null_value="",
        )
        preview = csv_preview(path)
    written = [csv_key]
    if parquet_twin:
        pq_key = kaggle_key(election.id, source, iso_year, iso_week, ext="parquet")
        staged[pq_key] = kaggle_staged_key(pq_key, export_id)
        with lake.writing(staged[pq_key], suffix=".parquet") as path:
            export_frame(lf, source, policy, queries).sink_parquet(
                path, compression="zstd"
            )
        written.append(pq_key)

    rows_by_day = {d.isoformat(): _count(lake, files, source) for d, files in files_by_day.items()}
    daily = _daily_series(lake, source, files_by_day)
    export = WeekExport(
        election=election.id,
        source=source,
        iso_year=iso_year,
        iso_week=iso_week,
        week_start=iso_week_days(iso_year, iso_week)[0].isoformat(),
        content_policy=policy if source in ("tweets", "bsky_posts") else None,
        columns=[c.name for c in columns],
        rows=sum(rows_by_day.values()),
        rows_by_day=rows_by_day,
        expected_days=[d.isoformat() for d in coverage.expected],
        missing_days=[d.isoformat() for d in coverage.missing],
        forced=bool(coverage.missing),
        files=written,
        exported_at=datetime.now(UTC).isoformat(timespec="seconds"),
        daily=daily,
        staged=staged,
        queries=queries,
        posts_naming_any=_posts_naming_any(lake, source, files_by_day),
    )
    manifest = export.to_json()
    export.preview = preview
    lake.write_bytes(
        kaggle_manifest_key(election.id, source, iso_year, iso_week), manifest.encode()
    )
    for final, pending in staged.items():
        lake.move(pending, final)
    return export


def _finish_staged(lake: Lake, election: str, source: str, iso_year: int, iso_week: int) -> None:
    """Before a week is exported again: finish what its manifest names, drop orphans."""
    mkey = kaggle_manifest_key(election, source, iso_year, iso_week)
    if lake.exists(mkey):
        finish_moves(lake, [json.loads(lake.read_bytes(mkey))])
    folder = f"{KAGGLE_STAGED}/{election}/{source}/"
    for key in lake.list(folder):
        if key.removeprefix(folder).startswith(f"{iso_year:04d}_{iso_week:02d}."):
            lake.delete(key)
    lake.delete_temporaries(folder, f"{iso_year:04d}_{iso_week:02d}.")  # written by an export that crashed before its manifest


def finish_moves(lake: Lake, manifests: list[dict]) -> None:
    """Move into place the staged files of manifests whose export stopped after them."""
    pending = {st: final for m in manifests for final, st in m.get("staged", {}).items()}
    if not pending:
        return
    for key in lake.list(f"{KAGGLE_STAGED}/"):
        if key in pending:
            lake.move(key, pending[key])


def csv_preview(path: str | Path, rows: int = 5, width: int = 40) -> str:
    """The first rows of a gzip CSV as Markdown, read as a stream (never the whole file)."""
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        body = [row for _, row in zip(range(rows), reader, strict=False)]
    return markdown_rows(header, body, width)


def scan_week(lake: Lake, source: str, keys: list[str]) -> pl.LazyFrame:
    """Every file conformed to the schema first: archive files may lack columns."""
    schema = schema_for(source)
    if not keys:
        return schema.empty().lazy()
    frames = [schema.conform(lake.scan_parquet([k])) for k in keys]
    lf = pl.concat(frames, how="vertical")  # type: ignore[arg-type]
    if source == "bsky_posts":  # deleted posts' tombstones stay in the lake, not in exports
        lf = lf.filter(pl.col("post_type") != "deleted")
    return lf  # type: ignore[return-value]


def _count(lake: Lake, keys: list[str], source: str = "") -> int:
    if not keys:
        return 0
    if source == "bsky_posts":
        return int(scan_week(lake, source, keys).select(pl.len()).collect().item())
    return int(lake.scan_parquet(keys).select(pl.len()).collect().item())


def _daily_series(
    lake: Lake, source: str, files_by_day: dict[date, list[str]]
) -> dict[str, dict[str, float]]:
    """Per day and candidate: posts naming them (tweets) or mean comparable interest in France.

    Kept in the manifest so the chart and the description never rescan a week.
    """
    if source not in ("tweets", "trends_interest_over_time", "bsky_posts", "tweet_counts",
                      "wiki_pageviews"):
        return {}
    out: dict[str, dict[str, float]] = {}
    for day, keys in files_by_day.items():
        if not keys:
            continue
        lf = scan_week(lake, source, keys)
        if source == "tweet_counts":  # posts per candidate per day, from X counts
            agg = (
                lf.group_by(pl.col("candidate_id").alias("c"))
                .agg(pl.col("post_count").sum().cast(pl.Float64).alias("v"))
            )
        elif source == "wiki_pageviews":  # views per candidate per day, every project summed
            agg = (
                lf.group_by(pl.col("candidate_id").alias("c"))
                .agg(pl.col("views").sum().cast(pl.Float64).alias("v"))
            )
        elif source in ("tweets", "bsky_posts"):
            agg = (
                lf.select(pl.col("candidates").cast(pl.List(pl.String)))
                .explode("candidates")
                .drop_nulls()
                .group_by("candidates")
                .agg(pl.len().cast(pl.Float64).alias("v"))
                .rename({"candidates": "c"})
            )
        else:
            agg = (
                lf.filter(pl.col("value_comparable").is_not_null() & (pl.col("area") == "fr"))
                .group_by(pl.col("candidate_id").alias("c"))
                .agg(pl.col("value_comparable").cast(pl.Float64).mean().alias("v"))
            )
        df = agg.collect()
        out[day.isoformat()] = {
            str(c): round(float(v), 4) for c, v in zip(df["c"], df["v"], strict=True)
        }
    return out


def _posts_naming_any(
    lake: Lake, source: str, files_by_day: dict[date, list[str]]
) -> dict[str, int]:
    """Per day, posts naming at least one candidate: the denominator of share of voice."""
    if source != "tweets":
        return {}
    out = {}
    for day, keys in files_by_day.items():
        if keys:
            out[day.isoformat()] = int(
                scan_week(lake, source, keys)
                .select((pl.col("candidates").list.len() > 0).sum())
                .collect()
                .item()
            )
    return out


def read_manifests(lake: Lake) -> list[dict]:
    """Every weekly export's manifest, all elections, sorted by election, source, week."""
    from elex_assets.core.layout import KAGGLE

    keys = [
        k for k in lake.list(f"meta/{KAGGLE}/")
        if k.endswith(".json") and not k.startswith(f"{KAGGLE_STAGED}/")
    ]
    manifests = [json.loads(lake.read_bytes(k)) for k in keys if not k.endswith("published.json")]
    finish_moves(lake, manifests)  # the manifest is the truth: its files are what it says
    return sorted(
        manifests, key=lambda m: (m["election"], m["source"], m["iso_year"], m["iso_week"])
    )
