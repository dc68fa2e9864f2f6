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
import json
import tempfile
from pathlib import Path

import dagster as dg

from elex_assets.core.chart import merge_daily, render_chart
from elex_assets.core.elections import Election
from elex_assets.core.export import (
    IncompleteWeekError,
    export_week,
    read_manifests,
    week_of_partition_key,
)
from elex_assets.core.kaggle_metadata import build_metadata
from elex_assets.core.kaggle_publish import (
    file_fingerprints,
    load_published,
    publish,
    version_notes,
    why_not_publish,
)
from elex_assets.core.lake import Lake
from elex_assets.core.layout import KAGGLE, KAGGLE_METADATA, TRENDS_KINDS, kaggle_published_key
from elex_assets.partitions import weekly_partitions
from elex_assets.resources import LakeResource
from elex_assets.resources.kaggle import KaggleResource

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
    mapping: dg.PartitionMapping = (
        dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name="date")
        if multi
        else dg.TimeWindowPartitionMapping(allow_nonexistent_upstream_partitions=True)
    )

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
    def _export(
        context: dg.AssetExecutionContext,
        config: KaggleExportConfig,
        lake: LakeResource,
        kaggle: KaggleResource,
    ) -> dg.MaterializeResult:
        iso_year, iso_week = week_of_partition_key(context.partition_key)
        the_lake = lake.lake()
        try:
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
        except IncompleteWeekError as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from exc
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
            }
        )

    return _export


def kaggle_export_assets(election: Election) -> list[dg.AssetsDefinition]:
    assets = [_weekly_export_asset(election, "tweets", "tweets", multi=False)]
    assets += [
        _weekly_export_asset(election, f"trends_{kind}", f"trends_{kind}", multi=True)
        for kind in TRENDS_KINDS
    ]
    return assets


def assemble_dataset(lake: Lake, kaggle: KaggleResource, log: object | None = None) -> dict:
    """Chart(s) and dataset-metadata.json into ``kaggle/``; publish when configured."""
    manifests = read_manifests(lake)
    charts = []
    for election in sorted({m["election"] for m in manifests}):
        ms = [m for m in manifests if m["election"] == election]
        png = render_chart(
            merge_daily(ms, "tweets"),
            merge_daily(ms, "trends_interest_over_time"),
            f"French presidential election {election}",
        )
        name = f"chart_{election}.png"
        lake.write_bytes(f"{KAGGLE}/{name}", png)
        charts.append((name, png))
    metadata = build_metadata(
        kaggle.dataset_id(), manifests, [n for n, _ in charts], kaggle.policy()
    )
    lake.write_bytes(
        KAGGLE_METADATA, (json.dumps(metadata, ensure_ascii=False, indent=2) + "\n").encode()
    )
    current = file_fingerprints(manifests)
    previous = load_published(
        lake.read_bytes(kaggle_published_key()) if lake.exists(kaggle_published_key()) else None
    )
    notes = version_notes(previous, current)
    reason = why_not_publish(kaggle.publish, kaggle.username, kaggle.key)
    if reason is None and not kaggle.dataset:
        reason = "KAGGLE_DATASET not set (owner/slug)"
    if reason is None and not manifests:
        reason = "no weekly file exported yet"
    published, outcome = False, reason
    if reason is None:
        with _local_folder(lake) as folder:
            result = publish(
                folder,
                dataset_id=kaggle.dataset_id(),
                username=str(kaggle.username),
                key=str(kaggle.key),
                notes=notes,
                public=kaggle.public,
                endpoint=kaggle.api_endpoint,
            )
        lake.write_bytes(kaggle_published_key(), json.dumps(current, indent=2).encode())
        published, outcome = True, result.reason
    return {
        "manifests": manifests,
        "metadata": metadata,
        "charts": charts,
        "notes": notes,
        "published": published,
        "outcome": outcome,
    }


class _local_folder:  # noqa: N801 (used as a context manager)
    """The lake's ``kaggle/`` as a local folder: itself on disk, a download from S3."""

    def __init__(self, lake: Lake) -> None:
        self.lake = lake
        self.tmp: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> Path:
        if not self.lake.is_s3:
            return Path(self.lake.url) / KAGGLE
        self.tmp = tempfile.TemporaryDirectory(prefix="elex-kaggle-")
        root = Path(self.tmp.name)
        for key in self.lake.list(f"{KAGGLE}/"):
            target = root / key.removeprefix(f"{KAGGLE}/")
            target.parent.mkdir(parents=True, exist_ok=True)
            with self.lake.local_copy(key) as path:
                target.write_bytes(path.read_bytes())
        return root

    def __exit__(self, *exc: object) -> None:
        if self.tmp is not None:
            self.tmp.cleanup()


def kaggle_dataset_asset(exports: list[dg.AssetsDefinition]) -> dg.AssetsDefinition:
    @dg.asset(
        name="kaggle_dataset",
        group_name=GROUP,
        kinds={"kaggle"},
        deps=[a.key for a in exports],
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
    def kaggle_dataset(
        context: dg.AssetExecutionContext, lake: LakeResource, kaggle: KaggleResource
    ) -> dg.MaterializeResult:
        the_lake = lake.lake()
        out = assemble_dataset(the_lake, kaggle)
        if out["published"]:
            context.log.info(f"Kaggle: {out['outcome']}; notes: {out['notes']}")
        else:
            context.log.info(f"Kaggle dataset built, not published: {out['outcome']}")
        manifests = out["manifests"]
        md = {
            "path": dg.MetadataValue.path(the_lake.uri(f"{KAGGLE}/")),
            "files": len(out["metadata"]["resources"]),
            "weeks": len(manifests),
            "elections": dg.MetadataValue.json(sorted({m["election"] for m in manifests})),
            "published": out["published"],
            "publication": out["outcome"] or "",
            "version_notes": out["notes"],
            "description": dg.MetadataValue.md(out["metadata"]["description"]),
        }
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
