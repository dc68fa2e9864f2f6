"""Bluesky handles in the registry: optional, validated as domain names, legacy without them."""

import json
from pathlib import Path

import pytest

from elex_assets.core.registry import RegistryError, load_registry


def _write(tmp_path: Path, bluesky: object) -> Path:
    entry = {
        "id": "dupont", "name": "Jeanne Dupont", "surname": "Dupont", "group": "centre",
        "party": "P", "status": 1, "accounts": {"person": ["jdupont"], "party": []},
    }
    if bluesky is not None:
        entry["bluesky"] = bluesky
    body = {
        "election": {"id": "2027", "first_round": "2027-04-11", "second_round": "2027-04-25",
                     "campaign_start": "2026-09-01"},
        "candidates": [entry],
    }
    path = tmp_path / "reg.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    return path


def test_handles_are_read_lower_cased_without_at(tmp_path: Path) -> None:
    path = _write(tmp_path, {"person": ["@JDupont.bsky.social"], "party": ["parti.fr"]})
    cand = load_registry("2027", path).candidates[0]
    assert cand.bluesky_person == ("jdupont.bsky.social",)
    assert cand.bluesky_accounts == ("jdupont.bsky.social", "parti.fr")
    assert cand.to_dict()["bluesky"] == {"person": ["jdupont.bsky.social"], "party": ["parti.fr"]}


def test_bluesky_is_optional(tmp_path: Path) -> None:
    cand = load_registry("2027", _write(tmp_path, None)).candidates[0]
    assert cand.bluesky_accounts == ()


@pytest.mark.parametrize("bad", ["jdupont", "-x.bsky.social", "x_y.bsky.social", "a.123"])
def test_a_handle_that_is_not_a_domain_is_refused_naming_the_field(
    tmp_path: Path, bad: str
) -> None:
    with pytest.raises(RegistryError) as err:
        load_registry("2027", _write(tmp_path, {"person": [bad]}))
    assert "entry 'dupont'" in str(err.value)
    assert "field 'bluesky.person'" in str(err.value)
    assert repr(bad) in str(err.value)


def test_bluesky_must_be_an_object(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="field 'bluesky'"):
        load_registry("2027", _write(tmp_path, ["jdupont.bsky.social"]))


def test_legacy_and_builtin_registries_load_without_handles() -> None:
    for election in ("2017", "2022", "2027"):
        reg = load_registry(election)
        assert all(isinstance(c.bluesky_accounts, tuple) for c in reg.candidates)
    legacy = Path(__file__).parents[2] / "fixtures"
    files = sorted(legacy.glob("*legacy*.json")) or sorted(legacy.glob("candidates*.json"))
    for path in files:
        assert all(c.bluesky_accounts == () for c in load_registry("2022", path).candidates)
