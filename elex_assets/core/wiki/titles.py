"""Article titles as Wikipedia writes them, and as they travel in a pageviews URL.

The registry stores a title the way the article's own URL shows it:
``Jean-Luc_Mélenchon``, underscores for spaces, the first letter upper-case,
nothing percent-encoded. It is percent-encoded (UTF-8) only when sent, the
whole title as one path segment: ``/`` becomes ``%2F``, an en dash ``%E2%80%93``.
The Pageviews API is case-sensitive and counts the exact title asked: a title in
another form (spaces, a lower-case first letter, pre-encoded) would count
nothing, so such forms are refused when the registry loads, with the form to write.
A redirect cannot be told from an article without asking MediaWiki; Wikimedia
counts a redirect's views on their own (the article's count excludes them), so
the registry must hold the article's title itself (docs/changes/wikipedia.md).
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, unquote

LANG_RE = re.compile(r"^[a-z]{2,3}(?:-[a-z]{2,8})?$")
# MediaWiki's forbidden title characters (and controls); ``%XX`` means pre-encoded.
_FORBIDDEN = re.compile(r"[#<>\[\]|{}\x00-\x1f\x7f]")
_ENCODED = re.compile(r"%[0-9A-Fa-f]{2}")
MAX_TITLE_BYTES = 255


def title_problem(title: str) -> str | None:
    """Why ``title`` is not a title in Wikipedia's own form, or None."""
    if not title or not title.strip("_ "):
        return "must not be empty"
    if " " in title:
        return (f"{title!r}: write underscores for spaces, as in the article's URL: "
                f"{title.strip().replace(' ', '_')!r}")
    if _ENCODED.search(title):
        return (f"{title!r} is percent-encoded: store the title as Wikipedia writes it "
                f"({unquote(title)!r}); elex encodes it when sending")
    bad = _FORBIDDEN.search(title)
    if bad:
        return f"{title!r}: {bad.group()!r} cannot appear in a Wikipedia title"
    if title.startswith("_") or title.endswith("_") or "__" in title:
        return f"{title!r}: stray underscores (Wikipedia would write {_tidy(title)!r})"
    if unicodedata.normalize("NFC", title) != title:
        return f"{title!r}: not in Unicode NFC form (Wikipedia stores titles in NFC)"
    first = title[0]
    if first.upper() != first and len(first.upper()) == 1:
        return (f"{title!r}: Wikipedia titles start with an upper-case letter "
                f"({first.upper() + title[1:]!r}); the pageviews API is case-sensitive")
    if len(title.encode("utf-8")) > MAX_TITLE_BYTES:
        return f"{title[:40]!r}...: longer than Wikipedia's {MAX_TITLE_BYTES} bytes"
    return None


def _tidy(title: str) -> str:
    return "_".join(p for p in title.split("_") if p)


def encode_title(title: str) -> str:
    """The title as one URL path segment: UTF-8, every reserved character encoded."""
    return quote(title, safe="")


def same_title(answered: str, asked: str) -> bool:
    """Whether an answer's ``article`` is the title asked: compared decoded, with underscores
    (an answer or a proxy may echo another encoding of the same title)."""
    def norm(t: str) -> str:
        return unquote(t).replace(" ", "_")

    return norm(answered) == norm(asked)


def project_of(lang: str) -> str:
    """``fr`` -> ``fr.wikipedia`` (the project name of the pageviews API)."""
    return f"{lang}.wikipedia"
