"""The dataset's reference files: who each ``candidate_id`` is, and what each ``query_id`` asked.

``<election>/candidates.csv`` comes from the registry snapshot the ``candidates``
asset keeps in the lake (the built-in registry when an election was never
collected live, e.g. an imported archive); ``<election>/queries.csv`` from the
queries recorded in the weekly exports' manifests. Both follow the
``CANDIDATES_FILE`` / ``QUERIES_FILE`` schemas, which also document them.
"""

from __future__ import annotations

import io
import json
from typing import Any

import polars as pl

from elex_assets.core.kaggle.export import LIST_SEPARATOR
from elex_assets.core.lake import Lake
from elex_assets.core.layout import KAGGLE, registry_key
from elex_assets.core.registry import STATUSES, load_registry
from elex_assets.core.schemas import CANDIDATES_FILE, QUERIES_FILE, TableSchema


def candidates_key(election: str) -> str:
    return f"{KAGGLE}/{election}/candidates.csv"


def queries_key(election: str) -> str:
    return f"{KAGGLE}/{election}/queries.csv"


def registry_entries(lake: Lake, election: str) -> list[dict[str, Any]]:
    """The registry's candidates as dicts: the lake's snapshot, else the built-in file."""
    key = registry_key(election)
    if lake.exists(key):
        return list(json.loads(lake.read_bytes(key))["candidates"])
    try:
        return [c.to_dict() for c in load_registry(election).candidates]
    except (FileNotFoundError, ValueError):
        return []


def candidates_frame(entries: list[dict[str, Any]], min_status: int = 0) -> pl.DataFrame:
    rows = [
        {
            "candidate_id": e["id"],
            "name": e["name"],
            "party": e.get("party"),
            "group": e.get("group"),
            "status": STATUSES.get(e["status"], str(e["status"])),
            "status_code": e["status"],
            "status_as_of": e.get("as_of"),
            "collected": e["status"] >= min_status,
            "person_accounts": list((e.get("accounts") or {}).get("person") or []),
            "party_accounts": list((e.get("accounts") or {}).get("party") or []),
            "search_terms": list(e.get("search_terms") or []),
        }
        for e in entries
    ]
    df = pl.DataFrame(rows, schema_overrides={"status_as_of": pl.String}) if rows else None
    if df is None:
        return CANDIDATES_FILE.empty()
    return CANDIDATES_FILE.conform(df.with_columns(pl.col("status_as_of").str.to_date()))  # type: ignore[return-value]


def queries_frame(manifests: list[dict], entries: list[dict[str, Any]]) -> pl.DataFrame:
    """One row per distinct query of the election's weekly tweets files."""
    seen: dict[str, dict[str, Any]] = {}
    for m in manifests:
        if m["source"] != "tweets":
            continue
        week = f"{m['iso_year']}-W{m['iso_week']:02d}"
        for qid, text in (m.get("queries") or {}).items():
            row = seen.setdefault(qid, {"query_id": qid, "query": text, "weeks": []})
            row["weeks"].append(week)
    rows = [
        {
            "query_id": r["query_id"],
            "query": r["query"],
            "candidates": [
                e["id"]
                for e in entries
                if any(term in r["query"] for term in e.get("search_terms") or [])
            ],
            "first_week": min(r["weeks"]),
            "last_week": max(r["weeks"]),
        }
        for r in sorted(seen.values(), key=lambda r: (min(r["weeks"]), r["query_id"]))
    ]
    if not rows:
        return QUERIES_FILE.empty()
    return QUERIES_FILE.conform(pl.DataFrame(rows))  # type: ignore[return-value]


def to_csv(df: pl.DataFrame, schema: TableSchema) -> bytes:
    """UTF-8 CSV with the weekly files' conventions (lists ``;``-joined, empty = null)."""
    out = df.with_columns(
        [pl.col(c.name).list.join(LIST_SEPARATOR) for c in schema.columns if isinstance(c.dtype, pl.List)]
    )
    buffer = io.BytesIO()
    out.write_csv(buffer, null_value="")
    return buffer.getvalue()


def write_reference_files(
    lake: Lake, election: str, manifests: list[dict]
) -> dict[str, pl.DataFrame]:
    """Write ``candidates.csv`` and ``queries.csv`` of an election; returns them by key."""
    entries = registry_entries(lake, election)
    out = {
        candidates_key(election): candidates_frame(entries),
        queries_key(election): queries_frame(manifests, entries),
    }
    for key, df in out.items():
        schema = CANDIDATES_FILE if key.endswith("candidates.csv") else QUERIES_FILE
        lake.write_bytes(key, to_csv(df, schema))
    return out
