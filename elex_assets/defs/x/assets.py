"""Posts on X: ``raw_tweets`` (API pages, lossless) and ``tweets`` (the clean table).

Both are daily (UTC) partitions. The logic lives in ``core.x.collect`` and
``core.x.normalise``; these definitions only wire resources, config and metadata.
"""

import contextlib
from collections.abc import Iterator

import dagster as dg

from elex_assets.core import layout
from elex_assets.core.elections import Election
from elex_assets.core.lease import Lease, LeaseHeld, LeaseLost
from elex_assets.core.run_temp import run_temp_dir
from elex_assets.core.x import compliance
from elex_assets.core.x.client import XApiError, XRetriesExhausted
from elex_assets.core.x.collect import MODES, XCollectError, collect_day, raw_keys
from elex_assets.core.x.normalise import RawFileError
from elex_assets.core.x.spend import SpendGuard, XSpendCeiling
from elex_assets.core.x.tweets_day import refresh_day
from elex_assets.defs.x.resources import XResource
from elex_assets.failures import deterministic, final_on_deterministic, stop_without_retry
from elex_assets.partitions import daily_partitions, day_of
from elex_assets.resources import LakeResource, RegistryResource


class RawTweetsConfig(dg.Config):
    """``auto``: today incremental, past days refreshed whole; ``fill``: only missing
    id ranges; ``full``: refetch the whole day and replace it."""

    mode: str = "auto"


def _table(rows: dict[str, int], key: str, value: str) -> dg.MetadataValue:
    body = "\n".join(f"| {k} | {v} |" for k, v in rows.items()) or "| - | 0 |"
    return dg.MetadataValue.md(f"| {key} | {value} |\n|---|---|\n{body}")


def spend_failure(
    exc: XSpendCeiling, spend: SpendGuard,
    context: dg.AssetExecutionContext | dg.OpExecutionContext | None = None,
) -> dg.Failure:
    """A dollar ceiling: deterministic, so the run fails without retries, saying why."""
    if context is not None:
        stop_without_retry(context, exc)  # tags the run: no run retry either
    notes = "; ".join(getattr(exc, "__notes__", []))
    return dg.Failure(
        description=f"{exc}" + (f" ({notes})" if notes else ""),
        metadata={k: v for k, v in spend.summary().items() if k != "spend_ledger"},
        allow_retries=False,
    )


# Errors that the same run cannot overcome by running again (config, auth, usage cap,
# a day out of reach, a damaged file, another writer): failed at once, never retried.
X_DETERMINISTIC: tuple[type[BaseException], ...] = (
    XApiError, XCollectError, RawFileError, LeaseHeld, LeaseLost,
)


@contextlib.contextmanager
def _one_writer(
    lake: LakeResource, context: dg.AssetExecutionContext, what: str
) -> Iterator[Lease]:
    """Hold the partition's lease in the lake; another live writer ends this run, unretried."""
    try:
        with lake.lease(context, what).hold() as lease:
            yield lease
    except (LeaseHeld, LeaseLost) as exc:
        raise stop_without_retry(context, exc) from None


def build_x_assets(election_daily: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    @dg.asset(
        name="raw_tweets",
        partitions_def=election_daily,
        pool="x_api",
        group_name="x",
        kinds={"json"},
        deps=["candidates"],
        description=(
            "Posts naming the candidates, as X search returned them: one jsonl.gz per run "
            "under raw/tweets/date=YYYY-MM-DD/, one line per API page. Today grows "
            "incrementally (since_id); past days are fetched whole and replace what was there."
        ),
    )
    @final_on_deterministic
    def raw_tweets(
        context: dg.AssetExecutionContext,
        config: RawTweetsConfig,
        x: XResource,
        lake: LakeResource,
        registry: RegistryResource,
    ) -> dg.MaterializeResult:
        if config.mode not in MODES:
            raise stop_without_retry(
                context, f"raw_tweets mode {config.mode!r}: expected one of {MODES}"
            )
        day = day_of(context.partition_key)
        # A registry or setting that does not load is configuration: ValueError too.
        with deterministic(context, (*X_DETERMINISTIC, ValueError)):
            client = x.client(
                on_retry=lambda msg, n: context.log.warning(f"X API attempt {n}: {msg}")
            )
            reg = registry.load()
            queries = x.queries(reg)
        the_lake = lake.lake()
        spend = x.spend_guard(the_lake, context.run.run_id[:8], f"raw_tweets {day}")
        try:
            with (
                deterministic(context, X_DETERMINISTIC, transient=(XRetriesExhausted,)),
                _one_writer(lake, context, f"day {day}") as lease,
                run_temp_dir("raw_tweets", context.run.run_id) as tmp,
            ):
                result = collect_day(
                    client, the_lake, queries, day,
                    endpoint=x.endpoint,
                    run_id=context.run.run_id[:8],
                    mode=config.mode,
                    page_size=x.page_size or None,
                    max_posts_per_month=x.max_posts_per_month or None,
                    log=context.log.info,
                    spend=spend,
                    plan=x.posts_plan,
                    sample_posts_per_day=x.sample_posts_per_day,
                    before_delete=lease.check,
                    tmp_dir=tmp,
                )
        except XSpendCeiling as exc:
            raise spend_failure(exc, spend, context) from None
        for note in result.notes:
            context.log.warning(note)
        context.log.info(
            f"X_POSTS_PLAN={x.posts_plan}: {result.posts} posts read, "
            f"${spend.ledger.total().usd:.3f} spent by this run"
        )
        if result.raw_key:  # a post X reported deleted never comes back with a refresh
            compliance.tombstone_raw(the_lake, result.raw_key, compliance.removed_ids(the_lake))
        per_query = {
            f"#{i + 1} ({', '.join(q.candidate_ids)})": result.posts_per_query.get(q.text, 0)
            for i, q in enumerate(queries)
        }
        files = raw_keys(the_lake, day)
        return dg.MaterializeResult(
            metadata={
                "mode": result.mode,
                "plan": x.posts_plan,
                "endpoint": result.endpoint,
                "window": " .. ".join(result.window) if result.window else "none",
                "pages": result.pages,
                "posts_read_run": result.posts,
                "posts_read_month": result.month_posts,
                "budget_per_month": x.max_posts_per_month or "off",
                "queries": len(queries),
                "raw_files": len(files),
                "replaced_files": len(result.replaced),
                "posts_read_per_query": _table(per_query, "query (candidates)", "posts read"),
                "landed": dg.MetadataValue.path(the_lake.uri(result.raw_key))
                if result.raw_key else "nothing new",
                "path": dg.MetadataValue.path(the_lake.uri(layout.raw_tweets_prefix(day))),
                "notes": "; ".join(result.notes) or "none",
                **spend.summary(),
            }
        )

    @dg.asset(
        name="tweets",
        partitions_def=election_daily,
        group_name="x",
        kinds={"polars", "parquet"},
        deps=[raw_tweets],
        description=(
            "One row per post of the day, de-duplicated by id across every raw file (newest "
            "metrics win), with author, referenced post, entities and matched candidates."
        ),
    )
    @final_on_deterministic
    def tweets(
        context: dg.AssetExecutionContext, lake: LakeResource, registry: RegistryResource
    ) -> dg.MaterializeResult:
        day = day_of(context.partition_key)
        the_lake = lake.lake()
        keys = raw_keys(the_lake, day)
        candidates = registry.load().candidates
        target = layout.clean_tweets_key(day)
        try:
            with (
                _one_writer(lake, context, f"day {day} (tweets)"),
                run_temp_dir("tweets", context.run.run_id) as tmp,
            ):
                # The compliance log wins over whatever the raw files still hold.
                done = refresh_day(
                    the_lake, keys, candidates, day, target,
                    compliance.removed_ids(the_lake), tmp_dir=tmp,
                )
        except RawFileError as exc:  # a damaged file does not heal by retrying
            raise stop_without_retry(context, exc) from None
        summary, removed = done.summary, done.removed
        rows, per_candidate = summary.rows, summary.per_candidate
        context.log.info(
            f"{rows} posts from {len(keys)} raw files -> {the_lake.uri(target)}"
            + ("" if done.written else " (nothing new: file unchanged)")
        )
        acc = summary.accounting_or_rows()
        context.log.info(acc.summary())
        if acc.api_errors:
            context.log.warning(
                "X returned partial errors beside the data (referenced posts or users "
                "withheld, deleted or not authorised): "
                + ", ".join(f"{n} {t}" for t, n in sorted(acc.api_errors.items()))
            )
        return dg.MaterializeResult(
            metadata={
                "raw_unique_posts": acc.raw_unique,
                "dropped_total": acc.dropped_total,
                "dropped_by_reason": dg.MetadataValue.json(acc.dropped),
                "created_at_from_id": acc.created_at_from_id,
                "text_from_note_tweet": acc.from_note_tweet,
                "x_partial_errors_by_type": dg.MetadataValue.json(acc.api_errors),
                "dagster/row_count": rows,
                "rows": rows,
                "raw_files": len(keys),
                "removed_by_compliance": removed,
                "posts_per_candidate": _table(per_candidate, "candidate", "posts"),
                "posts_per_candidate_json": dg.MetadataValue.json(per_candidate),
                "preview": dg.MetadataValue.md(summary.preview_md),
                "path": dg.MetadataValue.path(the_lake.uri(target)),
            }
        )

    return [raw_tweets, tweets]


def x_assets_for(election: Election) -> list[dg.AssetsDefinition]:
    return build_x_assets(daily_partitions(election))
