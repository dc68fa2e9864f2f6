"""Titles in Wikipedia's own form in the registry, percent-encoded only when sent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from elex_assets.core.registry import RegistryError, load_registry
from elex_assets.core.wiki.titles import encode_title, same_title, title_problem


def test_titles_are_encoded_as_one_utf8_path_segment() -> None:
    assert encode_title("HIV/AIDS") == "HIV%2FAIDS"
    assert encode_title("André_the_Giant") == "Andr%C3%A9_the_Giant"
    assert encode_title("Élection_présidentielle_française_de_2022") == (
        "%C3%89lection_pr%C3%A9sidentielle_fran%C3%A7aise_de_2022")
    assert encode_title("Front_populaire_(2024–)") == "Front_populaire_%282024%E2%80%93%29"
    assert encode_title('"Weird_Al"_Yankovic') == "%22Weird_Al%22_Yankovic"


def test_an_answer_echoing_another_encoding_is_the_same_title() -> None:
    assert same_title("Eve%27s_Pudding_(Hartshorne)", "Eve's_Pudding_(Hartshorne)")
    assert same_title("HIV/AIDS", "HIV/AIDS") and not same_title("HIV", "HIV/AIDS")


@pytest.mark.parametrize(("title", "says"), [
    ("Jordan Bardella", "'Jordan_Bardella'"),
    ("Andr%C3%A9_the_Giant", "'André_the_Giant'"),
    ("jordan_Bardella", "'Jordan_Bardella'"),
    ("Le_Pen#Carrière", "'#'"),
    ("_Bardella", "stray underscores"),
    ("", "empty"),
])
def test_forms_wikipedia_would_not_count_are_refused_with_the_form_to_write(
        title: str, says: str) -> None:
    problem = title_problem(title)
    assert problem is not None and says in problem


def test_every_shipped_registry_names_both_articles_of_each_candidate() -> None:
    for election in ("2017", "2022", "2027"):
        for cand in load_registry(election).candidates:
            titles = dict(cand.wikipedia)
            assert set(titles) == {"fr", "en"}, (election, cand.id)
            assert all(title_problem(t) is None for t in titles.values())


def _registry(tmp_path: Path, wikipedia: object) -> Path:
    path = tmp_path / "reg.json"
    path.write_text(json.dumps({
        "election": {"id": "2027", "first_round": "2027-04-11", "second_round": "2027-04-25",
                     "campaign_start": "2026-09-01"},
        "candidates": [{"id": "bardella", "name": "Jordan Bardella", "group": "far-right",
                        "party": "RN", "status": 0, "wikipedia": wikipedia}],
    }), encoding="utf-8")
    return path


def test_a_bad_title_names_the_file_the_entry_and_the_field(tmp_path: Path) -> None:
    path = _registry(tmp_path, {"fr": "Jordan Bardella"})
    with pytest.raises(RegistryError) as err:
        load_registry("2027", path)
    assert str(path) in str(err.value) and "'bardella'" in str(err.value)
    assert "'wikipedia.fr'" in str(err.value) and "Jordan_Bardella" in str(err.value)
    with pytest.raises(RegistryError, match="wikipedia.FR"):
        load_registry("2027", _registry(tmp_path, {"FR": "Jordan_Bardella"}))
    with pytest.raises(RegistryError, match="'wikipedia'"):
        load_registry("2027", _registry(tmp_path, ["Jordan_Bardella"]))


def test_an_en_dash_title_loads_as_written(tmp_path: Path) -> None:
    reg = load_registry("2027", _registry(tmp_path, {"fr": "Front_populaire_(2024–)"}))
    assert reg["bardella"].wikipedia == (("fr", "Front_populaire_(2024–)"),)
