"""2021-22 Google Trends files (``google_trends_collecter.py``) -> the four ``trends_*`` tables.

The collector ran pytrends once per candidate (one keyword: ``candidates.json``'s
``name``), for one area (``fr``: geo FR, ``hl=fr-FR``; ``world``: worldwide,
English) and one window (hourly runs ``now 1-H``, ``daily_`` ``now 1-d``,
``weekly_`` ``now 7-d``), and uploaded each non-empty pandas frame as a gzip CSV
(``index=None``) at::

    data/raw/google_trends/<area>/<window prefix><kind>/<YYYYMMDD>/<candidate key>_<YYYYMMDD_HHMM>.csv.gz

with ``kind`` one of ``interest_over_time`` (``date, interest, is_partial``),
``interest_by_region`` (``geoName, interest``), ``related_topics_<top|rising>``
(``json_normalize`` of Google's list: ``value, formattedValue, hasData, link,
topic_mid, topic_title, topic_type``) and ``related_queries_<top|rising>``
(``query, value``), each followed by ``candidate`` (the key) and ``date_collect``.

Mapping: ``candidate`` -> ``candidate_id`` (the registry id; a legacy key such as
``jmelenchon`` also finds ``melenchon`` of elex's registry), ``keyword`` = the
candidate's name (what the collector searched), ``date_collect`` ->
``collected_at`` (UTC), the window -> ``timeframe``, ``source`` =
``archive_2022_trends_collecter``. pytrends' ``date`` is UTC (epoch seconds). Values
stay per request (one candidate per request, no anchor: ``value_comparable`` null).
Interest over time lands on the UTC day of each point; the other kinds on the day
of the collection. Region names get their code back (the collector asked for none).
"""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from pathlib import Path

import polars as pl

from elex_assets.core.archive import report as r
from elex_assets.core.archive.report import ArchiveFormatError, FileSkipped
from elex_assets.core.archive.sqlite_files import _slug, candidate_for
from elex_assets.core.archive.stream_files import read_bytes
from elex_assets.core.registry import Candidate, Registry, fold
from elex_assets.core.schemas import TRENDS, UTC_TS

SOURCE = "archive_2022_trends_collecter"
WINDOWS = {"": "now 1-H", "daily_": "now 1-d", "weekly_": "now 7-d"}
FOLDERS = {
    "interest_over_time": ("interest_over_time", None),
    "interest_by_region": ("interest_by_region", None),
    "related_topics_top": ("related_topics", "top"),
    "related_topics_rising": ("related_topics", "rising"),
    "related_queries_top": ("related_queries", "top"),
    "related_queries_rising": ("related_queries", "rising"),
}
PATH_RE = re.compile(
    r"(?:^|/)(?P<area>fr|world)/(?P<prefix>daily_|weekly_)?(?P<folder>"
    + "|".join(FOLDERS)
    + r")/(?P<day>\d{8})/(?P<key>[^/]+)_(?P<stamp>\d{8}_\d{4})\.csv\.gz$"
)
COLUMNS = {
    "interest_over_time": ("date", "interest"),
    "interest_by_region": ("geoName", "interest"),
    "related_topics": ("topic_title", "value"),
    "related_queries": ("query", "value"),
}
# Google's French regions (hl=fr-FR) and their ISO 3166-2 codes, as the live table has them.
FR_REGIONS = {
    "Auvergne-Rhône-Alpes": "FR-ARA",
    "Bourgogne-Franche-Comté": "FR-BFC",
    "Bretagne": "FR-BRE",
    "Centre-Val de Loire": "FR-CVL",
    "Corse": "FR-20R",
    "Grand Est": "FR-GES",
    "Hauts-de-France": "FR-HDF",
    "Île-de-France": "FR-IDF",
    "Normandie": "FR-NOR",
    "Nouvelle-Aquitaine": "FR-NAQ",
    "Occitanie": "FR-OCC",
    "Pays de la Loire": "FR-PDL",
    "Provence-Alpes-Côte d'Azur": "FR-PAC",
}
COUNTRIES_FILE = Path(__file__).with_name("google_countries_en.json")
# Unique key of a row within its table and day (a file is one request of one run).
KEYS = {
    "interest_over_time": ["area", "candidate_id", "timeframe", "collected_at", "timestamp"],
    "interest_by_region": ["area", "candidate_id", "timeframe", "collected_at", "geo_code"],
    "related_topics": ["area", "candidate_id", "timeframe", "collected_at", "ranking", "rank"],
    "related_queries": ["area", "candidate_id", "timeframe", "collected_at", "ranking", "rank"],
}


def is_trends_file(key: str) -> bool:
    return PATH_RE.search(key) is not None


def table_of(key: str) -> str:
    match = PATH_RE.search(key)
    if match is None:
        raise ValueError(f"{key}: not a google_trends_collecter file")
    return "trends_" + FOLDERS[match["folder"]][0]


def legacy_candidate(key: str, candidates: tuple[Candidate, ...]) -> Candidate | None:
    """The registry candidate of a collector key: same id, a name, or initial + surname."""
    for cand in candidates:
        if cand.id == key:
            return cand
    found = candidate_for(key, candidates)
    if found is not None:
        return found
    wanted = key.replace("-", "").replace("_", "")
    for cand in candidates:
        first = fold(cand.name.split()[0])[:1]
        last = cand.surname or cand.name.split(" ", 1)[-1]
        if first + _slug(last).replace("-", "") == wanted:
            return cand
    return None


def _countries() -> dict[str, str]:
    return json.loads(COUNTRIES_FILE.read_text(encoding="utf-8"))


def read_trends_2022(
    path: Path, name: str, registry: Registry
) -> tuple[pl.DataFrame, Counter[str]]:
    match = PATH_RE.search(name)
    if match is None:
        raise ArchiveFormatError(name, "not a google_trends_collecter file path")
    kind, ranking = FOLDERS[match["folder"]]
    data = read_bytes(path, name, compressed=True)
    if not data.strip():
        raise FileSkipped(r.EMPTY_FILE, "empty CSV")
    try:
        raw = pl.read_csv(io.BytesIO(data), infer_schema=False)
    except Exception as exc:  # polars raises several ComputeError/NoDataError kinds
        raise ArchiveFormatError(
            name, f"not a readable CSV ({type(exc).__name__}: {exc})"
        ) from None
    wanted = COLUMNS[kind]
    missing = [c for c in wanted if c not in raw.columns]
    if missing:
        raise ArchiveFormatError(
            name,
            f"not a {match['folder']} file of google_trends_collecter.py: no column(s) "
            f"{', '.join(missing)} (found: {', '.join(raw.columns)})",
        )
    key = match["key"]
    if "candidate" in raw.columns and raw["candidate"].drop_nulls().n_unique() == 1:
        key = raw["candidate"].drop_nulls()[0]
    cand = legacy_candidate(key, registry.candidates)
    if cand is None:
        raise FileSkipped(
            r.UNKNOWN_CANDIDATE,
            f"candidate {key!r} is not in the {registry.election.id} registry "
            f"({registry.source or 'built-in'}); point ELEX_CANDIDATES_FILE at the "
            "collector's candidates.json to import it",
            rows=raw.height,
        )
    stamp = match["stamp"]
    collect = (
        pl.col("date_collect") if "date_collect" in raw.columns else pl.lit(stamp)
    ).fill_null(stamp)
    collected = collect.str.to_datetime("%Y%m%d_%H%M", strict=False).dt.replace_time_zone("UTC")
    frame = raw.with_row_index("rank").with_columns(
        area=pl.lit(match["area"]),
        candidate_id=pl.lit(cand.id),
        keyword=pl.lit(cand.name),
        collected_at=collected.cast(UTC_TS),
        timeframe=pl.lit(WINDOWS[match["prefix"] or ""]),
        source=pl.lit(SOURCE),
    )
    counts: Counter[str] = Counter()
    counts[r.MISSING_TIMESTAMP] = int(frame["collected_at"].is_null().sum())
    frame = frame.filter(pl.col("collected_at").is_not_null())
    value = pl.col(wanted[1]).cast(pl.Float64, strict=False).round(0).cast(pl.Int64)

    if kind == "interest_over_time":
        point = pl.col("date").str.strip_chars()
        timestamp = pl.coalesce(
            point.str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False),
            point.str.to_date("%Y-%m-%d", strict=False).cast(pl.Datetime("us")),
        ).dt.replace_time_zone("UTC")
        frame = frame.with_columns(timestamp=timestamp.cast(UTC_TS), value=value)
        counts[r.MISSING_TIMESTAMP] += int(frame["timestamp"].is_null().sum())
        frame = frame.filter(pl.col("timestamp").is_not_null())
        partial = (
            pl.col("is_partial").str.strip_chars().is_in(("True", "true", "1"))
            if "is_partial" in raw.columns
            else pl.lit(None, pl.Boolean)
        )
        frame = frame.with_columns(date=pl.col("timestamp").dt.date(), is_partial=partial)
    else:
        frame = frame.with_columns(date=pl.col("collected_at").dt.date(), value=value)
    if kind == "interest_by_region":
        codes = FR_REGIONS if match["area"] == "fr" else _countries()
        frame = frame.with_columns(
            geo_name=pl.col("geoName"),
            geo_code=pl.col("geoName").replace_strict(codes, default=None, return_dtype=pl.String),
        )
        counts[r.UNKNOWN_GEO_NAME] = int(frame["geo_code"].is_null().sum())
        frame = frame.filter(pl.col("geo_code").is_not_null())
    elif kind == "related_topics":
        frame = frame.with_columns(
            ranking=pl.lit(ranking),
            topic_mid=_col(raw, "topic_mid"),
            topic_title=pl.col("topic_title"),
            topic_type=_col(raw, "topic_type"),
            formatted_value=_col(raw, "formattedValue"),
        )
    elif kind == "related_queries":
        # pytrends kept only ``query`` and ``value`` of related queries
        frame = frame.with_columns(ranking=pl.lit(ranking), query=pl.col("query"))
    counts[r.MISSING_VALUE] += int(frame["value"].is_null().sum())
    frame = frame.filter(pl.col("value").is_not_null())
    frame = frame.with_columns(rank=pl.col("rank").cast(pl.Int64))
    return TRENDS[kind].conform(frame), +counts


def _col(raw: pl.DataFrame, name: str) -> pl.Expr:
    return pl.col(name) if name in raw.columns else pl.lit(None, pl.String)
