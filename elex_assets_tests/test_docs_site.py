"""The README and the documentation site: short, linked, and generated where it can drift.

``make test`` builds the site with ``mkdocs build --strict`` (a broken link or a page
missing from the nav fails it); these tests keep what the build cannot see.
"""

from __future__ import annotations

import gc
import re

import yaml

from elex_assets import PROJECT_DIR
from elex_assets.settings.reference import (
    MARKER,
    models,
    reference_markdown,
    render_page,
    rows,
    undocumented,
)

DOCS = PROJECT_DIR / "docs"


def test_every_setting_has_a_description() -> None:
    """The configuration page is generated from the models: a field without a description
    would be a row without a meaning (the check the README's table had by hand)."""
    assert undocumented() == []


def test_the_configuration_page_lists_every_variable_with_its_default() -> None:
    page = render_page((DOCS / "configuration.md").read_text())
    assert MARKER not in page
    for model in models():
        for row in rows(model):
            for variable in row.variables:
                assert f"`{variable}`" in page, variable
    table = reference_markdown()
    assert "| `X_POSTS_PLAN` | `full` (every post)" in table
    assert "| `sample` (`full` on a loopback sandbox) |" in table
    assert "| `TRENDS_MIN_INTERVAL_SECONDS` | Minimum time between two Trends requests" in table
    assert "| `ELEX_LAKE_URL` | Lake root: a folder or `s3://bucket/prefix`. | `data/lake` in the project |" in table
    assert "**Secret**" in table.split("`X_BEARER_TOKEN`", 1)[1].split("\n", 1)[0]
    assert table.count("`ELEX_CANDIDATES_FILE`") == 1  # shared by two models, listed once


def test_a_new_field_appears_on_the_page() -> None:
    """No hand-kept table: a field added to a model is on the page at the next build."""
    from elex_assets.settings import EnvModel, var

    class WikiSettings(EnvModel):
        """Wikipedia pageviews."""

        base_url: str = var("WIKIMEDIA_BASE_URL_TEST", "https://wikimedia.org",
                            description="Wikimedia REST API host.")

    table = reference_markdown()
    assert "### Wikipedia pageviews" in table
    assert "| `WIKIMEDIA_BASE_URL_TEST` | Wikimedia REST API host. | `https://wikimedia.org` |" \
        in table
    del WikiSettings
    gc.collect()  # the class leaves EnvModel's subclasses
    assert "WIKIMEDIA_BASE_URL_TEST" not in reference_markdown()


def test_the_readme_is_short_and_its_links_resolve() -> None:
    readme = (PROJECT_DIR / "README.md").read_text()
    assert len(readme.splitlines()) <= 250
    assert "make demo" in readme and "make test" in readme and "elex doctor" in readme
    targets = re.findall(r"\]\(((?!https?://)[^)#]+)(?:#[^)]*)?\)", readme)
    assert targets
    for target in targets:
        assert (PROJECT_DIR / target).exists(), f"README links to {target}, which is missing"


def test_every_page_is_in_the_nav_and_changes_stay_out() -> None:
    config = yaml.safe_load((PROJECT_DIR / "mkdocs.yml").read_text())

    def pages(nav: list) -> list[str]:
        out = []
        for item in nav:
            for value in item.values():
                out += pages(value) if isinstance(value, list) else [value]
        return out

    listed = set(pages(config["nav"]))
    on_disk = {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")
               if p.relative_to(DOCS).parts[0] not in ("changes", "hooks")}
    assert listed == on_disk
    assert "changes/" in config["exclude_docs"]


def test_make_test_builds_the_site_strictly() -> None:
    """``--quiet`` hides warnings from ``--strict`` (a broken link then passes): never both."""
    makefile = (PROJECT_DIR / "Makefile").read_text()
    test_target = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    line = next(x for x in test_target.splitlines() if "mkdocs build" in x)
    assert "--strict" in line and "--quiet" not in line and " -q" not in line
