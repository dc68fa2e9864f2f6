"""Raw pages -> tweets: one row per post, newest metrics, candidates through includes."""

from __future__ import annotations

import gzip
import json
from datetime import date

import polars as pl
import pytest

from elex_assets.core.lake import Lake
from elex_assets.core.registry import load_registry
from elex_assets.core.schemas import TWEETS
from elex_assets.core.x.normalise import normalise_day, tweets_summary

DAY = date(2022, 4, 9)


def tweet(pid: str, text: str, author: str, **extra: object) -> dict:
    return {"id": pid, "text": text, "author_id": author, "lang": "fr",
            "created_at": "2022-04-09T12:00:00.000Z", "conversation_id": pid,
            "edit_history_tweet_ids": [pid],
            "public_metrics": {"retweet_count": 1, "reply_count": 0, "like_count": 2,
                               "quote_count": 0, "impression_count": 10}, **extra}


USERS = [
    {"id": "1", "username": "alice", "name": "Alice", "location": "Lyon"},
    {"id": "2", "username": "ZemmourEric", "name": "Éric Zemmour"},
    {"id": "3", "username": "bob", "name": "Bob"},
]


def page(collected_at: str, data: list[dict], refs: list[dict] | None = None,
         endpoint: str = "all") -> bytes:
    response = {"data": data, "includes": {"users": USERS, "tweets": refs or []},
                "meta": {"result_count": len(data)}}
    line = {"collected_at": collected_at, "endpoint": endpoint,
            "request": {"query": '("x")'}, "summary": {}, "response": response}
    return json.dumps(line, ensure_ascii=False).encode()


@pytest.fixture(params=[64 << 20, 1], ids=["one-batch", "batch-per-file"])
def table(tmp_path, request) -> pl.DataFrame:  # noqa: ANN001
    lake = Lake.from_url(str(tmp_path))
    refs = [
        tweet("90", "Emmanuel Macron en meeting à Lyon ce soir", "3"),
        tweet("91", "Marine Le Pen a dit quelque chose", "3"),
        tweet("92", "Macron, encore", "3"),
    ]
    first = [
        tweet("10", "Vote pour MÉLENCHON !", "1",
              entities={"hashtags": [{"start": 0, "end": 4, "tag": "Vote"}]}),
        tweet("11", "bravo @JLMelenchon", "1",
              entities={"mentions": [{"start": 6, "end": 18, "username": "JLMelenchon"}]}),
        tweet("12", "RT @bob: Emmanuel Mac…", "1",
              referenced_tweets=[{"type": "retweeted", "id": "90"}]),
        tweet("13", "Exactement. https://t.co/x", "1",
              referenced_tweets=[{"type": "quoted", "id": "91"}],
              entities={"urls": [{"start": 12, "end": 26, "url": "https://t.co/x",
                                  "expanded_url": "https://example.org/a"}]}),
        tweet("14", "Merci à tous", "2"),
        tweet("15", "@bob Source ?", "1",
              referenced_tweets=[{"type": "replied_to", "id": "92"}]),
        tweet("16", "Les macronistes et les pecresseux", "1"),
        tweet("17", "Valérie Pecresse et eric zemmour", "3"),
    ]
    newer = [dict(first[0], public_metrics={**first[0]["public_metrics"], "like_count": 99})]
    older = b"\n".join([page("2022-04-09T13:00:00+00:00", first, refs),
                        page("2022-04-09T13:00:01+00:00", [])])
    lake.write_bytes("raw/tweets/date=2022-04-09/a.jsonl.gz", gzip.compress(older + b"\n"))
    lake.write_bytes("raw/tweets/date=2022-04-09/b.jsonl.gz",
                     gzip.compress(page("2022-04-09T14:00:00+00:00", newer, refs) + b"\n"))
    keys = [k for k in lake.list("raw/tweets/") if k.endswith(".jsonl.gz")]
    rows = normalise_day(lake, keys, load_registry("2022").candidates, DAY, "clean/t.parquet",
                         batch_bytes=request.param)
    assert rows == 8
    return lake.read_parquet("clean/t.parquet")


def row(table: pl.DataFrame, pid: str) -> dict:
    return table.filter(pl.col("id") == pid).row(0, named=True)


def test_one_row_per_post_in_the_tweets_schema(table: pl.DataFrame) -> None:
    assert table.schema == TWEETS.polars
    assert sorted(table["id"]) == [str(i) for i in range(10, 18)]
    assert row(table, "10")["like_count"] == 99  # the newest collected version wins
    assert row(table, "10")["collected_at"].hour == 14
    assert table.select(TWEETS.required).null_count().sum_horizontal().item() == 0


def test_candidates_are_matched_by_name_handle_author_and_referenced_post(table) -> None:  # noqa: ANN001
    got = {pid: row(table, pid)["candidates"] for pid in [str(i) for i in range(10, 18)]}
    assert got["10"] == ["melenchon"]  # upper case, accent
    assert got["11"] == ["melenchon"]  # handle
    assert got["12"] == ["macron"]  # retweet: through includes.tweets
    assert got["13"] == ["le-pen"]  # quote: through includes.tweets
    assert got["14"] == ["zemmour"]  # written by the candidate's account
    assert got["15"] == []  # a reply does not inherit the text it answers
    assert got["16"] == []  # word boundaries: "macronistes" is not Macron
    assert sorted(got["17"]) == ["pecresse", "zemmour"]  # accents either way


def test_types_references_and_entities(table: pl.DataFrame) -> None:
    rt, quote, reply = row(table, "12"), row(table, "13"), row(table, "15")
    assert (rt["post_type"], rt["referenced_id"]) == ("retweet", "90")
    assert rt["referenced_text"].startswith("Emmanuel Macron")
    assert rt["referenced_author_username"] == "bob"
    assert (quote["post_type"], quote["referenced_id"]) == ("quote", "91")
    assert quote["urls"] == ["https://example.org/a"]
    assert (reply["post_type"], reply["referenced_id"], reply["referenced_text"]) == (
        "reply", "92", None)
    first = row(table, "10")
    assert first["post_type"] == "original" and first["hashtags"] == ["Vote"]
    assert first["author_username"] == "alice" and first["author_location"] == "Lyon"
    assert row(table, "11")["mentions"] == ["JLMelenchon"]
    assert first["source"] == "x_search_all"
    assert str(first["created_at"]) == "2022-04-09 12:00:00+00:00"


def test_summary_counts_posts_per_candidate(tmp_path, table) -> None:  # noqa: ANN001
    lake = Lake.from_url(str(tmp_path))
    rows, per, preview = tweets_summary(lake, "clean/t.parquet")
    assert rows == 8 and per["melenchon"] == 2 and per["zemmour"] == 2
    assert preview.height == 8


def test_no_raw_file_gives_an_empty_table(tmp_path) -> None:  # noqa: ANN001
    lake = Lake.from_url(str(tmp_path))
    normalise_day(lake, [], load_registry("2022").candidates, DAY, "clean/e.parquet")
    assert lake.read_parquet("clean/e.parquet").schema == TWEETS.polars


def test_a_day_is_normalised_again_only_when_its_inputs_change(tmp_path) -> None:  # noqa: ANN001
    lake = Lake.from_url(str(tmp_path))
    candidates = load_registry("2022").candidates
    lake.write_bytes("raw/tweets/date=2022-04-09/a.jsonl.gz", gzip.compress(
        page("2022-04-09T13:00:00+00:00", [tweet("10", "Macron", "1")]) + b"\n"))
    keys = ["raw/tweets/date=2022-04-09/a.jsonl.gz"]
    assert normalise_day(lake, keys, candidates, DAY, "clean/t.parquet") == 1
    written = lake.modified_at("clean/t.parquet")
    # nothing new: the file is kept as it is
    assert normalise_day(lake, keys, candidates, DAY, "clean/t.parquet") == 1
    assert lake.modified_at("clean/t.parquet") == written
    # a new raw file, or other candidates: normalised again
    lake.write_bytes("raw/tweets/date=2022-04-09/b.jsonl.gz", gzip.compress(
        page("2022-04-09T14:00:00+00:00", [tweet("11", "Le Pen", "1")]) + b"\n"))
    keys.append("raw/tweets/date=2022-04-09/b.jsonl.gz")
    assert normalise_day(lake, keys, candidates, DAY, "clean/t.parquet") == 2
    assert lake.read_parquet("clean/t.parquet").sort("id")["candidates"].to_list() == [
        ["macron"], ["le-pen"]]
    macron_only = [c for c in candidates if c.id == "macron"]
    assert normalise_day(lake, keys, macron_only, DAY, "clean/t.parquet") == 2
    assert lake.read_parquet("clean/t.parquet").sort("id")["candidates"].to_list() == [
        ["macron"], []]
