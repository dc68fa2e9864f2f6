import json
from pathlib import Path

import pytest

from elex_assets.core.registry import RegistryError, fold, load_registry

FIXTURES = Path(__file__).parents[1] / "fixtures"


@pytest.mark.parametrize(
    ("election", "count", "first_round"),
    [("2017", 11, "2017-04-23"), ("2022", 18, "2022-04-10"), ("2027", 16, "2027-04-11")],
)
def test_builtin_registries_load(election: str, count: int, first_round: str) -> None:
    reg = load_registry(election)
    assert len(reg) == count
    assert reg.election.first_round.isoformat() == first_round
    assert reg.election.campaign_start < reg.election.first_round < reg.election.second_round


def test_2017_has_the_eleven_first_round_candidates() -> None:
    reg = load_registry("2017")
    surnames = {c.surname for c in reg.candidates}
    assert surnames == {
        "Hamon",
        "Le Pen",
        "Macron",
        "Mélenchon",
        "Fillon",
        "Dupont-Aignan",
        "Cheminade",
        "Arthaud",
        "Asselineau",
        "Poutou",
        "Lassalle",
    }


def test_2022_declared_and_withdrawn() -> None:
    reg = load_registry("2022")
    declared = [c for c in reg.candidates if c.status == 1]
    assert len(declared) == 12
    assert {c.id for c in reg.candidates if c.status == -1} >= {"taubira", "bertrand"}
    assert len(reg.selected()) == 12  # withdrawn hopefuls are not collected by default


def test_2027_entries_are_dated() -> None:
    reg = load_registry("2027")
    assert reg.election.provisional
    assert all(c.as_of is not None for c in reg.candidates)


def test_search_terms_are_derived_from_name_and_accounts() -> None:
    macron = load_registry("2022")["macron"]
    assert macron.search_terms == (
        '"Emmanuel Macron"',
        "@EmmanuelMacron",
        "@enmarchefr",
        "from:EmmanuelMacron",
        "from:enmarchefr",
    )
    assert macron.match_names == ("Emmanuel Macron", "Macron")


def test_legacy_file_is_accepted() -> None:
    path = FIXTURES / "legacy_candidates_2022.json"
    reg = load_registry("2022", path)
    assert reg.legacy
    assert len(reg) == len(json.loads(path.read_text())) >= 30
    assert reg.election.id == "2022"  # dates come from the built-in 2022 file
    assert reg["lepen"].person_accounts == ("MLP_officiel", "RNational_off")
    assert reg["larrouturou"].accounts == ()
    assert reg["hollande"].status == 0


def _write(tmp_path: Path, content: object | str) -> Path:
    path = tmp_path / "candidates.json"
    text = content if isinstance(content, str) else json.dumps(content)
    path.write_text(text, encoding="utf-8")
    return path


LEGACY_OK = {
    "name": "Jean Test",
    "group": "centre",
    "party": "P",
    "status": 1,
    "twitter_account": ["@jean_test"],
    "image": "",
}


@pytest.mark.parametrize(
    ("entry_patch", "field", "message"),
    [
        ({"name": None}, "name", "missing field"),
        ({"status": 2}, "status", "unknown status 2"),
        ({"status": "1"}, "status", "unknown status '1'"),
        ({"twitter_account": ["@not a handle"]}, "twitter_account", "not a valid X handle"),
        ({"twitter_account": ["@waytoolonghandle_x"]}, "twitter_account", "not a valid X handle"),
        ({"name": "  "}, "name", "must not be empty"),
    ],
)
def test_legacy_errors_name_file_entry_and_field(
    tmp_path: Path, entry_patch: dict, field: str, message: str
) -> None:
    entry = {**LEGACY_OK, **entry_patch}
    entry = {k: v for k, v in entry.items() if v is not None}
    path = _write(tmp_path, {"ok": LEGACY_OK, "broken": entry})
    with pytest.raises(RegistryError) as info:
        load_registry("2022", path)
    text = str(info.value)
    assert str(path) in text
    assert "entry 'broken'" in text
    assert f"field {field!r}" in text
    assert message in text


def test_legacy_duplicate_id(tmp_path: Path) -> None:
    one = json.dumps(LEGACY_OK)
    path = _write(tmp_path, f'{{"dup": {one}, "other": {one}, "dup": {one}}}')
    with pytest.raises(RegistryError, match=r"entry 'dup': field 'id': duplicate id"):
        load_registry("2022", path)


def test_invalid_json_reports_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, '{\n  "a": {"name": "x",\n  "group": }\n}')
    with pytest.raises(RegistryError) as info:
        load_registry("2022", path)
    assert str(path) in str(info.value)
    assert "line 3, column 12" in str(info.value)


ELEX_OK = {
    "election": {
        "id": "2027",
        "first_round": "2027-04-11",
        "second_round": "2027-04-25",
        "campaign_start": "2026-09-01",
    },
    "candidates": [
        {
            "id": "a",
            "name": "Anne A",
            "group": "g",
            "party": "p",
            "status": 0,
            "accounts": {"person": ["anne_a"], "party": []},
        },
    ],
}


def test_elex_format_duplicate_id(tmp_path: Path) -> None:
    data = json.loads(json.dumps(ELEX_OK))
    data["candidates"].append(dict(data["candidates"][0]))
    with pytest.raises(RegistryError, match=r"entry 'a': field 'id': duplicate id"):
        load_registry("2027", _write(tmp_path, data))


@pytest.mark.parametrize(
    ("patch", "field", "message"),
    [
        ({"party": None}, "party", "missing field"),
        ({"status": -2}, "status", "unknown status"),
        (
            {"accounts": {"person": ["bad-handle"]}},
            "accounts.person",
            "'bad-handle' is not a valid X handle",
        ),
        ({"name": ""}, "name", "must not be empty"),
        ({"as_of": "yesterday"}, "as_of", "not a YYYY-MM-DD date"),
        ({"aliases": ['Anne" OR "B']}, "aliases", "'Anne\" OR \"B' is not a valid term"),
        ({"aliases": ["from:anne_a"]}, "aliases", "'from:anne_a' is not a valid term"),
        ({"aliases": ["@anne_a"]}, "aliases", "'@anne_a' is not a valid term"),
        ({"aliases": "Anne"}, "aliases", "must be a list of terms"),
        ({"aliases": ["Anne", "anne"]}, "aliases", "'anne' is listed twice"),
        ({"exclude": ["(x)"]}, "exclude", "'(x)' is not a valid term"),
    ],
)
def test_elex_format_errors(tmp_path: Path, patch: dict, field: str, message: str) -> None:
    data = json.loads(json.dumps(ELEX_OK))
    entry = {**data["candidates"][0], **patch}
    data["candidates"][0] = {k: v for k, v in entry.items() if v is not None}
    path = _write(tmp_path, data)
    with pytest.raises(RegistryError) as info:
        load_registry("2027", path)
    assert f"{path}: entry 'a': field {field!r}: {message}" in str(info.value)


def test_missing_file_and_unknown_election(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="file not found"):
        load_registry("2027", tmp_path / "nope.json")
    with pytest.raises(ValueError, match="2017, 2022, 2027"):
        load_registry("2012")


def test_fold_ignores_case_and_accents() -> None:
    assert fold("Mélenchon") == fold("MELENCHON") == "melenchon"
    assert fold("Éric Zemmour") == "eric zemmour"


def test_an_alias_of_two_candidates_is_refused(tmp_path: Path) -> None:
    data = json.loads(json.dumps(ELEX_OK))
    data["candidates"][0]["aliases"] = ["Dupont"]
    data["candidates"].append({**data["candidates"][0], "id": "b", "name": "Bob B",
                               "aliases": ["DUPONT"]})
    with pytest.raises(RegistryError, match=(
            r"entry 'b': field 'aliases': 'DUPONT' is also an alias of 'a'")):
        load_registry("2027", _write(tmp_path, data))


def test_aliases_and_exclusions_become_search_terms() -> None:
    reg = load_registry("2027")
    assert reg["melenchon"].search_terms[:3] == (
        '"Jean-Luc Mélenchon"', "Mélenchon", "Melenchon")
    # Exclusions scope the aliases only, never the exact name or the accounts.
    assert reg["arthaud"].search_terms == (
        '"Nathalie Arthaud"', '(Arthaud -"Florence Arthaud")', "@n_arthaud", "from:n_arthaud")
    assert '"Dupont-Aignan"' in reg["dupont-aignan"].search_terms


def test_2027_ambiguous_surnames_stay_full_names_or_handles() -> None:
    reg = load_registry("2027")
    for cid, surname in [("philippe", "Philippe"), ("bertrand", "Bertrand"),
                         ("roussel", "Roussel"), ("le-pen", "Le Pen")]:
        bare = {surname, f'"{surname}"'}
        assert not bare & set(reg[cid].search_terms), cid
    distinctive = {"melenchon": "Mélenchon", "zemmour": "Zemmour", "bardella": "Bardella"}
    for cid, alias in distinctive.items():
        assert alias in reg[cid].aliases
    assert all(c.aliases or c.accounts for c in reg.candidates)  # reviewed, every entry


def test_alias_terms_find_more_posts_in_the_sandbox() -> None:
    """The surname alone finds the posts that say only "Mélenchon" (the sandbox writes both)."""
    from datetime import UTC, datetime

    from elex_assets.sandbox.x_generator import XGenerator
    from elex_assets.sandbox.x_query_eval import compile_query

    reg = load_registry("2027")
    gen = XGenerator(reg.selected(), reg.election, 3000, 1)
    start = int(datetime(2027, 3, 1, tzinfo=UTC).timestamp() * 1000)
    posts = list(gen.posts_between(start, start + 86_400_000))
    name_only = compile_query('"Jean-Luc Mélenchon"')
    with_aliases = compile_query("(" + " OR ".join(reg["melenchon"].search_terms) + ")")
    assert sum(map(with_aliases, posts)) > sum(map(name_only, posts)) > 0
