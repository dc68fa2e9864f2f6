"""What elex's pageviews code shares: the endpoint, the retry policy, the errors.

Facts from the real service (``elex_assets_tests/recordings/wikimedia``, README there):
``GET {base}/metrics/pageviews/per-article/{project}/{access}/{agent}/{title}/daily/
{start}/{end}`` (both ends inclusive, ``YYYYMMDDHH``); items carry ``timestamp``
``YYYYMMDD00``; a 404 ``application/problem+json`` means "no data" (unknown title,
zero views, a day not loaded yet, before 2015-07-01); a 429 is plain text with
``Retry-After``; a 403 (plain text) refuses a client without a descriptive User-Agent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from elex_assets.core.retrying import RetryPolicy

DEFAULT_BASE_URL = "https://wikimedia.org/api/rest_v1"
ROUTE = "/metrics/pageviews/per-article"
ACCESS = "all-access"
AGENT = "user"
GRANULARITY = "daily"
DATA_START = date(2015, 7, 1)  # the first day the Pageviews API holds
MAX_CONCURRENT = 3  # Wikimedia's global API limit since March 2026
TOOL = "elex"

WIKI_RETRY = RetryPolicy(
    "Wikimedia", max_attempts=5, backoff_base=2.0, backoff_max=60.0, max_rate_limit_wait=300.0,
    missing_reset_wait=30.0, reset_header="retry-after",
)


class WikimediaError(RuntimeError):
    """Wikimedia refused a request, or cannot be asked; the message says what to do.

    Final by default (``transient = False``, see ``core.retrying.is_deterministic``): asking
    again soon gets the same answer. Only exhausted retries of transient faults say otherwise.
    """

    transient = False


class WikimediaRefused(WikimediaError):
    """403: the client was refused (User-Agent policy); never retried."""


class WikimediaMismatch(WikimediaError):
    """An answer that is not about what was asked (project, article, granularity, agent, day)."""


class WikimediaRetriesExhausted(WikimediaError):
    """429s, server or network errors persisted past the retry bounds."""

    transient = True


class WikimediaRateLimited(WikimediaRetriesExhausted):
    """A 429 whose ``Retry-After`` is further away than a run waits: ask again later."""

    transient = False  # a run retry a minute later would meet the same 429


class WikimediaNotLoaded(WikimediaError):
    """Days Wikimedia has not loaded yet (a day lands hours to a day after it ends, UTC)."""

    def __init__(self, message: str, days: list[date]) -> None:
        super().__init__(message)
        self.days = days


def stamp(day: date) -> str:
    """A request's start or end: ``YYYYMMDD00`` (as the recorded clients send it)."""
    return f"{day:%Y%m%d}00"


@dataclass
class Answer:
    """One per-article answer: what was asked and the items (none for a 404)."""

    project: str
    article: str
    first: date
    last: date
    status: int
    items: list[dict] = field(default_factory=list)
    url: str = ""
