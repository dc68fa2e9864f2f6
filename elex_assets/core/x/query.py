"""X search queries built from the registry, split to fit the endpoint's length limit.

Each candidate contributes its search terms (exact full name, ``@account``,
``from:account``); a term shared by several candidates (a party account) is
sent once and covers all of them. Terms are packed greedily, in registry order,
into ``(t1 OR t2 ...) (lang:fr OR lang:en) [-is:retweet]`` queries no longer than
the limit (512 characters on recent search, 1,024 on full-archive search).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from elex_assets.core.registry import Candidate

ENDPOINTS = ("recent", "all")
MAX_QUERY_LENGTH = {"recent": 512, "all": 1024}
DEFAULT_LANGUAGES = ("fr", "en")


class QueryTooLongError(ValueError):
    """A single search term cannot fit in a query of the endpoint's length limit."""

    transient = False  # final: see core.retrying.is_deterministic


@dataclass(frozen=True)
class XQuery:
    """One search query and the candidates whose terms it carries."""

    text: str
    terms: tuple[str, ...]
    candidate_ids: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.text)


def query_suffix(languages: Sequence[str] = DEFAULT_LANGUAGES, include_retweets: bool = True) -> str:
    """The filters appended to every query (languages, retweets)."""
    parts = []
    langs = [lang.strip() for lang in languages if lang.strip()]
    if len(langs) == 1:
        parts.append(f"lang:{langs[0]}")
    elif langs:
        parts.append("(" + " OR ".join(f"lang:{lang}" for lang in langs) + ")")
    if not include_retweets:
        parts.append("-is:retweet")
    return (" " + " ".join(parts)) if parts else ""


def render(terms: Sequence[str], suffix: str) -> str:
    return "(" + " OR ".join(terms) + ")" + suffix


def split_terms(terms: Sequence[str], max_length: int, suffix: str = "") -> list[list[str]]:
    """Pack ``terms`` in order into groups whose rendered query fits ``max_length``.

    Every term lands in exactly one group; a term too long on its own raises
    ``QueryTooLongError`` naming it.
    """
    groups: list[list[str]] = []
    current: list[str] = []
    for term in terms:
        if len(render([term], suffix)) > max_length:
            raise QueryTooLongError(
                f"search term {term!r} makes a query of {len(render([term], suffix))} characters, "
                f"over the limit of {max_length}; shorten the candidate's name or accounts, "
                "or raise X_MAX_QUERY_LENGTH (full-archive search allows 1024)"
            )
        if current and len(render([*current, term], suffix)) > max_length:
            groups.append(current)
            current = []
        current.append(term)
    if current:
        groups.append(current)
    return groups


def build_queries(
    candidates: Sequence[Candidate],
    *,
    max_length: int = MAX_QUERY_LENGTH["recent"],
    languages: Sequence[str] = DEFAULT_LANGUAGES,
    include_retweets: bool = True,
) -> list[XQuery]:
    """Queries covering every search term of ``candidates`` (already filtered by status)."""
    owners: dict[str, list[str]] = {}
    for cand in candidates:
        for term in cand.search_terms:
            owners.setdefault(term, [])
            if cand.id not in owners[term]:
                owners[term].append(cand.id)
    suffix = query_suffix(languages, include_retweets)
    queries = []
    for group in split_terms(list(owners), max_length, suffix):
        ids: list[str] = []
        for term in group:
            ids += [c for c in owners[term] if c not in ids]
        queries.append(XQuery(render(group, suffix), tuple(group), tuple(ids)))
    return queries
