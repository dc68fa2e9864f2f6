"""Bluesky sessions kept between runs, so a 5-minute schedule does not log in 288 times a day.

Bluesky limits ``createSession`` to **10 a day per account** (``ratelimit-policy:
10;w=86400``, a rolling day; recorded 2025); each run of the schedule is a new
process. The session (access and refresh tokens) is therefore kept in the lake,
encrypted (Fernet) with a key derived from the app password and the handle (scrypt):
whoever can read the lake without holding the app password cannot use it, and
whoever holds the password could log in anyway. An expired access token is renewed
with the refresh token (``refreshSession``, not a login); only a session that no
longer works at all is replaced by a new login.

Every login attempt is counted in the lake (:class:`LoginLedger`, one per service and
handle): a run refuses to log in once ``BSKY_MAX_LOGINS_PER_DAY`` attempts fall in
the last 24 hours, and waits, named, until the oldest leaves the day.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable

from cryptography.fernet import Fernet, InvalidToken

from elex_assets.core.bsky.api import LOGIN_LIMIT, LOGIN_WINDOW, BskyLoginBudgetExhausted
from elex_assets.core.lake import Lake

PREFIX = "state/bsky_session"
LOGINS_PREFIX = "state/bsky_logins"
DEFAULT_MAX_LOGINS_PER_DAY = 8  # of Bluesky's 10: two left for a person to log in by hand


def _name(base_url: str, handle: str) -> str:
    return hashlib.sha256(f"{base_url.rstrip('/')}|{handle.lower()}".encode()).hexdigest()[:20]


class LakeSessionStore:
    """``load()`` / ``save()`` one handle's session string, encrypted, in the lake."""

    def __init__(self, lake: Lake, handle: str | None, app_password: str | None,
                 base_url: str = "") -> None:
        self.lake = lake
        self.handle = (handle or "").lower()
        self._password = app_password or ""
        self.base_url = base_url.rstrip("/")

    @property
    def key(self) -> str:
        """One session per service and handle (a sandbox's tokens never meet Bluesky's)."""
        return f"{PREFIX}/{_name(self.base_url, self.handle)}.bin"

    def _fernet(self) -> Fernet:
        raw = hashlib.scrypt(self._password.encode(), salt=b"elex-bsky:" + self.handle.encode(),
                             n=2**14, r=8, p=1, dklen=32)
        return Fernet(base64.urlsafe_b64encode(raw))

    def load(self) -> str | None:
        if not self.handle or not self._password or not self.lake.exists(self.key):
            return None
        try:
            return self._fernet().decrypt(self.lake.read_bytes(self.key)).decode()
        except (InvalidToken, ValueError):
            return None  # another password (rotated), or damaged: log in afresh

    def save(self, session: str) -> None:
        if self.handle and self._password:
            self.lake.write_bytes(self.key, self._fernet().encrypt(session.encode()))


class LoginLedger:
    """Login attempts of one handle on one service in the last day, kept in the lake."""

    def __init__(self, lake: Lake, handle: str, base_url: str = "",
                 budget: int = DEFAULT_MAX_LOGINS_PER_DAY,
                 clock: Callable[[], float] = time.time) -> None:
        if not 1 <= budget <= LOGIN_LIMIT:
            raise ValueError(f"BSKY_MAX_LOGINS_PER_DAY={budget}: expected 1 to {LOGIN_LIMIT} "
                             f"(Bluesky allows {LOGIN_LIMIT} logins a day per account)")
        self.lake, self.handle, self.budget, self.clock = lake, handle.lower(), budget, clock
        self.key = f"{LOGINS_PREFIX}/{_name(base_url, handle)}.json"

    def attempts(self) -> list[float]:
        """Epoch seconds of the attempts within the last day, oldest first."""
        if not self.lake.exists(self.key):
            return []
        now = self.clock()
        raw = json.loads(self.lake.read_bytes(self.key))
        return sorted(t for t in raw.get("attempts", []) if now - t < LOGIN_WINDOW)

    def check(self) -> None:
        """Refuse (:class:`BskyLoginBudgetExhausted`) when the day's budget is spent."""
        attempts = self.attempts()
        if len(attempts) >= self.budget:
            reset = attempts[-self.budget] + LOGIN_WINDOW
            raise BskyLoginBudgetExhausted(
                f"Bluesky login budget spent: {len(attempts)} logins of {self.handle} in the "
                f"last 24 hours (BSKY_MAX_LOGINS_PER_DAY={self.budget}; Bluesky allows "
                f"{LOGIN_LIMIT} a day per account). No login before "
                f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(reset))}; the stored "
                "session is used meanwhile when it works", reset)

    def record(self) -> int:
        """Count one attempt now; the attempts of the last day, this one included."""
        attempts = [*self.attempts(), self.clock()]
        self.lake.write_bytes(self.key, json.dumps({"handle": self.handle,
                                                    "attempts": attempts}).encode())
        return len(attempts)
