"""The ``candidates`` asset: a snapshot of the registry every collector reads."""

from __future__ import annotations

import json

import dagster as dg

from elex_assets.core.layout import registry_key
from elex_assets.core.registry import STATUSES
from elex_assets.failures import final_on_deterministic
from elex_assets.resources import LakeResource, RegistryResource


@dg.asset(
    group_name="registry",
    kinds={"json"},
    description="Candidates of the configured election with their accounts and search terms.",
)
@final_on_deterministic
def candidates(
    context: dg.AssetExecutionContext, registry: RegistryResource, lake: LakeResource
) -> dg.MaterializeResult:
    reg = registry.load()
    snapshot = {
        "election": reg.election.to_dict(),
        "source": reg.source,
        "legacy_format": reg.legacy,
        "candidates": [c.to_dict() for c in reg.candidates],
    }
    key = registry_key(reg.election.id)
    uri = lake.lake().write_bytes(
        key, (json.dumps(snapshot, ensure_ascii=False, indent=2) + "\n").encode()
    )
    rows = "\n".join(
        f"| {c.id} | {c.name} | {c.party} | {STATUSES[c.status]} | "
        f"{', '.join('@' + a for a in c.accounts) or '-'} |"
        for c in reg.candidates
    )
    table = "| id | name | party | status | accounts |\n|---|---|---|---|---|\n" + rows
    return dg.MaterializeResult(
        metadata={
            "election": reg.election.id,
            "candidates": len(reg),
            "collected": len(reg.selected()),
            "campaign_start": reg.election.campaign_start.isoformat(),
            "first_round": reg.election.first_round.isoformat(),
            "second_round": reg.election.second_round.isoformat(),
            "path": dg.MetadataValue.path(uri),
            "registry": dg.MetadataValue.md(table),
        }
    )
