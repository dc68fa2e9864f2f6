import json
from pathlib import Path

import dagster as dg

from elex_assets.defs.registry import candidates
from elex_assets.resources import LakeResource, RegistryResource

FIXTURES = Path(__file__).parents[1] / "fixtures"


def test_candidates_asset_snapshots_the_registry(tmp_path: Path) -> None:
    lake_dir = tmp_path / "lake"
    result = dg.materialize(
        [candidates],
        resources={
            "lake": LakeResource(url=str(lake_dir)),
            "registry": RegistryResource(
                election="2022", candidates_file=str(FIXTURES / "legacy_candidates_2022.json")
            ),
        },
    )
    assert result.success
    snapshot = json.loads((lake_dir / "registry/election=2022/candidates.json").read_text())
    assert snapshot["legacy_format"] is True
    assert len(snapshot["candidates"]) == 33
    meta = result.asset_materializations_for_node("candidates")[0].metadata
    assert meta["collected"].value == 16  # status >= 0


def test_definitions_load_and_validate(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ELEX_LAKE_URL", str(tmp_path))
    from elex_assets.definitions import build_defs
    from elex_assets.settings import load_settings

    defs = build_defs(load_settings())  # built now, from this environment
    assert defs.resolve_asset_graph().get_all_asset_keys() >= {dg.AssetKey("candidates")}
    dg.Definitions.validate_loadable(defs)
