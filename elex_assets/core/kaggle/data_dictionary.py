"""``DATA_DICTIONARY.md``: every file family of the dataset and every column, for its readers.

Column names, types and meanings come from ``schemas.py`` (through the export's
column lists), so the dictionary cannot drift from the files; this module only
adds what a schema cannot say: what one row is, how the family was collected,
the unit of each measure and the caveats (sampling, the comparable Trends
scale, compliance removals).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import polars as pl

from elex_assets.core.kaggle.export import LIST_SEPARATOR, export_columns
from elex_assets.core.schemas import CANDIDATES_FILE, QUERIES_FILE, Column

# The tweet_counts family is built on another branch; its contract columns are documented
# here until its schema joins schemas.py (then the schema's descriptions are used).
TWEET_COUNTS_CONTRACT = (
    Column("hour", pl.Datetime("us", "UTC"), "Start of the hour (UTC)", True),
    Column(
        "candidate_id",
        pl.String,
        "Candidate id from candidates.csv; `_all` is the union of every candidate's terms",
        True,
    ),
    Column("post_count", pl.Int64, "Posts X counted for the candidate's terms in the hour", True),
    Column("endpoint", pl.String, "X counts endpoint: recent (7 days) or all (full archive)"),
    Column("collected_at", pl.Datetime("us", "UTC"), "When elex asked X (UTC)", True),
)

UNITS = {
    "retweet_count": "posts",
    "reply_count": "posts",
    "like_count": "likes",
    "quote_count": "posts",
    "impression_count": "views",
    "post_count": "posts per hour",
    "value": "index 0-100 (per request)",
    "value_comparable": "% of the anchor's mean interest that day",
    "search_interest_share": "Google's share of searches, one scale for all requests "
    "(official backend)",
    "rank": "position (0 = first)",
    "batch": "request number",
    "views": "page views per day",
}


@dataclass(frozen=True)
class Family:
    """What the dictionary (and the dataset's description) says of one file family.

    ``label`` names the family in the description's coverage line ("posts on X");
    ``platform`` is the service it comes from, named in the dataset's title and subtitle.
    """

    title: str
    path: str
    row: str
    collection: str
    caveats: tuple[str, ...] = field(default_factory=tuple)
    label: str = ""
    platform: str = ""

    def missing(self) -> list[str]:
        """The parts a reader needs that this entry leaves empty."""
        parts = {"title": self.title, "file pattern": self.path, "one row is": self.row,
                 "collected by": self.collection, "label": self.label,
                 "platform": self.platform}
        return [name for name, value in parts.items() if not value.strip()]


POSTS_PLANS = {
    "full": "every post X search returned for the queries (within the monthly budget, if set)",
    "sample": "a sample: a daily post budget spread evenly over the day's hours, so every "
    "hour is represented but volumes are not; use `tweet_counts` for volumes",
    "off": "no posts: counts only (`tweet_counts`)",
}

FAMILIES = {
    "tweets": Family(
        "Posts on X naming the candidates",
        "<election>/tweets/<ISO year>_<ISO week>.csv.gz",
        "one post (its most recently collected version: metrics are the newest seen)",
        "X API v2 search (recent search every 5 minutes for the current day, full days "
        "re-fetched for backfills) with the queries of `queries.csv`, languages fr and en; "
        "a post is matched to every candidate whose name, distinctive surname or handle it "
        "contains (its text, the text it quotes or retweets, or its author).",
        (
            "Sampling: see the posts plan in the description. Under a `sample` plan, count "
            "posts from `tweet_counts`, not from this file.",
            "Content policy `ids` (default): no text, handles or names, as X's terms require; "
            "re-hydrate the ids with your own X API access (starter notebook).",
            "Compliance removals: posts that X reports deleted, or whose author was suspended "
            "or protected, are removed from the lake and from every weekly file by the weekly "
            "`x_compliance` job; re-downloaded weeks may therefore hold fewer rows than before.",
            "2017 archive rows have no post id, handle or metrics (empty fields).",
        ),
        label="posts on X",
        platform="X",
    ),
    "tweet_counts": Family(
        "Hourly post counts per candidate (X counts API)",
        "<election>/tweet_counts/<ISO year>_<ISO week>.csv.gz",
        "one candidate (or `_all`) in one UTC hour",
        "X API v2 `GET /2/tweets/counts/recent` (or `/all`), one counts query per candidate "
        "built from the same terms as the search queries, plus the union of all terms (`_all`).",
        (
            "Complete volumes (X counts every matching post), whatever the posts plan: the "
            "right source for share of voice. `_all` counts a post once even when it names "
            "several candidates, so candidates' counts sum to more than `_all`.",
            "Counts are as X reported them when collected: later deletions are not subtracted.",
        ),
        label="hourly counts on X",
        platform="X",
    ),
    "trends_interest_over_time": Family(
        "Google Trends interest over time",
        "<election>/trends_interest_over_time/<ISO year>_<ISO week>.csv.gz",
        "one candidate, area and interval (8 minutes for recent days, one day for older ones)",
        "Google Trends, candidates asked four at a time beside a shared anchor term, for the "
        "areas `fr` (France, French) and `world` (worldwide, English).",
        (
            "`value` is Google's own 0-100 scale, relative to the maximum of its request: "
            "values of different requests are not comparable.",
            "`value_comparable` = 100 x value / mean of the anchor's values in the same "
            "request: one scale for every candidate of the day (100 = as searched as the "
            "anchor on average). Null for archive rows (no anchor was recorded).",
            "`is_partial`: Google's last interval may still grow.",
            "`backend` says which Google service served a row; the units differ. `web` rows: "
            "`value` is 0-100 within a request, `value_comparable` is in % of the anchor. "
            "`official` rows (the Google Trends API): `value` is the API's "
            "`scaledSearchInterest` (0-100 within one candidate's request), "
            "`search_interest_share` its `searchInterest`, a share of searches on one scale "
            "across candidates, days and requests (2 significant digits, 0 below Google's "
            "privacy threshold; the same past day fetched twice may differ by about 10%), and "
            "`value_comparable` is empty. Never compare `value_comparable` with "
            "`search_interest_share`.",
            "Official rows are daily, each the newest revision elex had when the weekly file "
            "was written: Google flags its last days `is_partial` and revises them, elex "
            "re-fetches them (`collected_at` says when a row was fetched).",
        ),
        label="Google Trends",
        platform="Google Trends",
    ),
    "trends_interest_by_region": Family(
        "Google Trends interest by region",
        "<election>/trends_interest_by_region/<ISO year>_<ISO week>.csv.gz",
        "one candidate, area, day and region (French regions for `fr`, countries for `world`)",
        "Google Trends, one request per candidate.",
        (
            "`value` is 0-100 per candidate's own request: compare regions, not candidates.",
            "`official` rows: `search_interest_share` is the API's `searchInterest` (one scale "
            "across requests); `geo_name` is empty because the API names areas by code "
            "(`geo_code`, ISO 3166) only.",
        ),
        label="Trends by region",
        platform="Google Trends",
    ),
    "trends_related_topics": Family(
        "Google Trends related topics",
        "<election>/trends_related_topics/<ISO year>_<ISO week>.csv.gz",
        "one topic of a candidate's top or rising list, for one area and day",
        "Google Trends, one request per candidate (Google serves related topics only for those).",
        ("`rising` values are % increases; `Breakout` means more than +5000%.",),
        label="Trends related topics",
        platform="Google Trends",
    ),
    "trends_related_queries": Family(
        "Google Trends related queries",
        "<election>/trends_related_queries/<ISO year>_<ISO week>.csv.gz",
        "one query of a candidate's top or rising list, for one area and day",
        "Google Trends, one request per candidate.",
        ("`rising` values are % increases; `Breakout` means more than +5000%.",),
        label="Trends related queries",
        platform="Google Trends",
    ),
    "bsky_posts": Family(
        "Posts on Bluesky naming the candidates",
        "<election>/bsky_posts/<ISO year>_<ISO week>.csv.gz",
        "one Bluesky post (its most recently collected version: metrics are the newest seen)",
        "Bluesky's `app.bsky.feed.searchPosts` (every 5 minutes for the current day), one "
        "query per term (each candidate's full name, and its Bluesky accounts as `from:` and "
        "`mentions:`), every window read to its end; a post is matched to the candidates "
        "with the same rule as on X, Bluesky handles in place of X accounts.",
        (
            "`id` is the post's AT URI (it contains the author's DID); `retweet_count` holds "
            "reposts, named as in `tweets` so the two platforms stack side by side.",
            "Content policy `ids` (default): no text, handles or names, as for X; `full` adds "
            "them.",
            "Deletions: a post Bluesky no longer serves is removed from the lake and from "
            "every weekly file by the daily `bsky_compliance` check.",
            "Complete within what searchPosts returns (no sampling), but Bluesky's search "
            "index is not the whole network.",
        ),
        label="posts on Bluesky",
        platform="Bluesky",
    ),
    "wiki_pageviews": Family(
        "Wikipedia page views per candidate",
        "<election>/wiki_pageviews/<ISO year>_<ISO week>.csv.gz",
        "one candidate's article on one Wikipedia (fr or en) on one UTC day",
        "the Wikimedia Pageviews REST API (`per-article/{project}/all-access/user/{article}/"
        "daily`), one request per article for a whole range; the article titles are in the "
        "registry (`candidates.csv` lists the candidates; the `article` column the exact title).",
        (
            "Agent `user`: views by people, as Wikimedia classifies them. Wikimedia has split "
            "`automated` traffic (bots that look like people) out of `user` only since May "
            "2020: 2017 views still include it (about 5-10% on the large Wikipedias when the "
            "split began), so compare 2017 with 2022 and 2027 with care.",
            "A day with no view is sometimes absent from Wikimedia's answer: elex stores it as 0 "
            "with `zero_filled` true, only for days Wikimedia had loaded.",
            "Only the article's own title is counted: views that reach it through a redirect "
            "(another title) are counted by Wikimedia under the redirect, not here; after a "
            "page move, views split between the old and the new title.",
            "Free and complete: every day since 2015-07-01 is available, a day landing hours "
            "to a day after it ends (UTC).",
        ),
        label="Wikipedia pageviews",
        platform="Wikipedia",
    ),
}

REFERENCE = {
    "candidates": (
        CANDIDATES_FILE,
        Family(
            "Who each candidate_id is",
            "<election>/candidates.csv",
            "one candidate of the election's registry",
            "elex's candidate registry at the time of the export (status as of `status_as_of`).",
            ("A `potential` candidate may never declare; withdrawn ones are not collected.",),
        ),
    ),
    "queries": (
        QUERIES_FILE,
        Family(
            "What each query_id asked",
            "<election>/queries.csv",
            "one distinct X search query (or stream rule / archive label)",
            "The queries the weekly tweets files refer to by `query_id`.",
            ("X limits a query's length, so a candidate's terms may span several queries.",),
        ),
    ),
}


def family(source: str) -> Family:
    """The dictionary entry of ``source``; a family without one still gets a readable
    section (its file pattern and title in words), and ``incomplete_families`` names it."""
    if source in FAMILIES:
        return FAMILIES[source]
    words = source.replace("_", " ")
    return Family(words[:1].upper() + words[1:],
                  f"<election>/{source}/<ISO year>_<ISO week>.csv.gz", "", "", label=words)


def incomplete_families(sources: Iterable[str]) -> dict[str, list[str]]:
    """Each of ``sources`` whose dictionary entry is missing or lacks a part, with what."""
    out: dict[str, list[str]] = {}
    for source in sources:
        fam = FAMILIES.get(source)
        missing = ["entry"] if fam is None else fam.missing()
        if fam is not None and fam.title.strip() == source:
            missing.append("title in words")
        if missing:
            out[source] = missing
    return out


def type_name(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.Datetime):
        return "timestamp (ISO 8601, UTC)"
    if isinstance(dtype, pl.List):
        return f"list (`{LIST_SEPARATOR}`-separated)"
    if dtype == pl.Date:
        return "date (YYYY-MM-DD)"
    if dtype == pl.Boolean:
        return "boolean (true/false)"
    if dtype.is_integer():
        return "integer"
    if dtype.is_numeric():
        return "decimal"
    return "string"


def unit_of(col: Column) -> str:
    if col.name in UNITS:
        return UNITS[col.name]
    if isinstance(col.dtype, pl.Datetime) or col.dtype == pl.Date:
        return "UTC"
    return ""


def family_columns(source: str, policy: str | None) -> list[Column]:
    try:
        return export_columns(source, policy or "full")
    except ValueError:
        if source == "tweet_counts":
            return list(TWEET_COUNTS_CONTRACT)
        return []


def _section(name: str, family: Family, columns: list[Column], note: str = "") -> list[str]:
    lines = [
        f"## `{name}`: {family.title}",
        "",
        f"- **Files:** `{family.path}`{note}",
        f"- **One row is** {family.row}.",
        f"- **Collected by** {family.collection}",
    ]
    lines += [f"- **Caveat:** {c}" for c in family.caveats]
    lines += ["", "| column | type | unit | meaning |", "|---|---|---|---|"]
    lines += [
        f"| `{c.name}` | {type_name(c.dtype)} | {unit_of(c)} | "
        f"{c.description}{' (always present)' if c.required else ''} |"
        for c in columns
    ]
    return [*lines, ""]


def data_dictionary(
    sources: dict[str, str | None], posts_plan: str = "full", generated_at: str = ""
) -> str:
    """The Markdown dictionary for the families present (``{source: content policy}``)."""
    lines = [
        "# Data dictionary",
        "",
        "Generated by elex from its column schemas"
        + (f" on {generated_at}" if generated_at else "")
        + ". Every file is UTF-8 CSV (weekly files gzip-compressed), one folder per election, "
        "one file per ISO week (Monday to Sunday, UTC).",
        "",
        "- Timestamps are ISO 8601 in UTC (`2027-04-10T18:00:00.000Z`); dates are UTC days.",
        f"- Lists are joined with `{LIST_SEPARATOR}`; an empty field is a null.",
        "- Ids (post, user, conversation) are strings of digits: read them as strings "
        "(they exceed the precision of floats and of spreadsheets).",
        f"- Posts plan of this collection: **{posts_plan}**, "
        f"{POSTS_PLANS.get(posts_plan, posts_plan)}.",
        "",
        "| family | files | one row is |",
        "|---|---|---|",
    ]
    present = [s for s in FAMILIES if s in sources] + [s for s in sources if s not in FAMILIES]
    families = {s: family(s) for s in present}
    for source, fam in families.items():
        lines.append(f"| `{source}` | `{fam.path}` | {fam.row} |")
    for name, (_, fam) in REFERENCE.items():
        lines.append(f"| `{name}` | `{fam.path}` | {fam.row} |")
    lines.append("")
    for source, fam in families.items():
        policy = sources[source]
        note = f" (content policy `{policy}`)" if policy else ""
        lines += _section(source, fam, family_columns(source, policy), note)
    for name, (schema, fam) in REFERENCE.items():
        lines += _section(name, fam, list(schema.columns))
    return "\n".join(lines)

