"""Raw v1.1 stream files -> ``TWEETS``: parse, classify, map, match candidates.

Candidates come from the shared matching rule over the post's text and the text
it quotes or retweets (and its author), with the registry of the collection's
election. ``query`` records the file the post came from.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import polars as pl

from elex_assets.core.archive.stream_files import iter_jsonl, iter_pandas_csv
from elex_assets.core.archive.v1_status import classify, status_to_row
from elex_assets.core.matching import match_candidates_expr
from elex_assets.core.registry import Registry
from elex_assets.core.schemas import TWEETS

SOURCE = "archive_v1_stream"


def is_pandas_csv(name: str) -> bool:
    return name.endswith(".csv.gz") or name.endswith(".csv")


def read_stream_file(
    path: Path, name: str, registry: Registry
) -> tuple[pl.DataFrame, Counter[str]]:
    messages = iter_pandas_csv(path, name) if is_pandas_csv(name) else iter_jsonl(path, name)
    counts: Counter[str] = Counter()
    rows = []
    query = f"archive:{name}"
    for message, reason in messages:
        if message is not None:
            reason = classify(message)
        if reason is not None:
            counts[reason] += 1
            continue
        rows.append(status_to_row(message, query, SOURCE))
    if rows:
        df = pl.DataFrame(rows, schema={k: TWEETS.polars[k] for k in rows[0]})
    else:
        df = TWEETS.empty()
    df = TWEETS.conform(df).with_columns(
        candidates=match_candidates_expr(
            registry.candidates, ["text", "referenced_text"], "author_username"
        )
    )
    return df, counts
