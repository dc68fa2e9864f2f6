"""MkDocs hook: the configuration page's tables come from the settings models.

``docs/configuration.md`` holds a marker; this hook replaces it with
``elex_assets.settings.reference.reference_markdown()`` at build time, so the page
cannot drift from the code (a missing marker fails the build).
"""

from __future__ import annotations

from typing import Any


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    if page.file.src_uri != "configuration.md":
        return markdown
    from elex_assets.settings.reference import render_page

    return render_page(markdown)
