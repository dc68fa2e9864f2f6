"""The cause of the random "undefined DagsterInstance weakref" failures, reproduced.

An object that entered a Dagster instance and is closed late (a context built without
``with``, finalised by the garbage collector during a later test) resets Dagster's
current definitions-state storage to the value of its time: the storage of an instance
disposed since. The suite runs each test body in its own copy of the context variables
(``_in_own_context`` in conftest), so what one test leaves open cannot reach another.
These two tests run in this order (one module runs whole on one worker).
"""

from __future__ import annotations

import dagster as dg

LEFT_OPEN: list[dg.DagsterInstance] = []


def test_an_instance_is_left_entered_after_its_owner_is_disposed() -> None:
    with dg.instance_for_test() as outer:
        inner = dg.DagsterInstance.from_ref(outer.get_ref())
        inner.__enter__()  # what a context built without ``with`` does; never exited here
    LEFT_OPEN.append(inner)


def test_a_later_test_loads_definitions_after_the_late_close() -> None:
    @dg.asset
    def one() -> int:
        return 1

    LEFT_OPEN.pop().__exit__(None, None, None)  # the late close, during this test
    # loading definitions reads the current storage (this is what failed at random)
    assert dg.Definitions(assets=[one]).resolve_asset_graph().get(dg.AssetKey("one"))
