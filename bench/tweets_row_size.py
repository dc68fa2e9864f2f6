"""Bytes per row of the weekly ``tweets`` CSV, uncompressed: with ``query_id`` vs the query text.

    python bench/tweets_row_size.py [LAKE]      # default: the demo's lake, data/lake

Reads the latest weekly tweets export of the lake and its manifest, and
renders the same rows the way they were written before (the query's full text
on every row, timestamps to the microsecond), so both figures come from the
same posts.
"""

from __future__ import annotations

import gzip
import io
import sys

import polars as pl

from elex_assets.core.kaggle.export import read_manifests
from elex_assets.core.lake import Lake


def main(url: str = "data/lake") -> int:
    lake = Lake.from_url(url)
    manifests = [m for m in read_manifests(lake) if m["source"] == "tweets"]
    if not manifests:
        print(f"no weekly tweets export in {url}: run `make demo` first")
        return 1
    m = manifests[-1]
    raw = gzip.decompress(lake.read_bytes(m["files"][0]))
    now = pl.read_csv(raw, infer_schema=False)
    texts = pl.DataFrame({"query_id": list(m["queries"]), "query": list(m["queries"].values())})
    # Before: the query text on every row, timestamps with microseconds (same length as
    # the original's: its last three digits are not kept in the new file).
    stamps = [c for c in ("created_at", "collected_at") if c in now.columns]
    before = now.join(texts, on="query_id", how="left").select(
        [("query" if c == "query_id" else c) for c in now.columns]
    ).with_columns([pl.col(c).str.replace(r"Z$", "000Z") for c in stamps])
    buffer = io.BytesIO()
    before.write_csv(buffer, null_value="")
    rows = now.height
    per_now, per_before = len(raw) / rows, len(buffer.getvalue()) / rows
    print(f"{m['election']} tweets {m['iso_year']}-W{m['iso_week']:02d} "
          f"(content policy {m['content_policy']}), {rows} rows, {len(m['queries'])} queries")
    print(f"  with the query text: {per_before:7.1f} bytes/row")
    print(f"  with query_id:       {per_now:7.1f} bytes/row  ({per_before / per_now:.1f}x smaller)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:]))
