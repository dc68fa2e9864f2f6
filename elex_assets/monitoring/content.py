"""Content checks on the clean tables, run with each partition's materialisation.

Each table's checks are one step (a multi-asset check) that reads the partition
once and reports one result per rule, under the rule's own check name.

They share the asset's partitions, so a check result belongs to the day (and
area) it judged; the rules themselves live in :mod:`elex_assets.core.quality`.
"""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import dagster as dg
import polars as pl

from elex_assets.core import quality
from elex_assets.core.elections import Election
from elex_assets.core.schemas import BSKY_POSTS, TRENDS, TWEETS, WIKI_PAGEVIEWS, TableSchema
from elex_assets.monitoring import clock
from elex_assets.monitoring.families import family, monitored_assets, trends_kind
from elex_assets.monitoring.thresholds import Thresholds
from elex_assets.partitions import day_area_of, day_of, is_day_area_key
from elex_assets.resources import LakeResource, RegistryResource


class PartitionRef:
    """The day (and area) of a check's partition key: ``2026-11-20`` or ``fr|2026-11-20``."""

    def __init__(self, partition_key: str) -> None:
        self.area: str | None
        if is_day_area_key(partition_key):
            self.area, self.day = day_area_of(partition_key)
        else:
            self.area, self.day = None, day_of(partition_key)


@dataclass(frozen=True)
class _Rule:
    """One content check: its name, what it says, how it judges the day's frame."""

    name: str
    description: str
    judge: Callable[[pl.DataFrame, PartitionRef, RegistryResource], quality.CheckOutcome]
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR


def _checks_def(
    key: dg.AssetKey,
    partitions_def: dg.PartitionsDefinition | None,
    read: Callable[[Any, PartitionRef], pl.DataFrame],
    rules: Sequence[_Rule],
) -> dg.AssetChecksDefinition:
    """The content checks of one table as one step: the partition is read once and every
    rule judges that frame (each still reported as its own check, with its severity)."""
    by_name = {r.name: r for r in rules}

    @dg.multi_asset_check(
        name=f"{key.to_python_identifier()}_content_checks",
        specs=[
            dg.AssetCheckSpec(r.name, asset=key, description=r.description,
                              partitions_def=partitions_def)
            for r in rules
        ],
        can_subset=True,
    )
    def _checks(
        context: dg.AssetCheckExecutionContext, lake: LakeResource, registry: RegistryResource
    ) -> Iterator[dg.AssetCheckResult]:
        the_lake = lake.lake()
        # A single-run backfill (wiki_pageviews) checks its whole range: each day is judged,
        # one result per rule says which days failed.
        keys = partition_keys_of(context)
        frames = {k: (PartitionRef(k), read(the_lake, PartitionRef(k))) for k in keys}
        for check_key in sorted(context.selected_asset_check_keys, key=lambda k: k.name):
            rule = by_name[check_key.name]
            outcomes = {k: rule.judge(df, ref, registry) for k, (ref, df) in frames.items()}
            outcome = combine(outcomes)
            yield dg.AssetCheckResult(
                asset_key=key,
                check_name=rule.name,
                passed=outcome.passed,
                description=outcome.description,
                metadata={"partition": _label(keys), **outcome.metadata},
                severity=rule.severity,
            )

    return _checks


def partition_keys_of(context: dg.AssetCheckExecutionContext) -> list[str]:
    """The partition keys a check judges: one, or each of a backfill's range."""
    if context.has_partition_key_range:
        keys = context.partition_key_range
        if keys.start != keys.end:
            return list(context.partition_keys)
    return [context.partition_key]


def _label(keys: list[str]) -> str:
    return keys[0] if len(keys) == 1 else f"{keys[0]}..{keys[-1]}"


def combine(outcomes: dict[str, quality.CheckOutcome]) -> quality.CheckOutcome:
    """One verdict for several partitions: passed when every one passed; failing ones named."""
    if len(outcomes) == 1:
        return next(iter(outcomes.values()))
    failed = {k: o for k, o in outcomes.items() if not o.passed}
    meta = {"partitions_judged": len(outcomes), "partitions_failed": len(failed)}
    if failed:
        text = "; ".join(f"{k}: {o.description}" for k, o in list(failed.items())[:5])
        more = f" (+{len(failed) - 5} more days)" if len(failed) > 5 else ""
        return quality.CheckOutcome(False, f"{len(failed)} of {len(outcomes)} days fail: "
                                    f"{text}{more}", meta)
    return quality.CheckOutcome(True, f"all {len(outcomes)} days pass", meta)


def build_content_checks(
    assets: Sequence[Any], election: Election, thresholds: Thresholds | None = None
) -> list[dg.AssetChecksDefinition]:
    """The content checks of every clean table present among ``assets``."""
    thresholds = thresholds or Thresholds.from_env()
    campaign = (election.campaign_start, election.campaign_end)
    checks: list[dg.AssetChecksDefinition] = []
    for name, (asset, key) in monitored_assets(assets).items():
        parts = asset.partitions_def
        if parts is None:
            continue  # the contract is daily (x area) partitions: nothing to name a day by
        if name == "tweets":

            def read_tweets(lake: Any, ref: PartitionRef) -> pl.DataFrame:
                return quality.read_tweets_day(lake, ref.day, TWEETS.polars)

            checks.append(_checks_def(
                key, parts, read_tweets, _post_rules("post id", TWEETS, thresholds, campaign)))
        elif name == "bsky_posts":
            checks.append(_bsky_checks(key, parts, thresholds, campaign))
        elif name == "wiki_pageviews":
            checks.append(_wiki_checks(key, parts))
        elif family(name) == "trends":
            checks += _trends_checks(name, key, parts)
    return checks


def _post_rules(
    id_name: str, schema: TableSchema, thresholds: Thresholds, campaign: tuple[date, date]
) -> list[_Rule]:
    """The rules every posts table shares: unique ids, required columns, a day not empty."""
    return [
        _Rule(
            "no_duplicate_ids",
            f"No {id_name} appears twice in a day.",
            lambda df, ref, reg: quality.no_duplicate_ids(df),
        ),
        _Rule(
            "required_columns",
            f"Required columns are non-null: {', '.join(schema.required)}.",
            lambda df, ref, reg: quality.required_not_null(df, schema.required),
        ),
        _Rule(
            "posts_present",
            f"A campaign day has posts (tolerance {thresholds.quiet_hours:g} h "
            "after midnight UTC for the current day).",
            lambda df, ref, reg: quality.posts_present(
                df, ref.day, clock.utc_now(), campaign, thresholds.quiet_hours
            ),
        ),
    ]


def _bsky_checks(
    key: dg.AssetKey, parts: dg.PartitionsDefinition, thresholds: Thresholds,
    campaign: tuple[date, date],
) -> dg.AssetChecksDefinition:
    """``bsky_posts``: the rules of ``tweets``, plus the day and the candidates of each post."""

    def read(lake: Any, ref: PartitionRef) -> pl.DataFrame:
        return quality.read_bsky_day(lake, ref.day, BSKY_POSTS.polars)

    def registry_ids(reg: RegistryResource) -> list[str]:
        return [c.id for c in reg.load().candidates]

    live = pl.col("post_type") != "deleted"  # tombstones keep no content, no candidate
    return _checks_def(key, parts, read, [
        *_post_rules("post URI", BSKY_POSTS, thresholds, campaign),
        _Rule(
            "posts_within_day",
            "Every post was created or indexed on the partition's UTC day (where searchPosts "
            "places it).",
            lambda df, ref, reg: quality.within_day(df, ref.day, ["created_at", "indexed_at"]),
        ),
        _Rule(
            "candidates_known",
            "Every candidate id a post names is a candidate of the registry.",
            lambda df, ref, reg: quality.candidates_known(df, registry_ids(reg)),
        ),
        _Rule(
            "posts_name_a_candidate",
            "Every live post names a candidate of the registry (by name, handle or account); "
            "a warning: Bluesky's search also matches text elex does not see (alt text, cards).",
            lambda df, ref, reg: quality.rows_name_a_candidate(df, where=live),
            severity=dg.AssetCheckSeverity.WARN,
        ),
    ])


def _wiki_checks(key: dg.AssetKey, parts: dg.PartitionsDefinition) -> dg.AssetChecksDefinition:
    """``wiki_pageviews``: one row per candidate, project and day, every article asked present,
    counts >= 0; a warning for articles Wikimedia sent nothing for (a wrong or redirect title)."""
    from elex_assets.core.wiki import quality as wq
    from elex_assets.core.wiki.collect import build_targets
    from elex_assets.settings import WikiSettings, XSettings

    def read(lake: Any, ref: PartitionRef) -> pl.DataFrame:
        return wq.read_wiki_day(lake, ref.day, WIKI_PAGEVIEWS.polars)

    def expected(reg: RegistryResource) -> list[tuple[str, str]]:
        # the resource's selection (X_MIN_STATUS) and languages (WIKIMEDIA_LANGUAGES)
        wiki, x = WikiSettings.load(), XSettings.load()
        targets = build_targets(reg.load().selected(x.min_status), wiki.languages)
        return [(t.candidate_id, t.project) for t in targets]

    required = WIKI_PAGEVIEWS.required
    return _checks_def(key, parts, read, [
        _Rule("required_columns", f"Required columns are non-null: {', '.join(required)}.",
              lambda df, ref, reg: quality.required_not_null(df, required)),
        _Rule("one_row_per_article", "One row per candidate, project and day.",
              lambda df, ref, reg: wq.one_row_per_article(df)),
        _Rule("rows_on_day", "Every row is of the partition's day.",
              lambda df, ref, reg: wq.rows_on_day(df, ref.day)),
        _Rule("views_are_counts", "Every view count is a number >= 0.",
              lambda df, ref, reg: wq.views_are_counts(df)),
        _Rule("articles_present",
              "Every selected candidate's article in each collected language has its row.",
              lambda df, ref, reg: wq.articles_present(df, expected(reg))),
        _Rule("articles_answered",
              "Wikimedia recorded views for every article that day; a warning: a day with no "
              "view is stored as 0, and a title that is wrong or a redirect looks like that.",
              lambda df, ref, reg: wq.articles_answered(df),
              severity=dg.AssetCheckSeverity.WARN),
    ])


def _trends_checks(
    name: str, key: dg.AssetKey, parts: dg.PartitionsDefinition | None
) -> list[dg.AssetChecksDefinition]:
    kind = trends_kind(name)
    schema = TRENDS[kind]

    def read(lake: Any, ref: PartitionRef) -> pl.DataFrame:
        if ref.area is None:
            raise ValueError(f"{name} partition has no area: expected keys like fr|2026-11-20")
        return quality.read_trends_day(lake, kind, ref.area, ref.day, schema.polars)

    def selected(reg: RegistryResource) -> list[str]:
        return [c.id for c in reg.load().selected()]

    where = pl.col("ranking") == "top" if kind.startswith("related_") else None
    rules = [
        _Rule(
            "required_columns",
            f"Required columns are non-null: {', '.join(schema.required)}.",
            lambda df, ref, reg: quality.required_not_null(df, schema.required),
        ),
        _Rule(
            "candidates_present",
            "Every selected candidate of the registry has rows in the partition.",
            lambda df, ref, reg: quality.candidates_present(df, selected(reg)),
            # Related lists and small regions can legitimately be empty for a minor
            # candidate; only the interest time series must cover everyone.
            severity=dg.AssetCheckSeverity.ERROR
            if kind == "interest_over_time"
            else dg.AssetCheckSeverity.WARN,
        ),
        _Rule(
            "interest_in_range",
            "Interest values are within 0-100" + (" (top lists)." if where is not None else "."),
            lambda df, ref, reg: quality.interest_in_range(df, where=where),
        ),
    ]
    return [_checks_def(key, parts, read, rules)]
