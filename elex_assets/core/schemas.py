"""Column schemas of the clean tables: one definition for writers, readers and docs.

The X collector, the archive importers, the data checks and the Kaggle export
all read these; the column descriptions become the Kaggle dataset's schema.
Ids are strings, as the X API v2 returns them (they exceed JavaScript's and
spreadsheets' integer precision); legacy rows without a post id have it null.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

UTC_TS = pl.Datetime("us", "UTC")


@dataclass(frozen=True)
class Column:
    name: str
    dtype: pl.DataType
    description: str
    required: bool = False  # must be non-null in every row


@dataclass(frozen=True)
class TableSchema:
    name: str
    columns: tuple[Column, ...]

    @property
    def polars(self) -> pl.Schema:
        return pl.Schema({c.name: c.dtype for c in self.columns})

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def empty(self) -> pl.DataFrame:
        return pl.DataFrame(schema=self.polars)

    def conform(self, df: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame | pl.LazyFrame:
        """Select the schema's columns in order, casting, adding missing ones as null."""
        present = set(df.collect_schema().names())
        return df.select(
            [
                pl.col(c.name).cast(c.dtype)
                if c.name in present
                else pl.lit(None, c.dtype).alias(c.name)
                for c in self.columns
            ]
        )


TWEETS = TableSchema(
    "tweets",
    (
        Column(
            "id",
            pl.String,
            "Post id (X snowflake id, as a string); null for 2017 archive rows",
            False,
        ),
        Column("created_at", UTC_TS, "When the post was created (UTC)", True),
        Column("text", pl.String, "Full text of the post", False),
        Column("lang", pl.String, "Language detected by X (BCP 47)"),
        Column("author_id", pl.String, "Author's user id"),
        Column("author_username", pl.String, "Author's handle, without @"),
        Column("author_name", pl.String, "Author's display name"),
        Column("author_location", pl.String, "Author's self-declared location"),
        Column("conversation_id", pl.String, "Id of the post that started the conversation"),
        Column("post_type", pl.String, "original, reply, quote or retweet", True),
        Column("referenced_id", pl.String, "Id of the post replied to, quoted or retweeted"),
        Column("referenced_author_username", pl.String, "Handle of the referenced post's author"),
        Column("referenced_text", pl.String, "Text of the quoted or retweeted post"),
        Column("retweet_count", pl.Int64, "Reposts, when collected"),
        Column("reply_count", pl.Int64, "Replies, when collected"),
        Column("like_count", pl.Int64, "Likes, when collected"),
        Column("quote_count", pl.Int64, "Quotes, when collected"),
        Column("impression_count", pl.Int64, "Impressions, when collected"),
        Column("hashtags", pl.List(pl.String), "Hashtags, without #"),
        Column("mentions", pl.List(pl.String), "Mentioned handles, without @"),
        Column("urls", pl.List(pl.String), "Expanded URLs"),
        Column("candidates", pl.List(pl.String), "Ids of the candidates the post names", True),
        Column("query", pl.String, "The search query (or stream rule / archive) that found it"),
        Column("collected_at", UTC_TS, "When elex collected this version of the post (UTC)", True),
        Column("source", pl.String, "x_search_recent, x_search_all, x_stream, archive_*", True),
        Column(
            "text_from_note_tweet", pl.Boolean,
            "True when text is the full text of a long post (X's note_tweet), not the cut text",
        ),
        Column(
            "edit_history_tweet_ids", pl.List(pl.String),
            "Ids of the post's versions, oldest first (posts may be edited for 30 minutes)",
        ),
    ),
)

_TRENDS_COMMON = (
    Column("date", pl.Date, "Day of the partition (UTC)", True),
    Column("area", pl.String, "fr (geo FR, French) or world (worldwide, English)", True),
    Column("candidate_id", pl.String, "Candidate id from the registry", True),
    Column("keyword", pl.String, "Search term sent to Google Trends", True),
)

# The last columns of every Trends table: when elex collected the row, and from what
# (its own collection or an archive, and that request's window); the interest tables add
# the backend that served it.
_TRENDS_PROVENANCE = (
    Column("collected_at", UTC_TS, "When elex collected it (UTC)", True),
    Column(
        "source",
        pl.String,
        "Provenance: null for elex's own collection, archive_* for an imported old collection",
    ),
    Column(
        "timeframe",
        pl.String,
        "Google Trends window of the original request of an imported row (e.g. now 7-d)",
    ),
)
_TRENDS_BACKEND = Column(
    "backend",
    pl.String,
    "web (trends.google.com via pytrends) or official (Google Trends API alpha)",
)

# The official API's searchInterest: its own unit, never mixed with value_comparable's.
_SEARCH_INTEREST_SHARE = Column(
    "search_interest_share",
    pl.Float64,
    "Official backend only: Google's searchInterest, a share of all searches on one scale "
    "across requests, terms and days (rounded by Google to 2 significant digits; 0 below "
    "its privacy threshold); null for web rows",
)

TRENDS_INTEREST_OVER_TIME = TableSchema(
    "trends_interest_over_time",
    (
        *_TRENDS_COMMON,
        Column("timestamp", UTC_TS, "Start of the interval (UTC)", True),
        Column("value", pl.Int64, "Google's value, 0-100 scaled within its request", True),
        Column(
            "value_comparable",
            pl.Float64,
            "Interest rescaled on the shared anchor term: comparable across candidates of the day "
            "(web backend, in % of the anchor's mean that day; null for official rows)",
        ),
        _SEARCH_INTEREST_SHARE,
        Column("batch", pl.Int64, "Which request (batch of at most 5 terms incl. the anchor)"),
        Column(
            "anchor",
            pl.String,
            "Anchor term the row was read beside (TRENDS_ANCHOR, or a smaller chained anchor "
            "for small candidates; value_comparable is always in TRENDS_ANCHOR's unit)",
        ),
        Column("is_partial", pl.Boolean, "Google flags the interval's data as partial"),
        *_TRENDS_PROVENANCE,
        _TRENDS_BACKEND,
    ),
)

TRENDS_INTEREST_BY_REGION = TableSchema(
    "trends_interest_by_region",
    (
        *_TRENDS_COMMON,
        Column("geo_code", pl.String, "Region (FR-xx) or country (ISO 3166) code", True),
        Column("geo_name", pl.String,
               "Region or country name (web backend); null for official rows, which Google "
               "names by code only"),
        Column("value", pl.Int64, "Google's value, 0-100 scaled within its request", True),
        _SEARCH_INTEREST_SHARE,
        *_TRENDS_PROVENANCE,
        _TRENDS_BACKEND,
    ),
)

TRENDS_RELATED_TOPICS = TableSchema(
    "trends_related_topics",
    (
        *_TRENDS_COMMON,
        Column("ranking", pl.String, "top or rising", True),
        Column("rank", pl.Int64, "Position in Google's list (0 = first)", True),
        Column("topic_mid", pl.String, "Knowledge-graph id of the topic"),
        Column("topic_title", pl.String, "Topic title", True),
        Column("topic_type", pl.String, "Topic type (e.g. Politician)"),
        Column("value", pl.Int64, "Relative value (top: 0-100; rising: % increase)"),
        Column("formatted_value", pl.String, "Value as Google shows it (e.g. Breakout, +350%)"),
        *_TRENDS_PROVENANCE,
    ),
)

TRENDS_RELATED_QUERIES = TableSchema(
    "trends_related_queries",
    (
        *_TRENDS_COMMON,
        Column("ranking", pl.String, "top or rising", True),
        Column("rank", pl.Int64, "Position in Google's list (0 = first)", True),
        Column("query", pl.String, "Related search query", True),
        Column("value", pl.Int64, "Relative value (top: 0-100; rising: % increase)"),
        Column("formatted_value", pl.String, "Value as Google shows it (e.g. Breakout, +350%)"),
        *_TRENDS_PROVENANCE,
    ),
)

# Export-only column: the weekly ``tweets`` files carry this short id instead of the
# query text (about 500-1,000 characters, repeated on every row before).
QUERY_ID = Column(
    "query_id",
    pl.String,
    "Short id of the search query (or stream rule / archive) that found the post; "
    "its full text is in <election>/queries.csv",
)

TRENDS = {
    "interest_over_time": TRENDS_INTEREST_OVER_TIME,
    "interest_by_region": TRENDS_INTEREST_BY_REGION,
    "related_topics": TRENDS_RELATED_TOPICS,
    "related_queries": TRENDS_RELATED_QUERIES,
}

# Bluesky posts (issue 17): the core columns of ``tweets`` under the same names, so the
# two platforms stack side by side, plus what only Bluesky has and ``platform``.
BSKY_POSTS = TableSchema(
    "bsky_posts",
    (
        Column("id", pl.String, "Post AT URI (at://<author DID>/app.bsky.feed.post/<rkey>)", True),
        Column("created_at", UTC_TS, "When the post says it was created (UTC)", True),
        Column("text", pl.String, "Text of the post (null once deleted)"),
        Column("lang", pl.String, "First language the author declared (BCP 47)"),
        Column("author_id", pl.String, "Author's DID"),
        Column("author_username", pl.String, "Author's handle (a domain name) when collected"),
        Column("author_name", pl.String, "Author's display name"),
        Column("conversation_id", pl.String, "AT URI of the thread's root post"),
        Column("post_type", pl.String, "original, reply, quote, or deleted (a tombstone)", True),
        Column("referenced_id", pl.String, "AT URI of the post replied to or quoted"),
        Column("referenced_author_username", pl.String, "Handle of the quoted post's author"),
        Column("referenced_text", pl.String, "Text of the quoted post"),
        Column("retweet_count", pl.Int64, "Reposts, when collected (named as in tweets)"),
        Column("reply_count", pl.Int64, "Replies, when collected"),
        Column("like_count", pl.Int64, "Likes, when collected"),
        Column("quote_count", pl.Int64, "Quotes, when collected"),
        Column("hashtags", pl.List(pl.String), "Hashtags (tag facets), without #"),
        Column("mentions", pl.List(pl.String), "Mentioned handles (mention facets), without @"),
        Column("urls", pl.List(pl.String), "Linked URLs (link facets and external embeds)"),
        Column("candidates", pl.List(pl.String), "Ids of the candidates the post names", True),
        Column("query", pl.String, "The searchPosts query that found it ([lang|]q)"),
        Column("collected_at", UTC_TS, "When elex collected this version of the post (UTC)", True),
        Column("source", pl.String, "bsky_search", True),
        Column("platform", pl.String, "bluesky", True),
        Column("cid", pl.String, "Content id of the record version collected"),
        Column("indexed_at", UTC_TS, "When Bluesky's index saw the post (UTC)"),
        Column("reply_root_id", pl.String, "AT URI of the thread's root, for a reply"),
        Column("reply_parent_id", pl.String, "AT URI of the post replied to"),
        Column("quote_id", pl.String, "AT URI of the quoted post"),
        Column("deleted_at", UTC_TS, "When elex found the post deleted (tombstone); else null"),
    ),
)

TWEET_COUNTS = TableSchema(
    "tweet_counts",
    (
        Column("hour", UTC_TS, "Start of the hour (UTC)", True),
        Column(
            "candidate_id", pl.String,
            "Candidate id from the registry; _all for the union of every candidate's terms", True,
        ),
        Column("post_count", pl.Int64, "Posts matching the candidate's terms in the hour (X counts)",
               True),
        Column("endpoint", pl.String, "X counts endpoint: recent (7 days) or all (full archive)",
               True),
        Column("collected_at", UTC_TS, "When elex asked X for the counts (UTC)", True),
    ),
)
# ---- reference files of the Kaggle dataset (one per election, written by kaggle_dataset) ----

CANDIDATES_FILE = TableSchema(
    "candidates",
    (
        Column("candidate_id", pl.String, "Candidate id used in every other file", True),
        Column("name", pl.String, "Full name", True),
        Column("party", pl.String, "Party or movement"),
        Column("group", pl.String, "Political family (far-left ... far-right)"),
        Column("status", pl.String, "withdrawn, potential or declared", True),
        Column("status_code", pl.Int64, "-1 withdrawn, 0 potential, 1 declared", True),
        Column("status_as_of", pl.Date, "Day the status was last checked"),
        Column("collected", pl.Boolean, "Whether elex searched X for this candidate", True),
        Column("person_accounts", pl.List(pl.String), "The candidate's own X handles"),
        Column("party_accounts", pl.List(pl.String), "X handles of the candidate's party"),
        Column(
            "search_terms",
            pl.List(pl.String),
            "The exact X search terms for the candidate (exact name, @handle, from:handle)",
        ),
    ),
)

QUERIES_FILE = TableSchema(
    "queries",
    (
        Column("query_id", pl.String, "Short id of the query, as in the weekly tweets files", True),
        Column("query", pl.String, "The exact query text sent to X (or stream rule / archive)", True),
        Column(
            "candidates",
            pl.List(pl.String),
            "Ids of the candidates whose search terms the query carries",
        ),
        Column("first_week", pl.String, "First ISO week (YYYY-Www) with a post found by it", True),
        Column("last_week", pl.String, "Last ISO week (YYYY-Www) with a post found by it", True),
    ),
)

# Wikipedia pageviews (issue 27): one row per candidate, project and UTC day.
WIKI_PAGEVIEWS = TableSchema(
    "wiki_pageviews",
    (
        Column("day", pl.Date, "UTC day the views were counted", True),
        Column("candidate_id", pl.String, "Candidate id from the registry", True),
        Column("project", pl.String, "Wikimedia project: fr.wikipedia or en.wikipedia", True),
        Column("article", pl.String, "Article title asked, as Wikipedia writes it (underscores)",
               True),
        Column("views", pl.Int64, "Views of the article that day by the agent (Wikimedia)", True),
        Column("agent", pl.String, "Wikimedia agent type counted: user (people, not bots)", True),
        Column("access", pl.String, "Wikimedia access method: all-access (desktop and mobile)",
               True),
        Column(
            "zero_filled", pl.Boolean,
            "True when Wikimedia sent no row for a day it had loaded (0 views, stored by elex)",
            True,
        ),
        Column("collected_at", UTC_TS, "When elex asked Wikimedia (UTC)", True),
    ),
)
