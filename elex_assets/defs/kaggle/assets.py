"""Kaggle assets: weekly exports per source, and the publishable dataset folder.

A week exports by itself once its seventh day has landed: ``eager()`` fires when
every daily input partition of the week exists and one was updated (``on_cron``
would never fire over inputs that landed before the tick). A week with a missing
day fails with the list of missing days unless forced (run config
``allow_incomplete: true`` or run tag ``elex/allow_incomplete_week=true``, e.g.
on a backfill); a forced week records its missing days in its manifest, the
dataset metadata and the description.
"""

import base64
import warnings

import dagster as dg

from elex_assets.core.elections import Election
from elex_assets.core.kaggle.dataset import assemble_dataset
from elex_assets.core.kaggle.export import (
    IncompleteWeekError,
    export_week,
)
from elex_assets.core.layout import KAGGLE, TRENDS_KINDS
from elex_assets.core.lease import LeaseHeld
from elex_assets.defs.kaggle.resources import KaggleResource
from elex_assets.failures import final_on_deterministic, stop_without_retry
from elex_assets.partitions import week_of, weekly_partitions
from elex_assets.resources import LakeResource

GROUP = "kaggle"
FORCE_TAG = "elex/allow_incomplete_week"


class KaggleExportConfig(dg.Config):
    allow_incomplete: bool = False  # export a week with missing days (recorded as missing)


def _forced(context: dg.AssetExecutionContext, config: KaggleExportConfig) -> bool:
    tag = context.run.tags.get(FORCE_TAG, "") if context.run else ""
    return config.allow_incomplete or tag.strip().lower() in ("1", "true", "yes")


def _weekly_export_asset(
    election: Election, source: str, upstream: str, multi: bool
) -> dg.AssetsDefinition:
    mapping: dg.PartitionMapping
    # Both mappings are beta in Dagster 1.13 (checked in its source); their warnings are muted.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        if multi:
            # Weekly <- (area x date): the week's days through a time-window mapping, all areas.
            mapping = dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name="date")
        else:
            # The first week starts before the campaign: its days before the start do not exist.
            mapping = dg.TimeWindowPartitionMapping(allow_nonexistent_upstream_partitions=True)

    @dg.asset(
        name=f"kaggle_{source}",
        group_name=GROUP,
        kinds={"csv", "kaggle"},
        partitions_def=weekly_partitions(election),
        deps=[dg.AssetDep(upstream, partition_mapping=mapping)],
        automation_condition=dg.AutomationCondition.eager(),
        description=(
            f"{source} of one ISO week as kaggle/{election.id}/{source}/<YYYY>_<WW>.csv.gz "
            "(all days, every area), for the Kaggle dataset."
        ),
    )
    @final_on_deterministic
    def _export(
        context: dg.AssetExecutionContext,
        config: KaggleExportConfig,
        lake: LakeResource,
        kaggle: KaggleResource,
    ) -> dg.MaterializeResult:
        iso_year, iso_week = week_of(context.partition_key)
        the_lake = lake.lake()
        try:
            # One writer per week across processes (a second export waits, then fails).
            with lake.lease(context, f"week {iso_year}-W{iso_week:02d} of {source}").hold():
                export = export_week(
                    the_lake,
                    election,
                    source,
                    iso_year,
                    iso_week,
                    content_policy=kaggle.policy(),
                    parquet_twin=kaggle.parquet_twin,
                    allow_incomplete=_forced(context, config),
                )
        except (IncompleteWeekError, LeaseHeld) as exc:
            raise stop_without_retry(context, exc) from None
        if export.missing_days:
            context.log.warning(
                f"{source} {iso_year}-W{iso_week:02d} forced out incomplete; missing "
                + ", ".join(export.missing_days)
            )
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(the_lake.uri(export.files[0])),
                "iso_week": f"{iso_year}-W{iso_week:02d}",
                "rows": export.rows,
                "rows_by_day": dg.MetadataValue.json(export.rows_by_day),
                "missing_days": dg.MetadataValue.json(export.missing_days),
                "forced_incomplete": export.forced,
                "columns": dg.MetadataValue.json(export.columns),
                "content_policy": export.content_policy or "n/a",
                "files": dg.MetadataValue.json(export.files),
                "preview": dg.MetadataValue.md(export.preview),
            }
        )

    return _export


def kaggle_export_assets(election: Election) -> list[dg.AssetsDefinition]:
    assets = [_weekly_export_asset(election, "tweets", "tweets", multi=False)]
    assets += [
        _weekly_export_asset(election, f"trends_{kind}", f"trends_{kind}", multi=True)
        for kind in TRENDS_KINDS
    ]
    # Hourly counts per candidate: aggregates only, safe to publish under X's terms.
    assets.append(_weekly_export_asset(election, "tweet_counts", "tweet_counts", multi=False))
    return assets


def kaggle_dataset_asset(
    exports: list[dg.AssetsDefinition], extra_deps: list[dg.AssetsDefinition] | None = None
) -> dg.AssetsDefinition:
    """``extra_deps``: assets that change published files too (``x_compliance``)."""

    @dg.asset(
        name="kaggle_dataset",
        group_name=GROUP,
        kinds={"kaggle"},
        deps=[a.key for a in exports] + [a.key for a in extra_deps or []],
        # Re-assemble (and publish, when enabled) whenever a week was exported; unlike
        # eager(), it must not wait for every week of the campaign to exist.
        automation_condition=dg.AutomationCondition.eager().without(
            ~dg.AutomationCondition.any_deps_missing()
        ),
        description=(
            "The publishable kaggle/ folder: every election's weekly files, "
            "dataset-metadata.json and the chart; published with the Kaggle API when enabled."
        ),
    )
    @final_on_deterministic
    def kaggle_dataset(
        context: dg.AssetExecutionContext, lake: LakeResource, kaggle: KaggleResource
    ) -> dg.MaterializeResult:
        the_lake = lake.lake()
        out = assemble_dataset(the_lake, kaggle.settings())
        if out["published"]:
            context.log.info(f"Kaggle: {out['outcome']}; notes: {out['notes']}")
        else:
            context.log.info(f"Kaggle dataset built, not published: {out['outcome']}")
        manifests = out["manifests"]
        md = {
            "path": dg.MetadataValue.path(the_lake.uri(f"{KAGGLE}/")),
            "files": sum(len(m["files"]) for m in manifests),
            "notebook": out["notebook"],
            "weeks": len(manifests),
            "elections": dg.MetadataValue.json(sorted({m["election"] for m in manifests})),
            "published": out["published"],
            "publication": out["outcome"] or "",
            "version_notes": out["notes"],
            "description": dg.MetadataValue.md(out["metadata"]["description"]),
        }
        if out["cover"] is not None:
            b64 = base64.b64encode(out["cover"]).decode()
            md["cover"] = dg.MetadataValue.md(f"![cover](data:image/png;base64,{b64})")
        for name, png in out["charts"]:
            b64 = base64.b64encode(png).decode()
            md[name] = dg.MetadataValue.md(f"![{name}](data:image/png;base64,{b64})")
        return dg.MaterializeResult(metadata=md)

    return kaggle_dataset


def kaggle_automation_sensor() -> dg.AutomationConditionSensorDefinition:
    """On by default: weekly exports must run unattended for a whole campaign."""
    return dg.AutomationConditionSensorDefinition(
        "kaggle_automation_sensor",
        target=dg.AssetSelection.groups(GROUP),
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
