"""The subset of X's search query syntax the sandbox honours.

Quoted phrases, bare words, ``@handle``, ``from:``, ``lang:``, ``is:retweet|quote|reply``,
``OR``, implicit AND by juxtaposition (AND binds tighter than OR, as on X),
``-`` negation and parentheses. A query compiles to a predicate over ``Post``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from elex_assets.core.registry import fold
from elex_assets.sandbox.x_generator import Post

Predicate = Callable[[Post], bool]
_TOKEN = re.compile(r'\s*(?:(\()|(\))|("[^"]*")|(-)(?=\S)|([^\s()"]+))')


class QuerySyntaxError(ValueError):
    pass


def tokenize(query: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    query = query.strip()
    while pos < len(query):
        m = _TOKEN.match(query, pos)
        if not m or m.end() == pos:
            raise QuerySyntaxError(f"cannot parse the query at position {pos}: {query[pos:]!r}")
        tokens.append(next(g for g in m.groups() if g is not None))
        pos = m.end()
        while pos < len(query) and query[pos].isspace():
            pos += 1
    return tokens


@lru_cache(maxsize=256)
def compile_query(query: str) -> Predicate:
    tokens = tokenize(query)
    if not tokens:
        raise QuerySyntaxError("empty query")
    pred, pos = _parse_or(tokens, 0)
    if pos != len(tokens):
        raise QuerySyntaxError(f"unexpected {tokens[pos]!r} in the query")
    return pred


def _parse_or(tokens: list[str], pos: int) -> tuple[Predicate, int]:
    parts = []
    pred, pos = _parse_and(tokens, pos)
    parts.append(pred)
    while pos < len(tokens) and tokens[pos] == "OR":
        pred, pos = _parse_and(tokens, pos + 1)
        parts.append(pred)
    if len(parts) == 1:
        return parts[0], pos
    return (lambda p: any(f(p) for f in parts)), pos


def _parse_and(tokens: list[str], pos: int) -> tuple[Predicate, int]:
    parts = []
    while pos < len(tokens) and tokens[pos] not in (")", "OR"):
        pred, pos = _parse_unary(tokens, pos)
        parts.append(pred)
    if not parts:
        raise QuerySyntaxError("an operand is missing (empty group or dangling OR)")
    if len(parts) == 1:
        return parts[0], pos
    return (lambda p: all(f(p) for f in parts)), pos


def _parse_unary(tokens: list[str], pos: int) -> tuple[Predicate, int]:
    if tokens[pos] == "-":
        inner, pos = _parse_unary(tokens, pos + 1)
        return (lambda p: not inner(p)), pos
    if tokens[pos] == "(":
        inner, pos = _parse_or(tokens, pos + 1)
        if pos >= len(tokens) or tokens[pos] != ")":
            raise QuerySyntaxError("unbalanced parentheses")
        return inner, pos + 1
    return _term(tokens[pos]), pos + 1


def _words(text: str) -> re.Pattern[str]:
    body = r"\s+".join(re.escape(w) for w in fold(text).split())
    return re.compile(r"(?<![\w@#])" + body + r"(?!\w)")


def _term(token: str) -> Predicate:
    if token.startswith('"'):
        pattern = _words(token.strip('"'))
        return lambda p: pattern.search(p.search_text) is not None
    if token.startswith("@"):
        handle = token[1:].lower()
        return lambda p: handle in p.mentions
    if token.startswith("#"):
        tag = "#" + fold(token[1:])
        return lambda p: tag in p.search_text
    key, sep, value = token.partition(":")
    if sep and key == "from":
        user = value.lower()
        return lambda p: p.username.lower() == user
    if sep and key == "lang":
        return lambda p: p.lang == value
    if sep and key == "is":
        kinds = {"retweet": "retweeted", "quote": "quoted", "reply": "replied_to"}
        if value not in kinds:
            raise QuerySyntaxError(f"unsupported operator is:{value}")
        kind = kinds[value]
        return lambda p: p.ref_type == kind
    if sep:
        raise QuerySyntaxError(f"unsupported operator {key}:")
    pattern = _words(token)
    return lambda p: pattern.search(p.search_text) is not None
