"""One X API v1.1 status object -> one row of the ``TWEETS`` schema (v2-like columns).

Both raw stream formats (JSON lines, and the pandas CSV of dict reprs) end here,
so a v1.1 field is mapped in one place:

* ``id_str`` -> ``id``; ``timestamp_ms`` (epoch milliseconds) -> ``created_at`` (UTC),
  falling back to ``created_at`` ("Wed Oct 10 20:19:24 +0000 2018", whole seconds):
  the 2017 SQLite kept only ``timestamp_ms``, so both paths give a post one time;
* full text from ``extended_tweet.full_text`` when present (the stream truncates
  ``text`` to 140 characters), else ``full_text``, else ``text``;
* ``post_type``: ``retweeted_status`` -> retweet, else ``quoted_status`` -> quote,
  else ``in_reply_to_status_id_str`` -> reply, else original; ``referenced_*``
  describe that post (a reply has no referenced text: v1.1 does not embed it);
* entities (of ``extended_tweet`` when present) -> hashtags, mentions, expanded URLs;
* ``favorite_count`` -> ``like_count``; v1.1 has no impressions nor conversation id.

A message that is not a post (limit notice, delete, withheld, ...) is classified,
not mapped, so the caller can count it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from elex_assets.core.archive import report as r

NOTICE_KEYS = (
    "delete",
    "scrub_geo",
    "status_withheld",
    "user_withheld",
    "disconnect",
    "warning",
    "event",
    "friends",
)
V1_TIME_FORMAT = "%a %b %d %H:%M:%S %z %Y"
MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


def classify(message: dict[str, Any]) -> str | None:
    """None for a post, else the malformed reason (a notice or an incomplete object)."""
    if _present(message.get("limit")):
        return r.LIMIT_NOTICE
    if any(_present(message.get(k)) for k in NOTICE_KEYS):
        return r.OTHER_NOTICE
    if not _present(message.get("id_str")) and not _present(message.get("id")):
        has_text = any(_present(message.get(k)) for k in ("text", "full_text"))
        return r.MISSING_ID if has_text else r.NOT_A_POST
    if parse_time(message) is None:
        has_time = _present(message.get("created_at")) or _present(message.get("timestamp_ms"))
        return r.BAD_TIMESTAMP if has_time else r.MISSING_TIMESTAMP
    return None


@lru_cache(maxsize=65536)
def parse_v1_time(text: str) -> datetime | None:
    """``Wed Oct 10 20:19:24 +0000 2018`` -> UTC (hand-parsed: strptime dominated imports)."""
    parts = text.split()
    try:
        _weekday, month, day, clock, offset, year = parts
        hour, minute, second = clock.split(":")
        sign = -1 if offset[0] == "-" else 1
        delta = timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])) * sign
        local = datetime(
            int(year), MONTHS[month], int(day), int(hour), int(minute), int(second), tzinfo=UTC
        )
    except (ValueError, KeyError, IndexError):
        try:
            return datetime.strptime(text.strip(), V1_TIME_FORMAT).astimezone(UTC)
        except ValueError:
            return None
    return local - delta


def parse_time(message: dict[str, Any]) -> datetime | None:
    """``timestamp_ms`` (millisecond precision) first, else ``created_at`` (seconds)."""
    millis = message.get("timestamp_ms")
    if _present(millis):
        parsed = parse_millis(millis)
        if parsed is not None:
            return parsed
    created = message.get("created_at")
    if isinstance(created, str) and created.strip():
        return parse_v1_time(created)
    return None


def parse_millis(value: Any) -> datetime | None:
    """Epoch milliseconds (int, or text as v1.1 sends it) -> UTC, exact to the millisecond."""
    try:
        millis = int(value) if isinstance(value, int) else int(str(value).strip())
    except ValueError:
        try:
            millis = int(float(str(value)))
        except (TypeError, ValueError, OverflowError):
            return None
    except (TypeError, OverflowError):
        return None
    try:
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=millis)
    except OverflowError:
        return None


def full_text(status: dict[str, Any] | None) -> str | None:
    if not isinstance(status, dict):
        return None
    extended = status.get("extended_tweet")
    if isinstance(extended, dict) and _present(extended.get("full_text")):
        return str(extended["full_text"])
    for key in ("full_text", "text"):
        if _present(status.get(key)):
            return str(status[key])
    return None


def status_to_row(status: dict[str, Any], query: str, source: str) -> dict[str, Any]:
    """Map a post (``classify(status) is None``) to a ``TWEETS`` row."""
    created = parse_time(status)
    user = _dict(status.get("user"))
    retweeted = _dict(status.get("retweeted_status"))
    quoted = _dict(status.get("quoted_status"))
    if retweeted:
        post_type = "retweet"
        ref_id, ref_user = _id(retweeted), _dict(retweeted.get("user")).get("screen_name")
        ref_text = full_text(retweeted)
    elif quoted or _present(status.get("quoted_status_id_str")):
        post_type = "quote"
        ref_id = _id(quoted) or _str(status.get("quoted_status_id_str"))
        ref_user, ref_text = _dict(quoted.get("user")).get("screen_name"), full_text(quoted)
    elif _present(status.get("in_reply_to_status_id_str")):
        post_type = "reply"
        ref_id = _str(status.get("in_reply_to_status_id_str"))
        ref_user, ref_text = status.get("in_reply_to_screen_name"), None
    else:
        post_type, ref_id, ref_user, ref_text = "original", None, None, None
    extended = _dict(status.get("extended_tweet"))
    entities = _dict(extended.get("entities")) or _dict(status.get("entities"))
    return {
        "id": _id(status),
        "created_at": created,
        "text": full_text(status),
        "lang": _str(status.get("lang")),
        "author_id": _id(user),
        "author_username": _str(user.get("screen_name")),
        "author_name": _str(user.get("name")),
        "author_location": _str(user.get("location")),
        "post_type": post_type,
        "referenced_id": ref_id,
        "referenced_author_username": _str(ref_user),
        "referenced_text": ref_text,
        "retweet_count": _int(status.get("retweet_count")),
        "reply_count": _int(status.get("reply_count")),
        "like_count": _int(status.get("favorite_count")),
        "quote_count": _int(status.get("quote_count")),
        "hashtags": _entity(entities, "hashtags", "text"),
        "mentions": _entity(entities, "user_mentions", "screen_name"),
        "urls": _entity(entities, "urls", "expanded_url"),
        "query": query,
        "collected_at": created,
        "source": source,
    }


def _present(value: Any) -> bool:
    return value is not None and value != "" and value is not False


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _id(obj: dict[str, Any]) -> str | None:
    if _present(obj.get("id_str")):
        return str(obj["id_str"])
    value = obj.get("id")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.isdigit():
        return value
    return None


def _int(value: Any) -> int | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return int(float(value)) if isinstance(value, str) else int(value)
    except (TypeError, ValueError, OverflowError):
        return None


def _entity(entities: dict[str, Any], kind: str, field: str) -> list[str]:
    items = entities.get(kind)
    if not isinstance(items, list):
        return []
    return [str(i[field]) for i in items if isinstance(i, dict) and _present(i.get(field))]
