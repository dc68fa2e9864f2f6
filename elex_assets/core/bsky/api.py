"""What elex's Bluesky code shares without the atproto SDK: limits, retry policy, errors, a page.

Split from :mod:`elex_assets.core.bsky.client` so that the assets, the resource and
the collector can name these without importing atproto (over two seconds): only a
run that talks to Bluesky builds a :class:`~elex_assets.core.bsky.client.BskyClient`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Protocol

from elex_assets.core.retrying import RetryPolicy

DEFAULT_BASE_URL = "https://bsky.social"
PAGE_LIMIT = 100  # searchPosts' maximum
GET_POSTS_LIMIT = 25  # getPosts' maximum
SANDBOX_HANDLE = "sandbox.bsky.social"
SANDBOX_APP_PASSWORD = "sand-box0-test-pass"  # what the sandbox accepts; not a secret
class BskyError(RuntimeError):
    """Bluesky refused or kept failing; the message says what to do."""

    transient = False


class BskyAuthError(BskyError):
    """The handle / app password were refused, or are missing."""


class BskyRetriesExhausted(BskyError):
    """Rate limits, server or network errors persisted past the retry bounds."""

    transient = True


class BskyRateLimited(BskyRetriesExhausted):
    """A 429 whose reset is further away than a run waits; ``reset_at`` is epoch seconds.
    Final: a cool-down until the reset is written, so no run asks again before it."""

    transient = False

    def __init__(self, message: str, reset_at: float) -> None:
        super().__init__(message)
        self.reset_at = reset_at


class BskyAnswerMismatch(BskyError):
    """An answer that is not the answer to its request (getPosts naming posts not asked):
    deterministic, never retried, and nothing of it is used."""


class BskyLoginCoolDown(BskyRateLimited):
    """No login before ``reset_at``: Bluesky refused one (429) or the day's login budget is
    spent. Asking again before then only spends the account's 10 logins a day."""


class BskyLoginRateLimited(BskyLoginCoolDown):
    """createSession answered 429: the account's logins (10 a day) are used up."""


class BskyLoginBudgetExhausted(BskyLoginCoolDown):
    """elex's own bound on logins a day (``BSKY_MAX_LOGINS_PER_DAY``) is reached."""


LOGIN_LIMIT = 10  # createSession per account and rolling day: ratelimit-policy 10;w=86400
LOGIN_WINDOW = 86_400.0


class SessionStore(Protocol):
    def load(self) -> str | None: ...

    def save(self, session: str) -> None: ...


BSKY_RETRY = RetryPolicy(
    "Bluesky", max_attempts=6, backoff_base=2.0, backoff_max=120.0, max_rate_limit_wait=900.0,
    missing_reset_wait=60.0, reset_header="ratelimit-reset",
)


@dataclass(frozen=True)
class BskyPolicy:
    """Bounds of the retry layer; tests shrink the waits."""

    max_attempts: int = BSKY_RETRY.max_attempts
    backoff_base: float = BSKY_RETRY.backoff_base
    backoff_max: float = BSKY_RETRY.backoff_max
    max_rate_limit_wait: float = BSKY_RETRY.max_rate_limit_wait
    timeout: float = 30.0

    @property
    def retry(self) -> RetryPolicy:
        """The Bluesky retry policy with these bounds."""
        return replace(BSKY_RETRY, max_attempts=self.max_attempts,
                       backoff_base=self.backoff_base, backoff_max=self.backoff_max,
                       max_rate_limit_wait=self.max_rate_limit_wait)


@dataclass
class SearchPage:
    """One searchPosts answer: the bytes as returned and what collection needs from them."""

    raw: bytes
    posts: list[dict[str, Any]]
    cursor: str | None
    hits_total: int | None
