"""The demo's last step: export the landed weeks and assemble the Kaggle dataset folder.

The demo collects a short window of days, so its weeks are usually incomplete:
they are exported forced (the missing days are recorded in the metadata and in
the description), which a production deployment would not do by itself.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import dagster as dg

from elex_assets.assets.kaggle import FORCE_TAG
from elex_assets.core.elections import Election
from elex_assets.core.export import SOURCES, day_landed, iso_week_days, iso_week_of
from elex_assets.core.lake import Lake
from elex_assets.core.layout import KAGGLE


def landed_weeks(lake: Lake, source: str, election: Election, today: date) -> list[date]:
    """Mondays of the ended weeks holding at least one landed day of ``source``."""
    mondays = set()
    day = election.campaign_start
    last = min(today - timedelta(days=1), election.campaign_end)
    while day <= last:
        if day_landed(lake, source, day):
            mondays.add(iso_week_days(*iso_week_of(day))[0])
        day += timedelta(days=1)
    return sorted(m for m in mondays if m + timedelta(days=7) <= today)


def run_kaggle_step(
    defs: dg.Definitions, instance: dg.DagsterInstance, lake: Lake, election: Election
) -> bool:
    today = datetime.now(UTC).date()
    job = defs.resolve_implicit_global_asset_job_def()
    for source in SOURCES:
        for monday in landed_weeks(lake, source, election, today):
            result = job.execute_in_process(
                instance=instance,
                asset_selection=[dg.AssetKey(f"kaggle_{source}")],
                partition_key=monday.isoformat(),
                tags={FORCE_TAG: "true"},
                raise_on_error=False,
            )
            if not result.success:
                print(f"kaggle_{source} {monday}: export failed")
                return False
            meta = result.asset_materializations_for_node(f"kaggle_{source}")[0].metadata
            missing = meta["missing_days"].value
            print(
                f"kaggle_{source} {meta['iso_week'].value}: {meta['rows'].value} rows"
                + (f" (incomplete: {len(missing)} day(s) missing)" if missing else "")
            )
    result = job.execute_in_process(
        instance=instance, asset_selection=[dg.AssetKey("kaggle_dataset")], raise_on_error=False
    )
    if not result.success:
        print("kaggle_dataset failed")
        return False
    meta = result.asset_materializations_for_node("kaggle_dataset")[0].metadata
    where = lake.uri(f"{KAGGLE}/")
    print(
        f"Kaggle dataset folder: {where} - {meta['files'].value} weekly file(s), "
        f"{meta['weeks'].value} export(s), dataset-metadata.json and chart(s) "
        + ", ".join(k for k in meta if k.startswith("chart_"))
    )
    state = "published" if meta["published"].value else "not published"
    print(f"Kaggle: {state} ({meta['publication'].value})")
    return True
