import polars as pl

from elex_assets.core.markdown import markdown_table


def test_cells_are_escaped_flattened_and_cut() -> None:
    df = pl.DataFrame(
        {"text": ["a|b\nc", "x" * 100, None], "tags": [["#a", "#b"], [], None]}
    )
    md = markdown_table(df, width=20).splitlines()
    assert md[0] == "| text | tags |"
    assert md[2] == '| a\\|b c | ["#a", "#b"] |'
    assert md[3].startswith("| " + "x" * 19 + "…")
    assert md[4] == "|  |  |"


def test_only_the_first_rows() -> None:
    assert len(markdown_table(pl.DataFrame({"n": range(50)}), rows=3).splitlines()) == 5
