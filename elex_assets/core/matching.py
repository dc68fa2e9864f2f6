"""Which candidates a post names: the rule shared by the live collector and the archive.

A post matches a candidate when its text (or the text of the post it quotes or
retweets) names the candidate — full name or distinctive surname, case- and
accent-insensitive, on word boundaries — or mentions one of the candidate's
accounts, or when one of the candidate's accounts wrote it.

The rule is expressed as polars expressions so that millions of posts are
matched in vectorised regex passes; ``match_text`` is the same rule for one post.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import polars as pl

from elex_assets.core.registry import Candidate, fold


def fold_expr(expr: pl.Expr) -> pl.Expr:
    """polars twin of ``registry.fold``: NFKD, drop combining marks, lower-case."""
    return expr.str.normalize("NFKD").str.replace_all(r"\p{M}", "").str.to_lowercase()


def candidate_pattern(candidate: Candidate) -> str:
    """Regex over folded text: the candidate's names on word boundaries, or @account."""
    names = sorted({fold(n) for n in candidate.match_names}, key=len, reverse=True)
    alternatives = [r"\b" + re.escape(n).replace(r"\ ", r"\s+") + r"\b" for n in names]
    alternatives += [r"@" + re.escape(a.lower()) + r"\b" for a in candidate.accounts]
    return "(?:" + "|".join(alternatives) + ")"


def match_candidates_expr(
    candidates: Sequence[Candidate],
    text_columns: Sequence[str],
    author_column: str | None = None,
) -> pl.Expr:
    """A ``List[String]`` expression: ids of the candidates each row names (registry order)."""
    if not candidates:
        return pl.lit([], dtype=pl.List(pl.String))
    folded = [fold_expr(pl.col(c).fill_null("")) for c in text_columns]
    text = pl.concat_str(folded, separator="\n") if len(folded) > 1 else folded[0]
    author = pl.col(author_column).fill_null("").str.to_lowercase() if author_column else None
    flags = []
    for cand in candidates:
        hit = text.str.contains(candidate_pattern(cand))
        if author is not None and cand.accounts:
            hit = hit | author.is_in([a.lower() for a in cand.accounts])
        flags.append(pl.when(hit).then(pl.lit(cand.id)).otherwise(pl.lit(None, pl.String)))
    return pl.concat_list(flags).list.drop_nulls()


def match_text(
    candidates: Sequence[Candidate], *texts: str | None, author: str | None = None
) -> list[str]:
    """The same rule for one post (small inputs, sandbox and tests)."""
    folded = "\n".join(fold(t) for t in texts if t)
    author_l = (author or "").lower()
    out = []
    for cand in candidates:
        if re.search(candidate_pattern(cand), folded) or (
            author_l and author_l in {a.lower() for a in cand.accounts}
        ):
            out.append(cand.id)
    return out
