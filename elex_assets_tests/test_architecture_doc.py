"""docs/architecture.md names every asset, schedule and sensor the definitions hold."""

from __future__ import annotations

import re
from pathlib import Path

import dagster as dg

DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"


def _row(doc: str, name: str) -> str:
    rows = [line for line in doc.splitlines() if line.startswith(f"| `{name}` |")]
    assert rows, f"docs/architecture.md has no row for {name}"
    return rows[0]


def test_every_schedule_and_sensor_with_its_cron_and_default_status() -> None:
    from elex_assets.definitions import get_defs

    defs = get_defs()

    doc = DOC.read_text()
    for schedule in defs.schedules or []:
        row = _row(doc, schedule.name)
        assert f"`{schedule.cron_schedule}`" in row, schedule.name
        # Bluesky's and Wikipedia's statuses follow their configuration
        if not schedule.name.startswith(("bsky_", "wiki_")):
            status = schedule.default_status == dg.DefaultScheduleStatus.RUNNING
            assert ("| running |" if status else "| stopped |") in row, schedule.name
    for sensor in defs.sensors or []:
        row = _row(doc, sensor.name)
        status = sensor.default_status == dg.DefaultSensorStatus.RUNNING
        assert ("| running |" if status else "| stopped |") in row, sensor.name


def test_every_asset_is_in_the_graph() -> None:
    from elex_assets.definitions import get_defs

    defs = get_defs()

    doc = DOC.read_text()
    for spec in defs.resolve_all_asset_specs():
        name = spec.key.to_user_string()
        generic = "kaggle_trends_<kind>" if name.startswith("kaggle_trends_") else name
        assert re.search(rf"(?<![\w<]){re.escape(generic)}(?![\w>])", doc), name


def test_the_layout_names_every_package_and_only_real_paths() -> None:
    """docs/architecture.md, "How the code is laid out" (it was the README's until issue 26)."""
    block = DOC.read_text().split("## How the code is laid out", 1)[1].split("```")[1]
    root = DOC.parents[1]
    named = set(re.findall(r"(elex_assets/[\w/{},.]*)", block))
    expanded: set[str] = set()
    for path in named:
        if "{" in path:
            head, rest = path.split("{", 1)
            options, tail = rest.split("}", 1)
            expanded.update(f"{head}{o}{tail}" for o in options.split(","))
        elif "*" not in path:
            expanded.add(path)
    for path in expanded:
        assert (root / path).exists(), f"the layout names {path}, which does not exist"
    packages = {
        str(p.parent.relative_to(root)) + "/"
        for p in (root / "elex_assets").rglob("__init__.py")
        if p.parent.name not in ("elex_assets", "sandbox")
    }
    # a package is named itself or through its parent's line (x/, trends/ ... under defs/)
    for package in packages:
        parent = package.rsplit("/", 2)[0] + "/"
        leaf = package.rsplit("/", 2)[1] + "/"
        assert package in expanded or (parent in expanded and leaf in block), (
            f"the layout does not name {package}")
