"""The UI opens on the asset graph: every instance file turns Dagster's first-visit modal off."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from elex_assets import PROJECT_DIR


@pytest.mark.parametrize("path", ["dagster.yaml", "deploy/dagster.yaml", "deploy/ecs/dagster.yaml"])
def test_instance_file_turns_the_community_modal_off(path: str) -> None:
    config = yaml.safe_load((PROJECT_DIR / path).read_text())
    assert config.get("nux") == {"enabled": False}, f"{path} lacks nux: enabled: false"


def test_the_demo_instance_does_not_show_the_modal(tmp_path: Path) -> None:
    """The instance `elex demo` / `elex ui` create (their DAGSTER_HOME) reports no modal."""
    import dagster as dg

    from elex_assets.cli.demo import prepare_instance_home
    from elex_assets.settings import scoped_env

    with scoped_env({"DAGSTER_HOME": str(tmp_path)}):
        prepare_instance_home(tmp_path)
        with dg.DagsterInstance.get() as instance:
            assert instance.nux_enabled is False
