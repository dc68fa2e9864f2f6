"""Where each dataset lives in the lake (keys relative to the lake root).

One module owns the lake layout (docs/architecture.md, "The lake") so that writers, readers, monitors and
exporters can never disagree on a path.
"""

from __future__ import annotations

from datetime import date, datetime

RAW_TWEETS = "raw/tweets"
CLEAN_TWEETS = "clean/tweets"
KAGGLE = "kaggle"
KAGGLE_METADATA = f"{KAGGLE}/dataset-metadata.json"
REGISTRY = "registry"
TRENDS_KINDS = ("interest_over_time", "interest_by_region", "related_topics", "related_queries")
AREAS = ("fr", "world")


def raw_tweets_prefix(day: date) -> str:
    return f"{RAW_TWEETS}/date={day.isoformat()}/"


def raw_tweets_key(day: date, collected_at: datetime, run_id: str) -> str:
    stamp = collected_at.strftime("%Y%m%dT%H%M%S%fZ")
    return f"{raw_tweets_prefix(day)}{stamp}-{run_id}.jsonl.gz"


def x_usage_key(month: str) -> str:
    """Posts read from the X API in a calendar month (``YYYY-MM``), for the budget."""
    return f"state/x_usage/{month}.json"


def clean_tweets_prefix(day: date) -> str:
    return f"{CLEAN_TWEETS}/date={day.isoformat()}/"


def clean_tweets_key(day: date) -> str:
    """The live collector's file for a day (from ``raw_tweets``)."""
    return f"{clean_tweets_prefix(day)}part-0.parquet"


def tweets_summary_key(day: date) -> str:
    """What the day's ``tweets`` file holds (rows, per candidate, preview, fingerprint), so a
    refresh with nothing new and the checks need not download it (``core.x.tweets_day``)."""
    return f"state/tweets_summary/date={day.isoformat()}.json"


def archive_tweets_key(day: date, source: str) -> str:
    """An imported legacy collection's file for a day, beside the live one.

    Readers of a day (exports, checks) read every ``*.parquet`` under
    ``clean_tweets_prefix(day)``, so live and archived posts meet in one table.
    """
    return f"{clean_tweets_prefix(day)}archive-{source}.parquet"


def clean_trends_prefix(kind: str, area: str, day: date) -> str:
    if kind not in TRENDS_KINDS:
        raise ValueError(f"unknown trends kind {kind!r}; expected one of {TRENDS_KINDS}")
    if area not in AREAS:
        raise ValueError(f"unknown area {area!r}; expected one of {AREAS}")
    return f"clean/trends_{kind}/area={area}/date={day.isoformat()}/"


def archive_trends_key(kind: str, area: str, day: date, source: str) -> str:
    return f"{clean_trends_prefix(kind, area, day)}archive-{source}.parquet"


def clean_trends_key(kind: str, area: str, day: date) -> str:
    return f"{clean_trends_prefix(kind, area, day)}part-0.parquet"


def trends_revisions_key(kind: str, area: str, day: date) -> str:
    """Every distinct revision of an official-backend day (``collected_at`` tells them apart).

    Outside ``clean/trends_<kind>/`` (a prefix of its own) so that readers of the clean table (exports, checks)
    see only the newest revision.
    """
    if kind not in TRENDS_KINDS:
        raise ValueError(f"unknown trends kind {kind!r}; expected one of {TRENDS_KINDS}")
    return f"clean/trends_revisions/{kind}/area={area}/date={day.isoformat()}/part-0.parquet"


def kaggle_key(
    election: str, source: str, iso_year: int, iso_week: int, ext: str = "csv.gz"
) -> str:
    return f"{KAGGLE}/{election}/{source}/{iso_year:04d}_{iso_week:02d}.{ext}"


def registry_key(election: str) -> str:
    return f"{REGISTRY}/election={election}/candidates.json"


def kaggle_manifest_key(election: str, source: str, iso_year: int, iso_week: int) -> str:
    """What one weekly export holds (rows, coverage, missing days); not published."""
    return f"meta/{KAGGLE}/{election}/{source}/{iso_year:04d}_{iso_week:02d}.json"


def kaggle_published_key() -> str:
    """Which exported files the last successful Kaggle publication carried."""
    return f"meta/{KAGGLE}/published.json"


# ---- Bluesky (issue 17) -----------------------------------------------------------
RAW_BSKY_POSTS = "raw/bsky_posts"
CLEAN_BSKY_POSTS = "clean/bsky_posts"
BSKY_COMPLIANCE = "state/compliance/bsky"


def raw_bsky_prefix(day: date) -> str:
    return f"{RAW_BSKY_POSTS}/date={day.isoformat()}/"


def raw_bsky_key(day: date, collected_at: datetime, run_id: str) -> str:
    stamp = collected_at.strftime("%Y%m%dT%H%M%S%fZ")
    return f"{raw_bsky_prefix(day)}{stamp}-{run_id}.jsonl.gz"


def clean_bsky_prefix(day: date) -> str:
    return f"{CLEAN_BSKY_POSTS}/date={day.isoformat()}/"


def clean_bsky_key(day: date) -> str:
    return f"{clean_bsky_prefix(day)}part-0.parquet"


def bsky_compliance_prefix(day: date) -> str:
    """One JSON log per compliance check of a day: what was checked, what was deleted."""
    return f"{BSKY_COMPLIANCE}/date={day.isoformat()}/"


def bsky_cooldown_key() -> str:
    """Until when Bluesky asked us to stop (a rate-limit reset beyond what a run waits)."""
    return "state/bsky_cooldown.json"


CLEAN_TWEET_COUNTS = "clean/tweet_counts"


def clean_tweet_counts_prefix(day: date) -> str:
    return f"{CLEAN_TWEET_COUNTS}/date={day.isoformat()}/"


def clean_tweet_counts_key(day: date) -> str:
    """Hourly post counts per candidate for a day (X counts endpoints)."""
    return f"{clean_tweet_counts_prefix(day)}part-0.parquet"


KAGGLE_STAGED = f"meta/{KAGGLE}/staged"


def kaggle_staged_key(final_key: str, export_id: str) -> str:
    """Where an export writes a weekly file before its manifest, outside ``kaggle/``.

    ``kaggle/2027/tweets/2026_48.csv.gz`` -> ``meta/kaggle/staged/2027/tweets/2026_48.<id>.csv.gz``:
    the publishable folder never holds a file still being written.
    """
    rel = final_key.removeprefix(f"{KAGGLE}/")
    folder, _, name = rel.rpartition("/")
    stem, _, ext = name.partition(".")
    return f"{KAGGLE_STAGED}/{folder}/{stem}.{export_id}.{ext}"


# ---- Wikipedia pageviews (issue 27) ------------------------------------------------
CLEAN_WIKI_PAGEVIEWS = "clean/wiki_pageviews"


def clean_wiki_prefix(day: date) -> str:
    return f"{CLEAN_WIKI_PAGEVIEWS}/date={day.isoformat()}/"


def clean_wiki_key(day: date) -> str:
    """Daily pageviews per candidate and project (Wikimedia Pageviews API)."""
    return f"{clean_wiki_prefix(day)}part-0.parquet"
