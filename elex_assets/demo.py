"""The README's first command: the whole pipeline, offline, on the embedded default.

It uses a project-local Dagster instance (``.dagster_home``, sqlite), a local
lake folder (``data/lake``) and the sandbox APIs, so every run it launches is
visible afterwards in ``make ui``.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from elex_assets import PROJECT_DIR

DAGSTER_HOME = PROJECT_DIR / ".dagster_home"


def prepare_instance_home(home: Path = DAGSTER_HOME) -> Path:
    """Create the project-local DAGSTER_HOME with the top-level dagster.yaml."""
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PROJECT_DIR / "dagster.yaml", home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def run_demo(days: int = 7) -> int:
    started = time.monotonic()
    prepare_instance_home()
    from elex_assets.sandbox.x_demo import run_x_step, start_demo_x_sandbox

    x_sandbox = start_demo_x_sandbox()
    # Imported after the environment is set: definitions read it at import time.
    import dagster as dg

    from elex_assets.definitions import defs, settings

    instance = dg.DagsterInstance.get()
    print(
        f"elex demo: election {settings.election}, lake {settings.lake_url}, "
        f"instance {os.environ['DAGSTER_HOME']}"
    )
    result = defs.get_job_def("registry_job").execute_in_process(instance=instance)
    if not result.success:
        print("registry_job failed")
        return 1
    meta = result.asset_materializations_for_node("candidates")[0].metadata
    print(
        f"candidates: {meta['candidates'].value} in the registry, "
        f"{meta['collected'].value} collected -> {meta['path'].value}"
    )
    print(f"X sandbox: {x_sandbox.base_url} (full-archive search)")
    ok, _ = run_x_step(defs, instance, days, settings.lake_url)
    x_sandbox.stop()
    if not ok:
        return 1
    from elex_assets.checks.summary import run_demo_checks

    checks_ok = run_demo_checks(instance, defs)
    from elex_assets.core.lake import Lake
    from elex_assets.definitions import election
    from elex_assets.kaggle_demo import run_kaggle_step

    if not run_kaggle_step(defs, instance, Lake.from_url(settings.lake_url), election):
        return 1
    print(f"done in {time.monotonic() - started:.1f}s; see the runs with `make ui`.")
    if not checks_ok:
        return 1
    return 0
