import polars as pl
import pytest

from elex_assets.core.matching import match_candidates_expr, match_text
from elex_assets.core.registry import load_registry

REG = load_registry("2022")
CANDS = REG.selected()

CASES = [
    ("Débat ce soir entre MÉLENCHON et Macron", None, ["macron", "melenchon"]),
    ("melenchon sans accent", None, ["melenchon"]),
    ("Jean-Luc Mélenchon", None, ["melenchon"]),
    ("Les macronistes ne comptent pas", None, []),  # word boundary
    ("merci @EmmanuelMacron", None, ["macron"]),
    ("merci @EmmanuelMacronFan", None, []),  # another account
    ("Marine  Le   Pen en meeting", None, ["le-pen"]),
    ("un texte sans candidat", "vpecresse", ["pecresse"]),  # written by the candidate
    ("Éric Zemmour", None, ["zemmour"]),
    ("Dupont-Aignan et Roussel", None, ["roussel", "dupont-aignan"]),
]


@pytest.mark.parametrize(("text", "author", "expected"), CASES)
def test_match_text(text: str, author: str | None, expected: list[str]) -> None:
    assert sorted(match_text(CANDS, text, author=author)) == sorted(expected)


def test_polars_expression_agrees_with_match_text() -> None:
    df = pl.DataFrame(
        {
            "text": [c[0] for c in CASES] + ["RT: voir la citation", None],
            "referenced_text": [None] * len(CASES) + ["Valérie Pécresse a dit", "Jadot!"],
            "author": [c[1] for c in CASES] + [None, None],
        }
    )
    got = df.select(match_candidates_expr(CANDS, ["text", "referenced_text"], "author").alias("m"))[
        "m"
    ].to_list()
    expected = [match_text(CANDS, t, r, author=a) for t, r, a in df.iter_rows()]
    assert got == expected
    assert got[-2:] == [["pecresse"], ["jadot"]]


def test_names_starting_with_an_accent_and_hashtags() -> None:
    reg_2027 = load_registry("2027").selected()
    assert match_text(reg_2027, "Édouard Philippe au Havre") == ["philippe"]
    assert match_text(reg_2027, "«Edouard PHILIPPE» candidat") == ["philippe"]
    assert match_text(reg_2027, "Philippe seul ne suffit pas") == []  # no distinctive surname
    assert match_text(CANDS, "#Macron #Zemmour2022") == ["macron"]
    df = pl.DataFrame({"text": ["Édouard Philippe au Havre", "#Macron"]})
    got = df.select(match_candidates_expr(reg_2027, ["text"]).alias("m"))["m"].to_list()
    assert got == [["philippe"], []]


def test_expression_merges_text_referenced_text_and_author() -> None:
    """Every part of a row is matched; a candidate named twice counts once, registry order."""
    df = pl.DataFrame(
        {
            "text": ["Jadot et Macron", None, "", "Macron", None],
            "referenced_text": ["@EmmanuelMacron répond", "Zemmour", None, "Pécresse", None],
            "author": ["vpecresse", "yjadot", None, "", None],
        }
    )
    got = df.select(match_candidates_expr(CANDS, ["text", "referenced_text"], "author").alias("m"))[
        "m"
    ].to_list()
    assert got == [match_text(CANDS, t, r, author=a) for t, r, a in df.iter_rows()]
    order = [c.id for c in CANDS]
    assert all(row == sorted(row, key=order.index) for row in got)
    assert got[4] == []
    assert set(got[0]) == {"jadot", "macron", "pecresse"}
    assert set(got[3]) == {"macron", "pecresse"}


def test_reviewed_aliases_name_the_candidate_as_in_search() -> None:
    # A post found only through an alias (a surname, a hashtag) must not land with no
    # candidate: the matcher uses the same reviewed aliases as the X queries.
    from elex_assets.core.registry import load_registry

    cands = load_registry("2027").candidates
    assert match_text(cands, "Meeting de Bardella ce soir") == ["bardella"]
    assert match_text(cands, "Tous derrière #MarineLePen !") == ["le-pen"]
    assert match_text(cands, "Melenchon et Zemmour en débat") == ["melenchon", "zemmour"]
    df = pl.DataFrame({"text": ["#MarineLePen face à Bardella", "rien"]})
    got = df.select(match_candidates_expr(cands, ["text"]).alias("c"))["c"].to_list()
    assert got == [["bardella", "le-pen"], []]
