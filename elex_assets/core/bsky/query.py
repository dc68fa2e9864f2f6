"""Bluesky search queries built from the registry: the X terms, one term per query.

Each candidate contributes the same names as on X (its exact full name and any
aliases the registry gives it) plus its Bluesky accounts as ``from:handle`` and
``mentions:handle``. searchPosts leaves boolean syntax unspecified, so each term is
its own query (no ``OR``); a term shared by several candidates (a party account)
is sent once and covers all of them. ``lang`` takes one language, so each term is
asked once per configured language (none: every language in one query).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from elex_assets.core.registry import Candidate


@dataclass(frozen=True)
class BskyQuery:
    q: str
    lang: str | None
    candidate_ids: tuple[str, ...]

    @property
    def key(self) -> str:
        """Identifies the query in coverage manifests."""
        return f"{self.lang or '*'}|{self.q}"


def name_terms(candidate: Candidate) -> list[str]:
    """The candidate's quoted names, as in its X query (the alias list when the registry has one)."""
    names = [candidate.name, *getattr(candidate, "aliases", ())]
    out: list[str] = []
    for name in names:
        term = f'"{name}"'
        if term not in out:
            out.append(term)
    return out


def candidate_terms(candidate: Candidate) -> list[str]:
    terms = name_terms(candidate)
    for handle in candidate.bluesky_accounts:
        terms += [f"from:{handle}", f"mentions:{handle}"]
    return terms


def build_queries(
    candidates: Sequence[Candidate], languages: Sequence[str] = ()
) -> list[BskyQuery]:
    owners: dict[str, list[str]] = {}
    for cand in candidates:
        for term in candidate_terms(cand):
            ids = owners.setdefault(term, [])
            if cand.id not in ids:
                ids.append(cand.id)
    langs: list[str | None] = [lang.strip() for lang in languages if lang.strip()] or [None]
    return [BskyQuery(term, lang, tuple(ids)) for term, ids in owners.items() for lang in langs]


def as_bluesky(candidates: Sequence[Candidate]) -> tuple[Candidate, ...]:
    """The candidates with their Bluesky handles in place of their X accounts.

    ``core.matching`` then finds ``@handle`` mentions and posts by the accounts on
    Bluesky with the very rule (names, accents, word boundaries) used for X.
    """
    return tuple(
        replace(c, person_accounts=c.bluesky_person, party_accounts=c.bluesky_party)
        for c in candidates
    )
