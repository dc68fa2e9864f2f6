"""The cause of the random "undefined DagsterInstance weakref" failures, reproduced.

An object that entered an instance and is closed late (a Dagster context built without
``with``, finalised by the garbage collector, maybe during a later test) resets Dagster's
current definitions-state storage to the value of its time: the storage of an instance
that is gone. The suite's ``_no_stale_defs_state_storage`` fixture keeps
such a storage from reaching the next definitions load.
"""

from __future__ import annotations

import gc

import dagster as dg
from dagster._core.storage.defs_state.base import DefsStateStorage


def _leave_a_stale_storage() -> None:
    """Two instances entered in turn, the inner one left open (as a context built without
    ``with`` leaves it) and closed only after the outer one is gone."""
    with dg.instance_for_test() as outer:
        inner = dg.DagsterInstance.from_ref(outer.get_ref())
        inner.__enter__()  # sets the current storage; its token remembers the outer's
    del outer
    gc.collect()  # the outer instance is gone
    inner.__exit__(None, None, None)  # late: the storage is reset to the outer one's


def test_a_context_finalised_late_leaves_no_stale_storage_behind() -> None:
    @dg.asset
    def one() -> int:
        return 1

    _leave_a_stale_storage()
    storage = DefsStateStorage.get()
    assert storage is None or storage._instance_weakref() is not None
    # loading definitions (what failed at random) works
    assert dg.Definitions(assets=[one]).resolve_asset_graph().get(dg.AssetKey("one"))
