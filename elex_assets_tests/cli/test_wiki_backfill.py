"""``elex wiki-backfill``: an archive campaign's pageviews from the command line."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from elex_assets.cli.main import main
from elex_assets.core.layout import clean_wiki_key
from elex_assets.core.registry import load_registry
from elex_assets.sandbox.wiki_server import WikiSandbox


def test_the_2022_campaign_lands_and_a_missing_contact_is_named(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    registry = load_registry("2022")
    now = datetime(2022, 6, 1, tzinfo=UTC)
    monkeypatch.delenv("WIKIMEDIA_CONTACT", raising=False)
    with WikiSandbox.for_candidates(registry.candidates, clock=lambda: now) as sandbox:
        monkeypatch.setenv("WIKIMEDIA_BASE_URL", sandbox.base_url)
        assert main(["wiki-backfill", "2022", "--lake-url", str(tmp_path), "--no-export"]) == 0
    out = capsys.readouterr().out
    election = registry.election
    days = (election.campaign_end - election.campaign_start).days + 1
    assert f"2022: {days} days written" in out
    assert (tmp_path / clean_wiki_key(election.campaign_start)).exists()
    monkeypatch.setenv("WIKIMEDIA_BASE_URL", "https://wikimedia.invalid/api/rest_v1")
    assert main(["wiki-backfill", "2017", "--lake-url", str(tmp_path)]) == 1
    assert "WIKIMEDIA_CONTACT" in capsys.readouterr().err
