"""A one-paragraph verdict of the asset checks, for the demo and the CLI."""

from __future__ import annotations

import dagster as dg

RECENT = 50  # evaluations read per check


def checks_summary(instance: dg.DagsterInstance, defs: dg.Definitions) -> tuple[bool, str]:
    """Whether every check's latest evaluation (per partition) passed, and a readable summary."""
    graph = defs.resolve_asset_graph()
    keys = sorted(graph.asset_check_keys, key=str)
    if not keys:
        return True, "checks: none defined (no collecting asset in the Definitions)"
    passed = 0
    failed: list[str] = []
    never = 0
    for key in keys:
        latest: dict[str | None, dg.AssetCheckEvaluation] = {}
        for record in instance.event_log_storage.get_asset_check_execution_history(
            key, limit=RECENT
        ):
            entry = record.event
            data = (
                entry.dagster_event.event_specific_data if entry and entry.dagster_event else None
            )
            if isinstance(data, dg.AssetCheckEvaluation):
                latest.setdefault(record.partition, data)
        if not latest:
            never += 1
        for partition, evaluation in latest.items():
            if evaluation.passed:
                passed += 1
            else:
                where = (
                    f"{key.asset_key.to_user_string()}[{partition}]"
                    if partition
                    else (key.asset_key.to_user_string())
                )
                failed.append(f"{where} {key.name}: {evaluation.description}")
    text = f"checks: {passed} passed, {len(failed)} failed, {never} not run yet"
    if failed:
        text += "".join(f"\n  FAILED {line}" for line in failed)
    return not failed, text
