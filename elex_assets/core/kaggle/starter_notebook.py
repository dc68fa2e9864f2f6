"""The dataset's starter notebook: load a week, plot share of voice and Trends, hydrate ids.

Written as a plain nbformat-4 JSON document (no nbformat needed to build it).
When ``nbclient`` and ``ipykernel`` are installed (the project's dev
environment, hence the demo) :func:`execute_notebook` runs it against a copy of
the week it reads, so the published notebook shows its outputs; the X API
hydration cell runs only with a token in the environment, never in tests.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from elex_assets.core.lake import Lake
from elex_assets.core.layout import KAGGLE

NOTEBOOK_NAME = "starter_notebook.ipynb"

SETUP = '''\
import json
import os
import urllib.request
from pathlib import Path

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import polars as pl

# On Kaggle the dataset is mounted under /kaggle/input/<dataset>; elsewhere run the
# notebook from the dataset folder (or set ELEX_DATASET_DIR).
mounted = sorted(Path("/kaggle/input").glob("*")) if Path("/kaggle/input").is_dir() else []
DATA = Path(os.environ.get("ELEX_DATASET_DIR") or (mounted[0] if mounted else "."))
elections = sorted(p.name for p in DATA.iterdir() if (p / "candidates.csv").is_file())
ELECTION = elections[-1]
weeks = sorted(f.name.removesuffix(".csv.gz") for f in (DATA / ELECTION / "tweets").glob("*.csv.gz"))
WEEK = weeks[-1]  # the latest ISO week, e.g. 2027_14
print(f"elections {elections}; election {ELECTION}: {len(weeks)} weeks, reading {WEEK}")
'''

CANDIDATES = '''\
candidates = pl.read_csv(DATA / ELECTION / "candidates.csv", try_parse_dates=True)
NAMES = dict(zip(candidates["candidate_id"], candidates["name"]))
candidates.select("candidate_id", "name", "party", "status", "status_as_of", "search_terms")
'''

TWEETS = '''\
# Ids are strings of digits: read them as strings, never as numbers.
IDS = {c: pl.String for c in ("id", "author_id", "conversation_id", "referenced_id")}
tweets = pl.read_csv(
    DATA / ELECTION / "tweets" / f"{WEEK}.csv.gz", schema_overrides=IDS, try_parse_dates=True
).with_columns(pl.col("candidates").str.split(";"))
queries = pl.read_csv(DATA / ELECTION / "queries.csv")
print(f"{tweets.height} posts, {queries.height} queries")
tweets.join(queries.select("query_id", "query"), on="query_id", how="left").head()
'''

SHARE = '''\
counts_file = DATA / ELECTION / "tweet_counts" / f"{WEEK}.csv.gz"
if counts_file.is_file():  # complete hourly volumes from X's counts API
    counts = pl.read_csv(counts_file, try_parse_dates=True)
    daily = counts.group_by(pl.col("hour").dt.date().alias("day"), "candidate_id").agg(
        pl.col("post_count").sum().cast(pl.Int64)
    )
    SOURCE = "X counts API (complete volumes)"
else:  # the posts collected (a sample under a `sample` posts plan)
    posts = tweets.with_columns(pl.col("created_at").dt.date().alias("day"))
    per_candidate = (
        posts.explode("candidates").drop_nulls("candidates")
        .group_by("day", pl.col("candidates").alias("candidate_id"))
        .agg(pl.len().cast(pl.Int64).alias("post_count"))
    )
    naming_any = (
        posts.filter(pl.col("candidates").list.len() > 0).group_by("day")
        .agg(pl.len().cast(pl.Int64).alias("post_count"))
        .with_columns(pl.lit("_all").alias("candidate_id"))
    )
    daily = pl.concat([per_candidate, naming_any.select(per_candidate.columns)])
    SOURCE = "posts in the tweets file"
total = daily.filter(pl.col("candidate_id") == "_all").select("day", total="post_count")
share = (
    daily.filter(pl.col("candidate_id") != "_all").join(total, on="day")
    .with_columns((100 * pl.col("post_count") / pl.col("total")).alias("share"))
)
print(f"share of voice from {SOURCE}")
share.sort("day", "share", descending=[False, True]).head()
'''

PLOT = '''\
def small_multiples(df, value, title, unit):
    """One panel per candidate, shared axes, busiest first."""
    order = (df.group_by("candidate_id").agg(pl.col(value).mean())
             .sort(value, descending=True)["candidate_id"].to_list())
    ncols = 4
    nrows = -(-len(order) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3 * ncols, 1.9 * nrows + 0.8),
                             sharex=True, sharey=True, squeeze=False)
    for ax, cid in zip(axes.flat, order):
        for other in order:  # the others in grey, for context
            o = df.filter(pl.col("candidate_id") == other).sort("day")
            ax.plot(o["day"], o[value], color="0.85", linewidth=0.8)
        one = df.filter(pl.col("candidate_id") == cid).sort("day")
        ax.plot(one["day"], one[value], color="tab:blue", linewidth=2)
        ax.set_title(NAMES.get(cid, cid), fontsize=10)
    for ax in axes.flat[len(order):]:
        ax.set_visible(False)
    axes.flat[0].set_ylim(bottom=0)
    axes.flat[0].xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=4))
    axes.flat[0].xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    fig.suptitle(f"{title}\\n{unit}", fontsize=11)
    fig.tight_layout()
    plt.show()


small_multiples(share, "share", f"Share of voice on X, week {WEEK} ({SOURCE})",
                "unit: % of posts naming any candidate that name this one")
'''

TRENDS = '''\
trends_file = DATA / ELECTION / "trends_interest_over_time" / f"{WEEK}.csv.gz"
if trends_file.is_file():
    trends = pl.read_csv(trends_file, try_parse_dates=True)
    interest = (
        trends.filter((pl.col("area") == "fr") & pl.col("value_comparable").is_not_null())
        .group_by(pl.col("date").alias("day"), "candidate_id")
        .agg(pl.col("value_comparable").mean())
    )
    small_multiples(interest, "value_comparable", f"Google Trends interest in France, week {WEEK}",
                    "unit: % of the anchor term's mean interest that day (100 = as searched as the anchor)")
else:
    print("no Google Trends file for this week")
'''

HYDRATE_MD = """\
## Hydrate the post ids with the X API

The weekly files carry post ids, not their text (X's terms allow sharing ids). With your
own X developer app, look the posts up 100 at a time with `GET /2/tweets?ids=…`: posts
deleted or protected since then come back in the response's `errors`, not in `data`
(the dataset drops them too, at its weekly compliance run). Each post read is billed by X
(pay-per-use): try a few hundred ids first. The cell below does nothing without
`X_BEARER_TOKEN` in the environment (on Kaggle: *Add-ons > Secrets*).
"""

HYDRATE = '''\
def hydrate(ids, token, fields="created_at,author_id,lang,public_metrics,note_tweet"):
    """The posts still available on X among ``ids``, 100 per request."""
    for start in range(0, len(ids), 100):
        url = f"https://api.x.com/2/tweets?ids={','.join(ids[start:start + 100])}&tweet.fields={fields}"
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            page = json.load(response)
        yield from page.get("data", [])


TOKEN = os.environ.get("X_BEARER_TOKEN")
if TOKEN:
    sample_ids = tweets["id"].drop_nulls().head(100).to_list()
    hydrated = pl.DataFrame(list(hydrate(sample_ids, TOKEN)))
    print(f"{hydrated.height} of {len(sample_ids)} posts still available")
else:
    print("X_BEARER_TOKEN is not set: skipping hydration (nothing was sent to X)")
'''


def _cell(kind: str, source: str) -> dict:
    cell: dict = {"cell_type": kind, "metadata": {}, "source": source.splitlines(keepends=True)}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def starter_notebook(title: str) -> dict:
    """The notebook as an nbformat-4 document."""
    intro = (
        f"# {title}: a starter notebook\n\n"
        "Loads one week of the dataset with polars, plots each candidate's share of voice on X "
        "(from `tweet_counts` when the dataset has it, from `tweets` otherwise) and their Google "
        "Trends interest, then shows how to hydrate post ids with the X API. "
        "Every file and column is described in `DATA_DICTIONARY.md`.\n"
    )
    cells = [
        _cell("markdown", intro),
        _cell("code", SETUP),
        _cell("markdown", "## Who is who\n\n`candidates.csv` names every `candidate_id`.\n"),
        _cell("code", CANDIDATES),
        _cell("markdown", "## A week of posts\n\nOne row per post; `query_id` points into `queries.csv`.\n"),
        _cell("code", TWEETS),
        _cell("markdown", "## Share of voice\n\nPer day, the share of posts naming any candidate that name each one.\n"),
        _cell("code", SHARE),
        _cell("code", PLOT),
        _cell("markdown", "## Google Trends\n\n`value_comparable` puts every candidate of a day on one scale.\n"),
        _cell("code", TRENDS),
        _cell("markdown", HYDRATE_MD),
        _cell("code", HYDRATE),
    ]
    for i, cell in enumerate(cells):
        cell["id"] = f"cell-{i:02d}"
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def notebook_bytes(notebook: dict) -> bytes:
    return (json.dumps(notebook, ensure_ascii=False, indent=1) + "\n").encode()


def execute_notebook(notebook: dict, folder: Path, timeout: int = 300) -> dict:
    """Run the notebook top to bottom with ``folder`` as its working directory.

    Raises ``ImportError`` when nbclient / ipykernel are not installed, and
    nbclient's ``CellExecutionError`` (naming the failing cell) when a cell fails.
    """
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    from elex_assets.settings import scoped_env

    nb = nbformat.reads(json.dumps(notebook), as_version=4)  # joins the source lines
    # The kernel inherits this environment: without the token it never calls X here.
    with scoped_env(unset=["X_BEARER_TOKEN"]), \
            tempfile.TemporaryDirectory(prefix="elex-kernel-") as sockets:
        # Unix sockets, not TCP: nothing listens on a port, even on loopback.
        km = KernelManager(kernel_name="python3", transport="ipc", ip=f"{sockets}/k")
        # nbclient leaves a kernel it did not create running: shut it down here, or every
        # executed notebook would leave a python process behind (one per weekly export).
        NotebookClient(
            nb, km=km, timeout=timeout, resources={"metadata": {"path": str(folder)}}
        ).execute(cleanup_kc=True)
    return json.loads(nbformat.writes(nb))


def week_copy(lake: Lake, election: str, week: str, target: Path) -> Path:
    """The files the notebook reads for one week, copied from the lake into ``target``."""
    keys = [f"{KAGGLE}/{election}/candidates.csv", f"{KAGGLE}/{election}/queries.csv"]
    keys += [
        f"{KAGGLE}/{election}/{source}/{week}.csv.gz"
        for source in ("tweets", "tweet_counts", "trends_interest_over_time")
    ]
    for key in keys:
        if lake.exists(key):
            path = target / key.removeprefix(f"{KAGGLE}/")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(lake.read_bytes(key))
    return target


def executed_notebook(lake: Lake, election: str, week: str, title: str) -> tuple[dict, str]:
    """The notebook executed on one week of the lake's dataset, or unexecuted and why."""
    notebook = starter_notebook(title)
    try:
        with tempfile.TemporaryDirectory(prefix="elex-notebook-") as tmp:
            return execute_notebook(notebook, week_copy(lake, election, week, Path(tmp))), "executed"
    except ImportError:
        return notebook, "not executed (nbclient/ipykernel not installed)"
