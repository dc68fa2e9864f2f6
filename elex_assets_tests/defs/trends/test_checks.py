"""Monitoring says "Google Trends blocked until …" while a cool-down runs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from elex_assets.core.alerts import Problem
from elex_assets.core.lake import Lake
from elex_assets.core.trends.state import TrendsGate
from elex_assets.defs.trends.checks import trends_block_note
from elex_assets.monitoring.alerts import with_trends_block_note

NOW = datetime(2027, 3, 1, 12, 2, tzinfo=UTC)  # when the problems began


def _problem(key: str, kind: str, asset: str | None, partition: str | None) -> Problem:
    return Problem(key=key, kind=kind, asset=asset, partition=partition, since=NOW,
                   detail="Run 1 failed." if kind == "run" else "stale.")


def test_note_reads_the_cooldown_from_the_lake(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ELEX_LAKE_URL", str(tmp_path))
    assert trends_block_note() is None
    cooldown = TrendsGate(Lake.from_url(str(tmp_path))).refused("429")
    note = trends_block_note()
    assert note is not None and note.startswith("Google Trends blocked until ")
    assert f"{cooldown.until:%H:%M} UTC (1 refusal since " in note


@pytest.mark.parametrize(
    ("key", "kind", "asset", "partition", "noted"),
    [
        ("run:trends_job:fr|2027-03-01", "run", None, "fr|2027-03-01", True),
        ("check:trends_interest_over_time:partition_fresh", "check", "trends_interest_over_time",
         "fr|2027-03-01", True),
        ("freshness:trends_related_queries", "freshness", "trends_related_queries", None, True),
        ("run:x_job:2027-03-01", "run", None, "2027-03-01", False),
        ("freshness:tweets", "freshness", "tweets", None, False),
    ],
)
def test_only_trends_problems_lead_with_the_block(key, kind, asset, partition, noted) -> None:
    note = "Google Trends blocked until 14:35 UTC (3 refusals since 12:02)"
    problems = {key: _problem(key, kind, asset, partition)}
    detail = with_trends_block_note(problems, note)[key].detail
    assert detail.startswith(note) is noted
    assert detail.endswith(problems[key].detail)


def test_no_cooldown_no_note(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ELEX_LAKE_URL", str(tmp_path))
    gate = TrendsGate(Lake.from_url(str(tmp_path)))
    gate.refused("429")
    gate.succeeded()
    problems = {"freshness:trends_x": _problem("freshness:trends_x", "freshness", "trends_x", None)}
    assert with_trends_block_note(problems)["freshness:trends_x"].detail == "stale."
