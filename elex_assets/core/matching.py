"""Which candidates a post names: the rule shared by the live collector and the archive.

A post matches a candidate when its text (or the text of the post it quotes or
retweets) names the candidate — full name or distinctive surname, case- and
accent-insensitive, on word boundaries — or mentions one of the candidate's
accounts, or when one of the candidate's accounts wrote it.

Speed matters (millions of posts a day), so every candidate's names and
accounts go into ONE case-insensitive regex whose letters match their accented
variants: a single pass over the raw text finds all mentions, and only the few
matched snippets are folded and mapped back to candidate ids. Folding every
post's text first (NFKD) and running one regex per candidate was 30x slower.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import polars as pl

from elex_assets.core.registry import Candidate, fold

_ACCENTED = "àáâãäåèéêëìíîïòóôõöùúûüýÿçñ"
_BASE = {ch: unicodedata.normalize("NFKD", ch)[0] for ch in _ACCENTED}
_VARIANTS: dict[str, str] = {}
for _ch, _b in _BASE.items():
    _VARIANTS[_b] = _VARIANTS.get(_b, "") + _ch
_FOLD_FROM = list(_BASE) + [c.upper() for c in _BASE]
_FOLD_TO = list(_BASE.values()) * 2
# A name starts after a non-letter (Unicode-aware: "Éric" after a space) and ends on
# an ASCII word boundary (cheap, and every name ends with an ASCII letter).
_START = r"(?:^|[^\p{L}\p{N}_@])"
_END = r"(?-u:\b)"


def fold_expr(expr: pl.Expr) -> pl.Expr:
    """polars twin of ``registry.fold``: NFKD, drop combining marks, lower-case."""
    return expr.str.normalize("NFKD").str.replace_all(r"\p{M}", "").str.to_lowercase()


def _accent_insensitive(folded: str) -> str:
    out = []
    for ch in folded:
        if ch in _VARIANTS:
            out.append(f"[{ch}{_VARIANTS[ch]}]")
        elif ch.isspace():
            out.append(r"\s+")
        else:
            out.append(re.escape(ch))
    return "".join(out)


def _snippet_key(snippet: str) -> str:
    return re.sub(r"\s+", " ", fold(snippet)).lstrip(" ").lstrip("".join(_NON_NAME_START))


_NON_NAME_START = "\"'([{<«“‘#.,;:!?/\\|-*+=~"


@dataclass(frozen=True)
class _Matcher:
    ids: tuple[str, ...]
    pattern: str  # finds every name / @account mention in raw text
    keys: dict[str, int]  # folded snippet ("macron", "@emmanuelmacron") -> candidate index


@cache
def _matcher(candidates: tuple[Candidate, ...]) -> _Matcher:
    keys: dict[str, int] = {}
    for index, cand in enumerate(candidates):
        for name in cand.match_names:
            keys.setdefault(re.sub(r"\s+", " ", fold(name)), index)
        # Reviewed aliases (surnames, nicknames, hashtags) found the post in search, so
        # they name the candidate here too; a hashtag matches as its word after "#".
        for alias in cand.aliases:
            keys.setdefault(re.sub(r"\s+", " ", fold(alias.lstrip("#"))), index)
        for account in cand.accounts:
            keys.setdefault("@" + account.lower(), index)
    names = sorted((k for k in keys if not k.startswith("@")), key=len, reverse=True)
    handles = sorted((k for k in keys if k.startswith("@")), key=len, reverse=True)
    alternatives = [_accent_insensitive(n) for n in names] + [re.escape(h) for h in handles]
    pattern = rf"(?i){_START}(?:{'|'.join(alternatives)}){_END}"
    return _Matcher(tuple(c.id for c in candidates), pattern, keys)


def candidate_pattern(candidate: Candidate) -> str:
    """The regex that finds one candidate's names and accounts in raw text."""
    return _matcher((candidate,)).pattern


def match_candidates_expr(
    candidates: Sequence[Candidate],
    text_columns: Sequence[str],
    author_column: str | None = None,
) -> pl.Expr:
    """A ``List[String]`` expression: ids of the candidates each row names (registry order)."""
    if not candidates:
        return pl.lit([], dtype=pl.List(pl.String))
    m = _matcher(tuple(candidates))
    # Each row's matched snippets (and its author's handle) in ONE joined string:
    # plain string ops are much cheaper than list concatenation or per-element
    # list evaluation. Empty parts only add empty snippets, which map to nothing.
    sep = "\x1f"
    parts = [
        pl.col(c).cast(pl.String).fill_null("").str.extract_all(m.pattern).list.join(sep)
        for c in text_columns
    ]
    if author_column:
        parts.append(pl.lit("@") + pl.col(author_column).cast(pl.String).fill_null(""))
    snippets = (
        pl.concat_str(parts, separator=sep)
        .str.to_lowercase()
        .str.replace_many(_FOLD_FROM, _FOLD_TO)
        .str.replace_all(r"\s+", " ")
        .str.replace_all(r"(^|\x1f)[^\p{L}\p{N}_@\x1f]", "$1")
        .str.split(sep)
    )
    return (
        # drop_nulls inside the eval: half the time of list.drop_nulls() on polars 2.1
        snippets.list.eval(
            pl.element().replace_strict(m.keys, default=None, return_dtype=pl.Int32).drop_nulls()
        )
        .list.unique()
        # list.eval(sort) rather than list.sort(): 6x faster on polars 2.1
        .list.eval(
            pl.element().sort().replace_strict(dict(enumerate(m.ids)), return_dtype=pl.String)
        )
    )


def match_text(
    candidates: Sequence[Candidate], *texts: str | None, author: str | None = None
) -> list[str]:
    """The same rule for one post (small inputs, sandbox and tests)."""
    m = _matcher(tuple(candidates))
    hits: set[int] = set()
    for text in texts:
        if text:
            for snippet in re.findall(_python_pattern(m.pattern), text):
                index = m.keys.get(_snippet_key(snippet))
                if index is not None:
                    hits.add(index)
    if author and ("@" + author.lower()) in m.keys:
        hits.add(m.keys["@" + author.lower()])
    return [m.ids[i] for i in sorted(hits)]


@cache
def _python_pattern(pattern: str) -> re.Pattern[str]:
    """Python's ``re`` spelling of the Rust pattern (no \\p classes, no (?-u:))."""
    translated = pattern.replace(r"[^\p{L}\p{N}_@]", r"[^\w@]").replace(r"(?-u:\b)", r"\b")
    return re.compile(translated)
