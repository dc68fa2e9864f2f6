"""What the filtered stream lands: one raw line per message, in the search pages' shape."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime

from elex_assets.core import layout
from elex_assets.core.lake import Lake
from elex_assets.core.registry import load_registry
from elex_assets.core.x.accounting import read_rows_and_accounting
from elex_assets.core.x.normalise import normalise_day
from elex_assets.core.x.stream import landed_line

DAY = date(2022, 4, 9)
QUOTED = "1512345678901234567"
# A filtered-stream message as X sends it when an expansion cannot be delivered (the
# quoted post was deleted): the post, its matching rule and a resource-not-found error.
MESSAGE = {
    "data": {
        "id": "1512345678901234999", "text": "N'importe quoi https://t.co/abc",
        "created_at": "2022-04-09T10:00:00.000Z", "author_id": "42", "lang": "fr",
        "edit_history_tweet_ids": ["1512345678901234999"],
        "referenced_tweets": [{"type": "quoted", "id": QUOTED}],
    },
    "includes": {"users": [{"id": "42", "name": "A", "username": "a_user"}]},
    "errors": [{
        "value": QUOTED, "detail": f"Could not find tweet with referenced_tweets.id: [{QUOTED}].",
        "title": "Not Found Error", "resource_type": "tweet", "parameter": "referenced_tweets.id",
        "resource_id": QUOTED, "type": "https://api.twitter.com/2/problems/resource-not-found",
    }],
    "matching_rules": [{"id": "r1", "tag": "q0"}],
}


def test_a_stream_message_keeps_its_partial_errors_and_they_are_counted(tmp_path) -> None:  # noqa: ANN001
    day, line = landed_line(json.dumps(MESSAGE).encode(), "run1", {"r1": "macron"})
    assert day == DAY
    assert line["request"] == {"endpoint": "stream", "query": "macron"}
    # Before the fix the errors were dropped here, so the day counted none.
    assert line["response"]["errors"] == MESSAGE["errors"]
    lake = Lake.from_url(str(tmp_path))
    key = layout.raw_tweets_key(DAY, datetime(2022, 4, 9, 10, 1, tzinfo=UTC), "run1-stream")
    lake.write_bytes(key, gzip.compress(json.dumps(line).encode() + b"\n"))
    target = layout.clean_tweets_key(DAY)
    normalise_day(lake, [key], load_registry("2022").candidates, DAY, target)
    rows, accounting = read_rows_and_accounting(lake, target)
    assert rows == 1 and accounting is not None
    assert accounting.api_errors == {"resource-not-found": 1}


def test_keep_alives_and_undated_messages_land_nothing() -> None:
    assert landed_line(b"\r\n", "run1", {}) is None
    assert landed_line(json.dumps({"data": {"id": "1"}}).encode(), "run1", {}) is None
