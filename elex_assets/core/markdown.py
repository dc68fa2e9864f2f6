"""Markdown tables for metadata previews in the Dagster UI (no pandas or tabulate needed)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import polars as pl


def _cell(value: Any, width: int) -> str:
    if value is None:
        text = ""
    elif isinstance(value, list | dict):
        text = json.dumps(value, ensure_ascii=False, default=str)
    else:
        text = str(value)
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def markdown_rows(header: Sequence[str], rows: Iterable[Sequence[Any]], width: int = 80) -> str:
    """A Markdown table; cells are escaped, flattened to one line and cut at ``width``."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v, width) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def markdown_table(df: pl.DataFrame, rows: int = 10, width: int = 80) -> str:
    """The first ``rows`` rows of ``df`` as a Markdown table."""
    head = df.head(rows)
    return markdown_rows(head.columns, head.iter_rows(), width)
