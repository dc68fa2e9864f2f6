"""Loading the definitions imports none of the heavy libraries a run may not use.

Every run starts by importing ``elex_assets.definitions``; pytrends (and its
pandas), matplotlib, atproto, nbclient, requests and tweepy cost time and are imported by the
code that uses them, when it runs. Checked in a fresh interpreter, since this
test process has imported them already. (``bench/import_time.py`` prints the
time it takes.)
"""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("pytrends", "pandas", "matplotlib", "atproto", "nbclient", "requests", "tweepy")


def test_definitions_import_no_heavy_library() -> None:
    code = (
        "import sys, elex_assets.definitions as d; d.get_defs()\n"
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.split() == []


def test_pytrends_base_url_is_the_one_the_trends_client_rewrites() -> None:
    """The client states pytrends' URL prefix instead of importing pytrends at load."""
    from pytrends.request import BASE_TRENDS_URL

    from elex_assets.core.trends.client import GOOGLE_PREFIX

    assert GOOGLE_PREFIX == BASE_TRENDS_URL
