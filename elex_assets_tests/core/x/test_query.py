"""Query building and splitting (property-tested: every term once, none over the limit)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from elex_assets.core.registry import load_registry
from elex_assets.core.x.query import (
    QueryTooLongError,
    build_queries,
    query_suffix,
    render,
    split_terms,
)

terms_st = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz_@:\" ", min_size=1, max_size=60),
    min_size=0, max_size=80, unique=True,
)


@settings(max_examples=200, deadline=None)
@given(terms=terms_st, limit=st.integers(min_value=20, max_value=1024),
       langs=st.sampled_from([(), ("fr",), ("fr", "en")]), retweets=st.booleans())
def test_split_puts_every_term_in_exactly_one_query_within_the_limit(
    terms: list[str], limit: int, langs: tuple[str, ...], retweets: bool
) -> None:
    suffix = query_suffix(langs, retweets)
    if any(len(render([t], suffix)) > limit for t in terms):
        with pytest.raises(QueryTooLongError, match="over the limit"):
            split_terms(terms, limit, suffix)
        return
    groups = split_terms(terms, limit, suffix)
    flat = [t for g in groups for t in g]
    assert flat == terms  # each term once, order kept
    assert all(len(render(g, suffix)) <= limit for g in groups)
    assert all(groups)


def test_a_term_longer_than_the_limit_is_a_clear_error() -> None:
    with pytest.raises(QueryTooLongError, match=r"'\"a{600}\"'.*over the limit of 512"):
        split_terms(['"' + "a" * 600 + '"'], 512)


def test_queries_from_the_registry_cover_each_candidate_and_fit_recent_search() -> None:
    reg = load_registry("2027")
    queries = build_queries(reg.selected(), max_length=512)
    assert len(queries) > 1
    assert all(len(q.text) <= 512 for q in queries)
    covered = {c for q in queries for c in q.candidate_ids}
    assert covered == {c.id for c in reg.selected()}
    first = queries[0].text
    assert '"Jordan Bardella"' in first and "@J_Bardella" in first and "from:J_Bardella" in first
    assert first.endswith(" (lang:fr OR lang:en)")
    # a party account shared by two candidates is sent once and covers both
    assert sum(q.text.count("@RNational_off") for q in queries) == 1
    shared = next(q for q in queries if "@RNational_off" in q.text)
    assert {"bardella", "le-pen"} <= set(shared.candidate_ids)


def test_withdrawn_candidates_and_retweets_are_configurable() -> None:
    reg = load_registry("2022")
    default = build_queries(reg.selected(), max_length=1024)
    everyone = build_queries(reg.selected(-1), max_length=1024, include_retweets=False,
                             languages=["fr"])
    assert "taubira" not in {c for q in default for c in q.candidate_ids}
    assert "taubira" in {c for q in everyone for c in q.candidate_ids}
    assert all(q.text.endswith(" lang:fr -is:retweet") for q in everyone)
    assert len(default) < len(build_queries(reg.selected(), max_length=512))
