"""Imports of files written the way the author's own scripts wrote them
(``elex_assets.sandbox.author_scripts``): failure-case files, display names, one time
per post, the accounts he tracked, his own ``candidates.json``."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from elex_assets.core.archive import archive_registry, import_archive
from elex_assets.core.lake import Lake
from elex_assets.core.layout import archive_tweets_key
from elex_assets.core.registry import load_registry
from elex_assets.sandbox.archive_files import status
from elex_assets.sandbox.author_scripts import (
    AUTHOR_CANDIDATES_2022,
    TRACKED_2017,
    append_weekly_sqlite,
    write_collector_csv,
    write_listener_hour,
)


def _import(fmt: str, source: Path, lake: Lake, election: str, candidates: Path | None = None):
    registry = archive_registry(election, str(candidates) if candidates else None)
    return import_archive(fmt, Lake.from_url(str(source)), lake, registry)


def _rows(lake: Lake, prefix: str = "clean/tweets/") -> pl.DataFrame:
    return lake.scan_parquet(lake.list(prefix)).collect()


def _hour_statuses() -> list[dict]:
    """A morning of the 2017 stream: originals, a retweet, a quote, a retweet of a quote."""
    alice_long = "Le programme de Macron pour l'Europe, point par point " + "y" * 120
    alice = status(
        700,
        "2017-03-20T08:00:00",
        alice_long[:139] + "…",
        screen_name="alice_fr",
        name="Alice Martin ✨",
        full_text=alice_long,
        millis=250,
    )
    bob_long = "Fillon répond sur l'emploi, fil complet " + "z" * 130
    bob = status(
        710,
        "2017-03-20T08:30:00",
        bob_long[:139] + "…",
        screen_name="bob_dupuis",
        name="Bob D.",
        full_text=bob_long,
        millis=999,
    )
    alice_quotes_bob = status(
        720,
        "2017-03-20T09:00:00",
        "Pas convaincue du tout",
        screen_name="alice_fr",
        name="Alice Martin ✨",
        quote_of=bob,
        millis=5,
    )
    return [
        status(801, "2017-03-20T10:00:01", "Meeting de @jlm_2017 ce soir", millis=123),
        status(802, "2017-03-20T10:00:02", "Réponse de @Fillon2017_fr", millis=987),
        status(
            803,
            "2017-03-20T10:00:03",
            "RT @alice_fr: " + alice["text"],
            retweet_of=alice,
            millis=1,
        ),
        status(804, "2017-03-20T10:00:04", "À voir", quote_of=alice, millis=500),
        # v1.1 puts the quoted post at the top of a retweet of a quote too
        status(
            805,
            "2017-03-20T10:00:05",
            "RT @alice_fr: Pas convaincue du tout",
            retweet_of=alice_quotes_bob,
            quote_of=bob,
            millis=42,
        ),
        {"limit": {"track": 12, "timestamp_ms": "1490004006000"}},
    ]


def test_same_post_has_one_time_and_never_a_display_name_as_handle(tmp_path: Path) -> None:
    messages = _hour_statuses()
    write_listener_hour(tmp_path / "stream/20170320/stream_20170320_10.txt", messages)
    append_weekly_sqlite(tmp_path / "sqlite", "2017-03-20", "10", messages)
    stream_lake = Lake.from_url(str(tmp_path / "lake_stream"))
    sqlite_lake = Lake.from_url(str(tmp_path / "lake_sqlite"))
    from_stream = _import("v1-stream", tmp_path / "stream", stream_lake, "2017")
    from_sqlite = _import("tweets-2017-sqlite", tmp_path / "sqlite", sqlite_lake, "2017")
    assert from_stream.rows == from_sqlite.rows == 5

    stream_rows = {r["text"]: r for r in _rows(stream_lake).to_dicts()}
    sqlite_rows = {r["text"]: r for r in _rows(sqlite_lake).to_dicts()}
    assert stream_rows.keys() == sqlite_rows.keys()
    for text, row in stream_rows.items():
        assert row["created_at"] == sqlite_rows[text]["created_at"], text
    first = stream_rows["Meeting de @jlm_2017 ce soir"]
    assert first["created_at"] == datetime(2017, 3, 20, 10, 0, 1, 123000, tzinfo=UTC)

    # no display name anywhere as a handle
    names = {"Alice Martin ✨", "Bob D.", "Un Citoyen"}
    for rows in (stream_rows, sqlite_rows):
        assert not names & {r["referenced_author_username"] for r in rows.values()}
    retweet = sqlite_rows[messages[2]["text"]]
    assert (retweet["post_type"], retweet["referenced_author_username"]) == ("retweet", "alice_fr")
    assert retweet["referenced_text"].startswith("Le programme de Macron")
    quote = sqlite_rows["À voir"]
    assert (quote["post_type"], quote["referenced_author_username"]) == ("quote", None)
    # the retweet of a quote: the old script stored the quoted post (Bob's); the
    # retweet keeps the retweeted account and loses the wrong text
    rt_quote = sqlite_rows["RT @alice_fr: Pas convaincue du tout"]
    assert rt_quote["post_type"] == "retweet"
    assert rt_quote["referenced_author_username"] == "alice_fr"
    assert rt_quote["referenced_text"] is None
    assert stream_rows["RT @alice_fr: Pas convaincue du tout"]["referenced_author_username"] == (
        "alice_fr"
    )
    assert dict(from_sqlite.fields_dropped) == {
        "referenced_display_name_not_a_handle": 3,  # retweet, quote, retweet of a quote
        "retweet_of_quote_referenced_text": 1,
    }


def test_tracked_accounts_match_their_candidates(tmp_path: Path) -> None:
    messages = _hour_statuses()
    write_listener_hour(tmp_path / "stream/20170320/stream_20170320_10.txt", messages)
    lake = Lake.from_url(str(tmp_path / "lake"))
    _import("v1-stream", tmp_path / "stream", lake, "2017")
    rows = {r["id"]: r["candidates"] for r in _rows(lake).to_dicts()}
    assert rows["801"] == ["melenchon"]
    assert rows["802"] == ["fillon"]

    registry = load_registry("2017")
    tracked = {a.lower(): c.id for c in registry.candidates for a in c.accounts}
    for name, accounts in TRACKED_2017.items():
        for account in accounts:
            cand = registry[tracked[account.removeprefix("@").lower()]]
            assert name in cand.name, account


def test_failure_case_files_are_skipped_with_a_reason(tmp_path: Path) -> None:
    good = _hour_statuses()
    stream = tmp_path / "stream2017"
    write_listener_hour(stream / "20170320/stream_20170320_10.txt", good)
    write_listener_hour(stream / "20170320/stream_20170320_11.txt", [420, 420, 420, 420])
    write_listener_hour(stream / "20170320/stream_20170320_12.txt", [420, good[0], 420])
    lake = Lake.from_url(str(tmp_path / "lake"))
    report = _import("v1-stream", stream, lake, "2017")
    assert report.rows == 5  # 10:00 hour, the 12:00 status is 801 again (deduplicated)
    assert report.duplicates == 1
    assert report.files_skipped_by_reason == {
        "only_stream_error_codes": ["20170320/stream_20170320_11.txt"]
    }
    # rows set aside by reason: the skipped file's 4 lines, 2 error lines amid statuses
    assert dict(report.malformed) == {
        "only_stream_error_codes": 4,
        "stream_error_code": 2,
        "limit_notice": 1,
    }
    by_file = {f.file: f for f in report.file_results}
    assert by_file["20170320/stream_20170320_11.txt"].rows == 0
    assert "420 x4" in by_file["20170320/stream_20170320_11.txt"].detail
    assert by_file["20170320/stream_20170320_12.txt"].rows == 1

    stream22 = tmp_path / "stream2022"
    write_collector_csv(
        stream22, "2022-03-01T08:00:00", [status(1, "2022-03-01T08:00:10", "Macron")]
    )
    empty = write_collector_csv(stream22, "2022-03-01T08:05:00", [])
    assert gzip.decompress(empty.read_bytes()) == b"\n"  # what pandas wrote for no message
    report = _import("v1-stream", stream22, lake, "2022")
    assert report.rows == 1
    assert report.files_skipped_by_reason == {
        "empty_file": ["data/raw/twitter/20220301/20220301_080500.csv.gz"]
    }

    sqlite = tmp_path / "sqlite"
    append_weekly_sqlite(sqlite, "2017-03-20", "10", good)
    tracked = {**TRACKED_2017, "Bayrou": ["@bayrou"]}
    append_weekly_sqlite(sqlite, "2017-03-22", "10", good, tracked=tracked)
    report = _import("tweets-2017-sqlite", sqlite, lake, "2017")
    assert report.rows == 5
    (skipped,) = report.files_skipped_by_reason["unknown_mention_column"]
    assert skipped == "database_12_1.sqlite"
    result = next(f for f in report.file_results if f.skipped)
    assert "'mention_Bayrou'" in result.detail
    assert result.malformed == {"unknown_mention_column": 5}
    assert "files skipped: unknown_mention_column=1" in report.summary()


def test_author_candidates_file_drives_matching(tmp_path: Path) -> None:
    messages = [
        status(11, "2022-02-01T12:00:00", "Anasse Kazib en meeting", millis=7),
        status(12, "2022-02-01T12:00:01", "Eric Zemmour et @RevPermanente"),
    ]
    write_collector_csv(tmp_path / "src", "2022-02-01T12:00:00", messages)
    lake = Lake.from_url(str(tmp_path / "lake"))
    _import("v1-stream", tmp_path / "src", lake, "2022")
    assert {r["id"]: r["candidates"] for r in _rows(lake).to_dicts()} == {
        "11": [],  # Kazib is not in elex's 2022 registry
        "12": ["zemmour"],
    }
    _import("v1-stream", tmp_path / "src", lake, "2022", AUTHOR_CANDIDATES_2022)
    assert {r["id"]: r["candidates"] for r in _rows(lake).to_dicts()} == {
        "11": ["akazib"],
        "12": ["akazib", "ezemmour"],
    }
    assert json.loads(AUTHOR_CANDIDATES_2022.read_text())["akazib"]["name"] == "Anasse Kazib"


def test_candidates_file_of_another_election_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="ELEX_CANDIDATES_FILE=.*is the 2022 registry"):
        archive_registry("2017", "elex_assets/data/elections/2022.json")


def test_stream_day_of_the_same_post_matches_sqlite_day(tmp_path: Path) -> None:
    """A post at 23:59:59.900 UTC lands on the same UTC day by both paths."""
    late = [status(901, "2017-03-20T23:59:59", "Hamon tard le soir", millis=900)]
    write_listener_hour(tmp_path / "stream/20170321/stream_20170321_00.txt", late)
    append_weekly_sqlite(tmp_path / "sqlite", "2017-03-21", "00", late)
    a = Lake.from_url(str(tmp_path / "a"))
    b = Lake.from_url(str(tmp_path / "b"))
    _import("v1-stream", tmp_path / "stream", a, "2017")
    _import("tweets-2017-sqlite", tmp_path / "sqlite", b, "2017")
    key = archive_tweets_key(date(2017, 3, 20), "archive_v1_stream")
    assert (
        a.read_parquet(key)["created_at"].to_list()
        == b.read_parquet(archive_tweets_key(date(2017, 3, 20), "archive_2017_sqlite"))[
            "created_at"
        ].to_list()
    )


def test_file_log_limit_keeps_skipped_files_and_progress(tmp_path: Path) -> None:
    src = tmp_path / "stream"
    for hour in range(10, 14):
        write_listener_hour(
            src / f"20170320/stream_20170320_{hour}.txt",
            [status(hour, f"2017-03-20T{hour}:00:00", "Macron")],
        )
    write_listener_hour(src / "20170320/stream_20170320_14.txt", [420])
    lines: list[str] = []
    report = import_archive(
        "v1-stream",
        Lake.from_url(str(src)),
        Lake.from_url(str(tmp_path / "lake")),
        archive_registry("2017", None),
        log=lines.append,
        file_log_limit=2,
    )
    assert len(report.file_results) == 5
    assert lines[:2] == [
        "20170320/stream_20170320_10.txt: 1 row(s), set aside: none",
        "20170320/stream_20170320_11.txt: 1 row(s), set aside: none",
    ]
    assert lines[2] == "4 of 5 files read, 4 row(s)"
    assert lines[3].startswith("20170320/stream_20170320_14.txt: skipped (only_stream_error_codes)")
    assert lines[4].startswith("v1-stream: 5 file(s), 4 row(s)")
