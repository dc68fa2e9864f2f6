"""``start_sandboxes`` (``elex sandbox``, the demo) points every source at its sandbox."""

from __future__ import annotations

import os

from elex_assets.sandbox.serve import start_sandboxes
from elex_assets.settings import WikiSettings


def test_every_base_url_points_at_its_sandbox_wikimedia_included() -> None:
    saved = dict(os.environ)
    servers = start_sandboxes(demo=True)
    try:
        assert os.environ["WIKIMEDIA_BASE_URL"] == servers["wiki"].base_url
        assert os.environ["BSKY_BASE_URL"] == servers["bsky"].base_url
        wiki = WikiSettings.load()
        assert wiki.sandbox and wiki.base_url.endswith("/api/rest_v1")
    finally:
        for server in servers.values():
            server.stop()
        os.environ.clear()
        os.environ.update(saved)
