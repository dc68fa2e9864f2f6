"""The publishable ``kaggle/`` folder: charts, ``dataset-metadata.json``, and publication.

Everything is derived from the weekly export manifests, so re-assembling is
cheap and always agrees with the files that were exported.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from elex_assets.core.kaggle.chart import (
    election_share_of_voice,
    merge_daily,
    render_chart,
    render_cover,
)
from elex_assets.core.kaggle.data_dictionary import data_dictionary
from elex_assets.core.kaggle.export import read_manifests
from elex_assets.core.kaggle.metadata import build_metadata
from elex_assets.core.kaggle.publish import (
    file_fingerprints,
    load_published,
    publish,
    version_notes,
    why_not_publish,
)
from elex_assets.core.kaggle.reference import write_reference_files
from elex_assets.core.kaggle.starter_notebook import (
    NOTEBOOK_NAME,
    executed_notebook,
    notebook_bytes,
)
from elex_assets.core.lake import Lake
from elex_assets.core.layout import KAGGLE, KAGGLE_METADATA, kaggle_published_key

DICTIONARY_NAME = "DATA_DICTIONARY.md"
COVER_NAME = "dataset-cover-image.png"  # the name the Kaggle API looks for beside the metadata


@dataclass(frozen=True)
class PublishSettings:
    dataset_id: str  # owner/slug (a placeholder when not configured)
    dataset_configured: bool
    content_policy: str
    enabled: bool = False
    username: str | None = None
    key: str | None = None
    public: bool = True
    endpoint: str | None = None
    posts_plan: str = "full"  # X_POSTS_PLAN of the collection, stated in the description

    def __repr__(self) -> str:  # never show the key
        return f"PublishSettings(dataset_id={self.dataset_id!r}, enabled={self.enabled})"


def assemble_dataset(lake: Lake, kaggle: PublishSettings) -> dict:
    """Everything a reader needs into ``kaggle/``; publish when configured.

    Per election: the chart, ``candidates.csv`` and ``queries.csv``; for the
    dataset: the cover (the latest election's share of voice), the data
    dictionary, the starter notebook (executed on the latest week when nbclient
    is installed) and ``dataset-metadata.json``.
    """
    manifests = read_manifests(lake)
    charts = []
    extra: dict[str, str] = {}
    cover = None
    notebook_status = "no weekly file yet"
    elections = sorted({m["election"] for m in manifests})
    for election in elections:
        ms = [m for m in manifests if m["election"] == election]
        refs = write_reference_files(lake, election, ms)
        names = dict(
            zip(*(refs[f"{KAGGLE}/{election}/candidates.csv"][c] for c in ("candidate_id", "name")),
                strict=True)
        )
        share, origin = election_share_of_voice(lake, ms)
        title = f"French presidential election {election}"
        png = render_chart(
            merge_daily(ms, "tweets"),
            merge_daily(ms, "trends_interest_over_time"),
            title,
            names,
            share=share,
            share_origin=origin,
            pageviews=merge_daily(ms, "wiki_pageviews"),
        )
        name = f"chart_{election}.png"
        lake.write_bytes(f"{KAGGLE}/{name}", png)
        charts.append((name, png))
        bsky = merge_daily(ms, "bsky_posts")
        if bsky:  # share of voice per platform, once Bluesky is exported
            from elex_assets.core.bsky.chart import render_platforms_chart

            png = render_platforms_chart(merge_daily(ms, "tweets"), bsky,
                                         f"French presidential election {election}: X and Bluesky",
                                         names)
            name = f"chart_{election}_platforms.png"
            lake.write_bytes(f"{KAGGLE}/{name}", png)
            charts.append((name, png))
        for key in refs:
            extra[key.removeprefix(f"{KAGGLE}/")] = (
                "Who each candidate_id is: name, party, group, status and its date, handles, "
                "exact search terms"
                if key.endswith("candidates.csv")
                else "What each query_id of the weekly tweets files asked X: its exact text"
            )
        cover = render_cover(share, f"Share of voice on X, {election}", names)
    if cover is not None:
        lake.write_bytes(f"{KAGGLE}/{COVER_NAME}", cover)
    sources = {m["source"]: m.get("content_policy") for m in manifests}
    lake.write_bytes(
        f"{KAGGLE}/{DICTIONARY_NAME}",
        data_dictionary(sources, kaggle.posts_plan).encode(),
    )
    extra[DICTIONARY_NAME] = "Every file family and every column: type, unit, meaning, caveats"
    tweet_weeks = [m for m in manifests if m["source"] == "tweets"]
    if tweet_weeks:
        latest = max(tweet_weeks, key=lambda m: (m["election"], m["iso_year"], m["iso_week"]))
        week = f"{latest['iso_year']:04d}_{latest['iso_week']:02d}"
        notebook, notebook_status = executed_notebook(
            lake, latest["election"], week, "French presidential election on X and Google Trends"
        )
        lake.write_bytes(f"{KAGGLE}/{NOTEBOOK_NAME}", notebook_bytes(notebook))
        extra[NOTEBOOK_NAME] = (
            "Starter notebook: load a week with polars, plot share of voice and Trends per "
            "candidate, hydrate post ids with the X API"
        )
    metadata = build_metadata(
        kaggle.dataset_id,
        manifests,
        [n for n, _ in charts],
        kaggle.content_policy,
        extra_files=extra,
        cover=COVER_NAME if cover is not None else None,
        posts_plan=kaggle.posts_plan,
    )
    lake.write_bytes(
        KAGGLE_METADATA, (json.dumps(metadata, ensure_ascii=False, indent=2) + "\n").encode()
    )
    current = file_fingerprints(manifests)
    previous = load_published(
        lake.read_bytes(kaggle_published_key()) if lake.exists(kaggle_published_key()) else None
    )
    notes = version_notes(previous, current)
    reason = why_not_publish(kaggle.enabled, kaggle.username, kaggle.key)
    if reason is None and not kaggle.dataset_configured:
        reason = "KAGGLE_DATASET not set (owner/slug)"
    if reason is None and not manifests:
        reason = "no weekly file exported yet"
    published, outcome = False, reason
    if reason is None:
        with _local_folder(lake) as folder:
            result = publish(
                folder,
                dataset_id=kaggle.dataset_id,
                username=str(kaggle.username),
                key=str(kaggle.key),
                notes=notes,
                public=kaggle.public,
                endpoint=kaggle.endpoint,
            )
        lake.write_bytes(kaggle_published_key(), json.dumps(current, indent=2).encode())
        published, outcome = True, result.reason
    return {
        "manifests": manifests,
        "metadata": metadata,
        "charts": charts,
        "cover": cover,
        "notebook": notebook_status,
        "notes": notes,
        "published": published,
        "outcome": outcome,
    }


def publishable(key: str) -> bool:
    """Whether a key under ``kaggle/`` is a finished file to publish.

    The one exclusion rule shared by the publisher and the dataset asset: a
    hidden name (``.name``: a temporary file being written) or a ``.tmp`` part
    is never a finished file.
    """
    parts = key.split("/")
    return not any(p.startswith(".") or ".tmp" in p for p in parts)


def publishable_keys(lake: Lake) -> list[str]:
    """The files a publication uploads: every finished file under ``kaggle/``."""
    return [k for k in lake.list(f"{KAGGLE}/") if publishable(k)]


class _local_folder:  # noqa: N801 (used as a context manager)
    """The lake's ``kaggle/`` as a local folder: itself on disk, a download from S3."""

    def __init__(self, lake: Lake) -> None:
        self.lake = lake
        self.tmp: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> Path:
        # Always a copy of the publishable files only (hard links on a local lake): the
        # kaggle API uploads every file of the folder it is given.
        self.tmp = tempfile.TemporaryDirectory(prefix="elex-kaggle-")
        root = Path(self.tmp.name)
        for key in publishable_keys(self.lake):
            target = root / key.removeprefix(f"{KAGGLE}/")
            target.parent.mkdir(parents=True, exist_ok=True)
            with self.lake.local_copy(key) as path:
                try:
                    os.link(path, target)
                except OSError:
                    shutil.copyfile(path, target)
        return root

    def __exit__(self, *exc: object) -> None:
        if self.tmp is not None:
            self.tmp.cleanup()
