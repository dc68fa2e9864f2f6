"""The candidate registry: who is searched for, under which names and accounts.

Two on-disk formats are accepted:

* elex's own (shipped in ``elex_assets/data/elections/<id>.json``)::

    {"election": {"id": "2022", "first_round": "...", "second_round": "...",
                  "campaign_start": "..."},
     "candidates": [{"id": "macron", "name": "Emmanuel Macron", "surname": "Macron",
                     "group": "centre", "party": "LREM", "status": 1,
                     "accounts": {"person": ["EmmanuelMacron"], "party": ["enmarchefr"]},
                     "image": "https://...", "as_of": "2022-03-07"}]}

* the legacy format of the original 2022 scripts: an object keyed by candidate
  id, each value ``{name, group, party, status, twitter_account: ["@handle"], image}``.

Every error names the file, the entry and the field, so a user editing the file
by hand knows where to look.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from elex_assets import PACKAGE_DIR
from elex_assets.core.elections import (
    ELECTIONS_SUPPORTED,
    Election,
    election_from_dict,
)

ELECTIONS_DIR = PACKAGE_DIR / "data" / "elections"
HANDLE_RE = re.compile(r"^[A-Za-z0-9_]{1,15}$")
# A Bluesky handle is a domain name: dot-separated labels of letters, digits and '-'
# (not at either end), at least two labels, the last one starting with a letter.
BSKY_HANDLE_RE = re.compile(
    r"^(?=.{3,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$"
)
STATUSES = {-1: "withdrawn", 0: "potential", 1: "declared"}
ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class RegistryError(ValueError):
    """A registry file that cannot be used; the message says where and why."""

    transient = False  # final: see core.retrying.is_deterministic

    def __init__(
        self,
        file: str | Path,
        problem: str,
        entry: str | None = None,
        field_name: str | None = None,
    ) -> None:
        where = [str(file)]
        if entry is not None:
            where.append(f"entry {entry!r}")
        if field_name is not None:
            where.append(f"field {field_name!r}")
        super().__init__(": ".join(where) + f": {problem}")
        self.file = str(file)
        self.entry = entry
        self.field = field_name


@dataclass(frozen=True)
class Candidate:
    id: str
    name: str
    group: str
    party: str
    status: int
    person_accounts: tuple[str, ...] = ()
    party_accounts: tuple[str, ...] = ()
    image: str | None = None
    surname: str | None = None
    as_of: date | None = None
    bluesky_person: tuple[str, ...] = ()
    bluesky_party: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()  # reviewed terms people write (surname, nickname, hashtag)
    exclude: tuple[str, ...] = ()  # terms that disqualify a post found by an alias
    # Wikipedia article titles by language (``(("fr", "Jordan_Bardella"), ...)``), as
    # Wikipedia writes them: underscores, not percent-encoded (``core.wiki.titles``).
    wikipedia: tuple[tuple[str, str], ...] = ()

    @property
    def accounts(self) -> tuple[str, ...]:
        return self.person_accounts + self.party_accounts

    @property
    def bluesky_accounts(self) -> tuple[str, ...]:
        """Bluesky handles (domain names), person first; empty when none is confirmed."""
        return self.bluesky_person + tuple(h for h in self.bluesky_party
                                           if h not in self.bluesky_person)

    @property
    def match_names(self) -> tuple[str, ...]:
        """Names that identify the candidate in a text: full name and distinctive surname."""
        names = [self.name]
        if self.surname and self.surname != self.name:
            names.append(self.surname)
        return tuple(names)

    @property
    def search_terms(self) -> tuple[str, ...]:
        """X search operators for this candidate: exact name, mentions, and posts by them."""
        terms = [f'"{self.name}"']
        terms += alias_terms(self.aliases, self.exclude)
        terms += [f"@{a}" for a in self.accounts]
        terms += [f"from:{a}" for a in self.accounts]
        return tuple(terms)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "surname": self.surname,
            "group": self.group,
            "party": self.party,
            "status": self.status,
            "accounts": {"person": list(self.person_accounts), "party": list(self.party_accounts)},
            "image": self.image,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "aliases": list(self.aliases),
            "exclude": list(self.exclude),
            "search_terms": list(self.search_terms),
            "bluesky": {"person": list(self.bluesky_person), "party": list(self.bluesky_party)},
            "wikipedia": dict(self.wikipedia),
        }


ALIAS_RE = re.compile(r"^#?[\w][\w' .’-]{0,59}$")


def render_term(term: str) -> str:
    """An alias as an X search term: ``#tag``, a bare word, or an exact phrase."""
    if term.startswith("#") or re.fullmatch(r"\w+", term):
        return term
    return f'"{term}"'


def alias_terms(aliases: tuple[str, ...], exclude: tuple[str, ...]) -> list[str]:
    """Search terms for aliases; with ``exclude``, one group ``((a OR b) -x -"y z")`` so the
    exclusions apply to the aliases only (the exact name and the accounts stay as they are)."""
    if not aliases:
        return []
    rendered = [render_term(a) for a in aliases]
    if not exclude:
        return rendered
    body = rendered[0] if len(rendered) == 1 else "(" + " OR ".join(rendered) + ")"
    return ["(" + body + " " + " ".join(f"-{render_term(x)}" for x in exclude) + ")"]


@dataclass(frozen=True)
class Registry:
    election: Election
    candidates: tuple[Candidate, ...]
    source: str = ""
    legacy: bool = False
    _by_id: dict[str, Candidate] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_id.update({c.id: c for c in self.candidates})

    def __getitem__(self, candidate_id: str) -> Candidate:
        return self._by_id[candidate_id]

    def __len__(self) -> int:
        return len(self.candidates)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.candidates)

    def selected(self, min_status: int = 0) -> tuple[Candidate, ...]:
        """Candidates worth collecting: by default declared and potential, not withdrawn."""
        return tuple(c for c in self.candidates if c.status >= min_status)


def fold(text: str) -> str:
    """Lower-case and strip accents, for case- and accent-insensitive comparison."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def builtin_registry_path(election_id: str) -> Path:
    if election_id not in ELECTIONS_SUPPORTED:
        raise ValueError(
            f"ELEX_ELECTION={election_id!r} is not supported; choose one of "
            f"{', '.join(ELECTIONS_SUPPORTED)}"
        )
    return ELECTIONS_DIR / f"{election_id}.json"


def load_registry(election_id: str, candidates_file: str | Path | None = None) -> Registry:
    """Load the registry of ``election_id``, or ``candidates_file`` when given.

    A legacy file carries no election dates: they come from the built-in file of
    ``election_id``.
    """
    builtin = builtin_registry_path(election_id)
    path = Path(candidates_file) if candidates_file else builtin
    raw = _read_json(path)
    if _is_legacy(raw):
        election = _parse_election(builtin, _read_json(builtin))
        candidates = _parse_legacy(path, raw)
        _require_candidates(path, candidates)
        return Registry(election, candidates, source=str(path), legacy=True)
    if not isinstance(raw, dict):
        raise RegistryError(path, "expected a JSON object with 'election' and 'candidates'")
    election = _parse_election(path, raw)
    entries = raw.get("candidates")
    if not isinstance(entries, list):
        raise RegistryError(path, "'candidates' must be a list of entries", field_name="candidates")
    candidates = _parse_entries(path, entries)
    _require_candidates(path, candidates)
    return Registry(election, candidates, source=str(path))


def _require_candidates(path: Path, candidates: tuple[Candidate, ...]) -> None:
    """An empty registry (``{}``, ``"candidates": []``) would collect nothing, silently."""
    if not candidates:
        raise RegistryError(
            path, "no candidates: expected an object with 'election' and a non-empty "
            "'candidates' list, or a legacy object {id: {name, group, ...}}"
        )


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RegistryError(path, "file not found") from None
    except UnicodeDecodeError as exc:
        raise RegistryError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        return json.loads(text, object_pairs_hook=_pairs_keeping_duplicates)
    except json.JSONDecodeError as exc:
        raise RegistryError(
            path, f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None


class _DuplicateKeys(dict):
    """A JSON object that had the same key twice; remembers which keys."""

    duplicates: list[str]


def _pairs_keeping_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = _DuplicateKeys()
    result.duplicates = []
    for key, value in pairs:
        if key in result:
            result.duplicates.append(key)
        result[key] = value
    return result


def _is_legacy(raw: Any) -> bool:
    return (
        isinstance(raw, dict)
        and "candidates" not in raw
        and "election" not in raw
        and all(isinstance(v, dict) for v in raw.values())
    )


def _parse_election(path: Path, raw: dict[str, Any]) -> Election:
    meta = raw.get("election")
    if not isinstance(meta, dict):
        raise RegistryError(path, "missing election metadata", field_name="election")
    election_id = str(meta.get("id", ""))
    for key in ("first_round", "second_round", "campaign_start"):
        if key not in meta:
            raise RegistryError(path, "missing field", entry="election", field_name=key)
        try:
            date.fromisoformat(str(meta[key]))
        except ValueError:
            raise RegistryError(
                path, f"not a YYYY-MM-DD date: {meta[key]!r}", entry="election", field_name=key
            ) from None
    return election_from_dict(election_id, meta)


def _parse_entries(path: Path, entries: list[Any]) -> tuple[Candidate, ...]:
    seen: set[str] = set()
    out = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise RegistryError(path, "entry is not a JSON object", entry=f"#{index}")
        label = str(entry.get("id") or f"#{index}")
        cid = _require_str(path, label, entry, "id")
        if not ID_RE.match(cid):
            raise RegistryError(
                path,
                "id must be lower-case letters, digits, '-' or '_'",
                entry=label,
                field_name="id",
            )
        if cid in seen:
            raise RegistryError(path, "duplicate id", entry=cid, field_name="id")
        seen.add(cid)
        accounts = entry.get("accounts", {})
        if not isinstance(accounts, dict):
            raise RegistryError(
                path,
                "must be an object {person: [...], party: [...]}",
                entry=cid,
                field_name="accounts",
            )
        as_of = entry.get("as_of")
        if as_of is not None:
            try:
                as_of = date.fromisoformat(str(as_of))
            except ValueError:
                raise RegistryError(
                    path, f"not a YYYY-MM-DD date: {as_of!r}", entry=cid, field_name="as_of"
                ) from None
        out.append(
            Candidate(
                id=cid,
                name=_require_str(path, cid, entry, "name"),
                surname=_optional_str(path, cid, entry, "surname"),
                group=_require_str(path, cid, entry, "group"),
                party=_require_str(path, cid, entry, "party"),
                status=_status(path, cid, entry),
                person_accounts=_handles(path, cid, accounts.get("person", []), "accounts.person"),
                party_accounts=_handles(path, cid, accounts.get("party", []), "accounts.party"),
                image=_optional_str(path, cid, entry, "image"),
                as_of=as_of,
                **_bluesky(path, cid, entry),
                aliases=_terms(path, cid, entry.get("aliases", []), "aliases"),
                exclude=_terms(path, cid, entry.get("exclude", []), "exclude"),
                wikipedia=_wikipedia(path, cid, entry),
            )
        )
    _check_shared_aliases(path, out)
    _check_shared_titles(path, out)
    return tuple(out)


def _terms(path: Path, cid: str, value: Any, key: str) -> tuple[str, ...]:
    """Aliases / exclusions: words, phrases or #hashtags, no search operators."""
    if not isinstance(value, list):
        raise RegistryError(path, "must be a list of terms", entry=cid, field_name=key)
    out: list[str] = []
    for term in value:
        if not isinstance(term, str) or not ALIAS_RE.match(term.strip()) \
                or term.strip().upper() in ("OR", "AND"):
            raise RegistryError(
                path,
                f"{term!r} is not a valid term: a word, a phrase or a #hashtag of at most 60 "
                "letters, digits, spaces, '-' or apostrophes (no quotes, parentheses, ':' or "
                "'@': accounts go in 'accounts')",
                entry=cid, field_name=key,
            )
        if term.strip().casefold() in {t.casefold() for t in out}:  # accents differ on X
            raise RegistryError(path, f"{term!r} is listed twice", entry=cid, field_name=key)
        out.append(term.strip())
    return tuple(out)


def _check_shared_aliases(path: Path, candidates: list[Candidate]) -> None:
    """An alias of two candidates would count each one's posts for the other."""
    owner: dict[str, str] = {}
    for cand in candidates:
        for alias in cand.aliases:
            other = owner.setdefault(fold(alias), cand.id)
            if other != cand.id:
                raise RegistryError(
                    path, f"{alias!r} is also an alias of {other!r}: an alias must name one "
                    "candidate (use the full name or the accounts instead)",
                    entry=cand.id, field_name="aliases",
                )


def _parse_legacy(path: Path, raw: dict[str, Any]) -> tuple[Candidate, ...]:
    duplicates = getattr(raw, "duplicates", [])
    if duplicates:
        raise RegistryError(path, "duplicate id", entry=duplicates[0], field_name="id")
    out = []
    for cid, entry in raw.items():
        for key in ("name", "group", "party", "status", "twitter_account", "image"):
            if key not in entry:
                raise RegistryError(path, "missing field", entry=cid, field_name=key)
        if not ID_RE.match(cid):
            raise RegistryError(
                path,
                "id must be lower-case letters, digits, '-' or '_'",
                entry=cid,
                field_name="id",
            )
        out.append(
            Candidate(
                id=cid,
                name=_require_str(path, cid, entry, "name"),
                group=_require_str(path, cid, entry, "group"),
                party=_require_str(path, cid, entry, "party"),
                status=_status(path, cid, entry),
                person_accounts=_handles(path, cid, entry["twitter_account"], "twitter_account"),
                image=_optional_str(path, cid, entry, "image"),
                surname=None,
            )
        )
    return tuple(out)


def _require_str(path: Path, cid: str, entry: dict[str, Any], key: str) -> str:
    if key not in entry:
        raise RegistryError(path, "missing field", entry=cid, field_name=key)
    value = entry[key]
    if not isinstance(value, str):
        raise RegistryError(
            path, f"must be a string, got {type(value).__name__}", entry=cid, field_name=key
        )
    if not value.strip():
        raise RegistryError(path, "must not be empty", entry=cid, field_name=key)
    return value.strip()


def _optional_str(path: Path, cid: str, entry: dict[str, Any], key: str) -> str | None:
    value = entry.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RegistryError(
            path, f"must be a string, got {type(value).__name__}", entry=cid, field_name=key
        )
    return value.strip()


def _status(path: Path, cid: str, entry: dict[str, Any]) -> int:
    if "status" not in entry:
        raise RegistryError(path, "missing field", entry=cid, field_name="status")
    value = entry["status"]
    if isinstance(value, bool) or not isinstance(value, int) or value not in STATUSES:
        allowed = ", ".join(f"{k} ({v})" for k, v in STATUSES.items())
        raise RegistryError(
            path,
            f"unknown status {value!r}; expected one of {allowed}",
            entry=cid,
            field_name="status",
        )
    return value


def _handles(path: Path, cid: str, value: Any, key: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise RegistryError(path, "must be a list of X handles", entry=cid, field_name=key)
    out = []
    for handle in value:
        bare = handle[1:] if isinstance(handle, str) and handle.startswith("@") else handle
        if not isinstance(bare, str) or not HANDLE_RE.match(bare):
            raise RegistryError(
                path,
                f"{handle!r} is not a valid X handle (1-15 letters, digits or '_')",
                entry=cid,
                field_name=key,
            )
        out.append(bare)
    return tuple(out)


def _bluesky(path: Path, cid: str, entry: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """The optional ``bluesky: {person: [...], party: [...]}`` handles of an entry."""
    value = entry.get("bluesky")
    if value is None:
        return {}
    if not isinstance(value, dict) or set(value) - {"person", "party"}:
        raise RegistryError(
            path, "must be an object {person: [...], party: [...]}", entry=cid,
            field_name="bluesky",
        )
    return {
        "bluesky_person": _bsky_handles(path, cid, value.get("person", []), "bluesky.person"),
        "bluesky_party": _bsky_handles(path, cid, value.get("party", []), "bluesky.party"),
    }


def _bsky_handles(path: Path, cid: str, value: Any, key: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise RegistryError(path, "must be a list of Bluesky handles", entry=cid, field_name=key)
    out: list[str] = []
    for handle in value:
        bare = handle.removeprefix("@").lower() if isinstance(handle, str) else handle
        if not isinstance(bare, str) or not BSKY_HANDLE_RE.match(bare):
            raise RegistryError(
                path,
                f"{handle!r} is not a valid Bluesky handle (a domain name such as "
                "name.bsky.social)",
                entry=cid,
                field_name=key,
            )
        if bare not in out:
            out.append(bare)
    return tuple(out)


def _wikipedia(path: Path, cid: str, entry: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """The optional ``wikipedia: {lang: title}`` of an entry: each title in Wikipedia's own
    form (``core.wiki.titles.title_problem`` says what is refused and why)."""
    from elex_assets.core.wiki.titles import LANG_RE, title_problem

    value = entry.get("wikipedia")
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise RegistryError(path, 'must be an object {"fr": "Article_title", "en": ...}',
                            entry=cid, field_name="wikipedia")
    out = []
    for lang, title in value.items():
        key = f"wikipedia.{lang}"
        if not isinstance(lang, str) or not LANG_RE.match(lang):
            raise RegistryError(path, f"{lang!r} is not a Wikipedia language code (fr, en, ...)",
                                entry=cid, field_name=key)
        if title is None:
            continue  # no article in that language
        if not isinstance(title, str):
            raise RegistryError(path, f"must be a string, got {type(title).__name__}",
                                entry=cid, field_name=key)
        problem = title_problem(title)
        if problem:
            raise RegistryError(path, problem, entry=cid, field_name=key)
        out.append((lang, title))
    return tuple(out)


def _check_shared_titles(path: Path, candidates: list[Candidate]) -> None:
    """One article for two candidates would give both the same attention series."""
    owner: dict[tuple[str, str], str] = {}
    for cand in candidates:
        for lang, title in cand.wikipedia:
            other = owner.setdefault((lang, title), cand.id)
            if other != cand.id:
                raise RegistryError(
                    path, f"{title!r} is also the {lang} article of {other!r}",
                    entry=cand.id, field_name=f"wikipedia.{lang}",
                )


def registry_summary(candidates: Iterable[Candidate]) -> list[dict[str, Any]]:
    return [c.to_dict() for c in candidates]
