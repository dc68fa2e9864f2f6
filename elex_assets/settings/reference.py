"""The configuration reference, generated from the settings models so it cannot drift.

The docs site's configuration page (``docs/configuration.md``) holds a marker that the
MkDocs hook ``docs/hooks/configuration.py`` replaces with ``reference_markdown()``: one
table per domain, each row a variable, its meaning (the field's ``description``) and its
default. Nothing here reads the environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import AliasChoices

from elex_assets import PROJECT_DIR
from elex_assets.settings import DOMAINS, EnvModel, core, kaggle, monitoring
from elex_assets.settings.bsky import BskySettings
from elex_assets.settings.trends import TrendsSettings
from elex_assets.settings.x import XSettings

MARKER = "<!-- settings-reference -->"

# The heading of each domain's table; a model not named here is headed by its docstring.
TITLES: dict[type[EnvModel], str] = {
    core.Settings: "Election, registry and lake",
    core.AwsSettings: "S3 (AWS)",
    XSettings: "X",
    TrendsSettings: "Google Trends",
    BskySettings: "Bluesky",
    core.LeaseSettings: "Leases (one writer per partition)",
    kaggle.KaggleSettings: "Kaggle",
    monitoring.AlertsSettings: "Alerts",
    monitoring.ThresholdSettings: "Monitoring thresholds",
    core.ArchiveSettings: "Archive import",
    core.SandboxSettings: "Sandboxes and the demo",
}


@dataclass(frozen=True)
class Row:
    variables: tuple[str, ...]
    meaning: str
    default: str


def models() -> list[type[EnvModel]]:
    """Every settings model: the loaded domains first, then any other concrete one."""
    found: list[type[EnvModel]] = list(DOMAINS)
    stack = list(EnvModel.__subclasses__())
    while stack:
        cls = stack.pop(0)
        stack += cls.__subclasses__()
        if not cls.__name__.startswith("_") and cls not in found:
            found.append(cls)
    return found


def variables(model: type[EnvModel], field: str) -> tuple[str, ...]:
    alias = model.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        return tuple(str(a) for a in alias.choices)
    return (model.env_name(field),)


def shown_default(model: type[EnvModel], field: str) -> str:
    info = model.model_fields[field]
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    if extra.get("shown_default"):
        return str(extra["shown_default"])
    return _show(info.default)


def _show(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, tuple | list):
        return f"`{','.join(map(str, value))}`" if value else "empty"
    if isinstance(value, float):
        return f"`{value:g}`"
    if isinstance(value, Path | str) and Path(str(value)).is_absolute():
        path = Path(str(value))
        if path.is_relative_to(PROJECT_DIR):
            return f"`{path.relative_to(PROJECT_DIR)}` in the project"
    return f"`{value}`"


def rows(model: type[EnvModel]) -> list[Row]:
    return [Row(variables(model, f), (model.model_fields[f].description or "").strip(),
                shown_default(model, f)) for f in model.model_fields]


def undocumented() -> list[str]:
    """Variables whose field has no description (a test keeps this empty)."""
    return [v for m in models() for r in rows(m) if not r.meaning for v in r.variables]


def title(model: type[EnvModel]) -> str:
    if model in TITLES:
        return TITLES[model]
    return (model.__doc__ or model.__name__).strip().splitlines()[0].rstrip(".")


def reference_markdown() -> str:
    """One table per domain; a variable two domains share is listed once, where first read."""
    seen: set[str] = set()
    out: list[str] = []
    for model in models():
        table = [r for r in rows(model) if not seen.intersection(r.variables)]
        if not table:
            continue
        for r in table:
            seen.update(r.variables)
        out += [f"### {title(model)}", "", "| variable | meaning | default |", "|---|---|---|"]
        out += [
            "| {} | {} | {} |".format(", ".join(f"`{v}`" for v in r.variables),
                                      r.meaning.replace("|", "\\|"), r.default)
            for r in table
        ]
        out.append("")
    return "\n".join(out)


def render_page(markdown: str) -> str:
    """The configuration page with its marker replaced by the tables."""
    if MARKER not in markdown:
        raise ValueError(f"the configuration page lacks the marker {MARKER}")
    return markdown.replace(MARKER, reference_markdown())
