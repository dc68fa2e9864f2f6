"""The one place that assembles elex: assets, resources, jobs, schedules, sensors.

Resources are picked from the environment (see README, "Configuration"): the
same code runs the demo on a local folder and production on S3.
"""

from __future__ import annotations

import dagster as dg

from elex_assets.assets.archive import archive_assets
from elex_assets.assets.kaggle import (
    kaggle_automation_sensor,
    kaggle_dataset_asset,
    kaggle_export_assets,
)
from elex_assets.assets.registry import candidates
from elex_assets.core.registry import load_registry
from elex_assets.monitoring import with_monitoring
from elex_assets.resources import LakeResource, RegistryResource
from elex_assets.resources.kaggle import kaggle_resource_from_env
from elex_assets.settings import Settings

settings = Settings.from_env()

resources = {
    "lake": LakeResource(url=settings.lake_url),
    "registry": RegistryResource(
        election=settings.election, candidates_file=settings.candidates_file
    ),
    "kaggle": kaggle_resource_from_env(),
}

election = load_registry(settings.election, settings.candidates_file).election
kaggle_exports = kaggle_export_assets(election)
kaggle_assets = [*kaggle_exports, kaggle_dataset_asset(kaggle_exports)]

registry_job = dg.define_asset_job("registry_job", selection=[candidates])

defs = dg.Definitions(
    assets=[candidates, *archive_assets, *kaggle_assets],
    jobs=[registry_job],
    resources=resources,
    sensors=[kaggle_automation_sensor()],
)

# Freshness policies, checks and the alert sensor, on whichever collecting assets `defs` holds.
defs = with_monitoring(defs, election)
