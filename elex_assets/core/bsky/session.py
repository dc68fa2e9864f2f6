"""Bluesky sessions kept between runs, so a 5-minute schedule does not log in 288 times a day.

Bluesky limits ``createSession`` to 30 per 5 minutes and 300 per day for a handle;
each run of the schedule is a new process. The session (access and refresh
tokens) is therefore kept in the lake, encrypted (Fernet) with a key derived from
the app password and the handle (scrypt): whoever can read the lake without
holding the app password cannot use it, and whoever holds the password could log
in anyway. A session that no longer works is replaced by a new login.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

from elex_assets.core.lake import Lake

PREFIX = "state/bsky_session"


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
        name = hashlib.sha256(f"{self.base_url}|{self.handle}".encode()).hexdigest()[:20]
        return f"{PREFIX}/{name}.bin"

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
