"""Deterministic "true" search volumes behind the sandbox Trends server.

Google only ever shows values scaled 0-100 within a request. The sandbox
derives them from known underlying volumes (a pure function of keyword, area
and time), so tests can check that elex's rescaling recovers the true ratios
between candidates.
"""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, date, datetime, timedelta

EIGHT_MINUTES = timedelta(minutes=8)

FR_REGIONS = (
    ("FR-ARA", "Auvergne-Rhône-Alpes"),
    ("FR-BFC", "Bourgogne-Franche-Comté"),
    ("FR-BRE", "Bretagne"),
    ("FR-CVL", "Centre-Val de Loire"),
    ("FR-20R", "Corse"),
    ("FR-GES", "Grand Est"),
    ("FR-HDF", "Hauts-de-France"),
    ("FR-IDF", "Île-de-France"),
    ("FR-NOR", "Normandie"),
    ("FR-NAQ", "Nouvelle-Aquitaine"),
    ("FR-OCC", "Occitanie"),
    ("FR-PDL", "Pays de la Loire"),
    ("FR-PAC", "Provence-Alpes-Côte d'Azur"),
)

COUNTRIES = (
    ("FR", "France"),
    ("BE", "Belgium"),
    ("CH", "Switzerland"),
    ("LU", "Luxembourg"),
    ("CA", "Canada"),
    ("MA", "Morocco"),
    ("DZ", "Algeria"),
    ("TN", "Tunisia"),
    ("SN", "Senegal"),
    ("CI", "Côte d'Ivoire"),
    ("DE", "Germany"),
    ("IT", "Italy"),
    ("ES", "Spain"),
    ("GB", "United Kingdom"),
    ("US", "United States"),
)

_QUERY_SUFFIXES = {
    "fr": ("sondage", "programme", "meeting", "âge", "twitter", "débat", "interview"),
    "world": ("poll", "age", "wife", "party", "news", "debate", "interview"),
}
_TOPICS = (
    ("Élection présidentielle", "Topic"),
    ("Sondage d'opinion", "Topic"),
    ("Assemblée nationale", "Legislature"),
    ("Premier ministre", "Government office"),
    ("Débat télévisé", "Topic"),
    ("Parti politique", "Topic"),
)
_RISING = ((None, "Breakout"), (350, "+350%"), (120, "+120%"), (40, "+40%"))


def _unit(*parts: object) -> float:
    """A stable pseudo-random number in [0, 1) from its inputs (no global state)."""
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


_POPULARITY: dict[str, float] = {}  # set by a bench or test: keyword -> weight, every area


def set_popularity(keyword: str, weight: float | None) -> None:
    """Fix a keyword's overall popularity (``None``: back to the derived one).

    Lets a bench place candidates at known fractions of the anchor (1/10, 1/100…).
    """
    if weight is None:
        _POPULARITY.pop(keyword.casefold(), None)
    elif weight <= 0:
        raise ValueError(f"popularity of {keyword!r} must be positive, not {weight}")
    else:
        _POPULARITY[keyword.casefold()] = float(weight)


def keyword_weight(keyword: str, area: str) -> float:
    """How popular a keyword is in an area overall (relative units, 10 to 200 if not set)."""
    fixed = _POPULARITY.get(keyword.casefold())
    if fixed is not None:
        return fixed
    return 10.0 + 190.0 * _unit("weight", keyword.casefold(), area)


def volume(keyword: str, area: str, start: datetime) -> float:
    """True search volume of one 8-minute slot starting at ``start`` (UTC)."""
    day_factor = 0.5 + _unit("day", keyword.casefold(), area, start.date())
    hour = start.hour + start.minute / 60
    daily_shape = 1.2 + math.sin((hour - 9) / 24 * 2 * math.pi)
    noise = 0.8 + 0.4 * _unit("slot", keyword.casefold(), area, start.isoformat())
    return keyword_weight(keyword, area) * day_factor * daily_shape * noise


def slots(start: datetime, end: datetime) -> list[datetime]:
    """Start of every 8-minute slot in ``[start, end)``."""
    out, t = [], start
    while t < end:
        out.append(t)
        t += EIGHT_MINUTES
    return out


def day_volume(keyword: str, area: str, day: date) -> float:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return sum(volume(keyword, area, t) for t in slots(start, start + timedelta(days=1)))


def window_volume(keyword: str, area: str, start: datetime, end: datetime) -> float:
    """True volume over a window (what interest by region and related lists describe)."""
    return sum(volume(keyword, area, t) for t in slots(start, end))


def geo_list(area: str) -> tuple[tuple[str, str], ...]:
    return FR_REGIONS if area == "fr" else COUNTRIES


def geo_weight(keyword: str, area: str, geo_code: str) -> float:
    """Share of a keyword's searches in a region, relative to the region's size."""
    return 0.05 + _unit("geo", keyword.casefold(), area, geo_code)


def related_queries(keyword: str, area: str, day: date) -> tuple[list[dict], list[dict]]:
    """Top and rising related queries, in Google's ``rankedKeyword`` item shape."""
    suffixes = _QUERY_SUFFIXES[area]
    order = sorted(suffixes, key=lambda s: _unit("q", keyword, area, day, s))
    base = keyword.casefold()
    top = []
    for i, suffix in enumerate(order[:5]):
        value = 100 if i == 0 else max(1, int(100 * (0.85 - 0.15 * i)))
        query = f"{base} {suffix}"
        top.append(
            {
                "query": query,
                "value": value,
                "formattedValue": str(value),
                "hasData": True,
                "link": f"/trends/explore?q={query.replace(' ', '+')}&date=now+1-d",
            }
        )
    rising = [_rising(f"{base} {suffix}", i) for i, suffix in enumerate(order[5:])]
    for item in rising:
        item["query"] = item.pop("title")
    return top, rising


def related_topics(keyword: str, area: str, day: date) -> tuple[list[dict], list[dict]]:
    """Top and rising related topics, in Google's ``rankedKeyword`` item shape."""
    order = sorted(_TOPICS, key=lambda t: _unit("t", keyword, area, day, t[0]))
    top = []
    for i, (title, kind) in enumerate(order[:4]):
        value = 100 if i == 0 else max(1, int(100 * (0.7 - 0.15 * i)))
        top.append(
            {
                "topic": {"mid": _mid(title), "title": title, "type": kind},
                "value": value,
                "formattedValue": str(value),
                "hasData": True,
                "link": f"/trends/explore?q={_mid(title)}&date=now+1-d",
            }
        )
    rising = []
    for i, (title, kind) in enumerate(order[4:]):
        item = _rising(title, i)
        item.pop("title")
        item["topic"] = {"mid": _mid(title), "title": title, "type": kind}
        rising.append(item)
    return top, rising


def _rising(title: str, i: int) -> dict:
    value, formatted = _RISING[i % len(_RISING)]
    return {
        "title": title,
        "value": 5000 + int(1000 * _unit("b", title)) if value is None else value,
        "formattedValue": formatted,
        "link": f"/trends/explore?q={title.replace(' ', '+')}&date=now+1-d",
    }


def _mid(title: str) -> str:
    return "/m/0" + hashlib.sha1(title.encode()).hexdigest()[:6]
