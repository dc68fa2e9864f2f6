"""Builders of small legacy collections, written the way the old scripts wrote them.

* 2017 weekly SQLite: ``pandas.DataFrame.to_sql`` (so an ``index`` column first);
* 2017 Trends SQLite: ``to_sql`` of the wide interest table;
* raw v1.1 stream: JSON lines (``YYYYMMDD/<file>``) and the 2021-22
  ``data/raw/twitter/YYYYMMDD/YYYYMMDD_HHMMSS.csv.gz`` (``DataFrame(statuses).to_csv``,
  so nested objects become Python reprs).

``build_legacy_collection(root)`` writes one of each and returns what an import
must find, so import tests and the end-to-end export test share one fixture.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

CANDIDATES_2017 = [
    "Hamon",
    "Le Pen",
    "Macron",
    "Mélenchon",
    "Fillon",
    "Dupont-Aignan",
    "Cheminade",
    "Arthaud",
    "Asselineau",
    "Poutou",
    "Lassalle",
]
FIRST_RELEASE_CANDIDATES = ["Fillon", "Hamon", "Le Pen", "Macron", "Mélenchon"]
TRENDS_2017 = [
    "benoit hamon",
    "marine le pen",
    "emmanuel macron",
    "jean-luc melenchon",
    "francois fillon",
]


def millis(ts: str) -> str:
    """Epoch milliseconds, as text (what the old script stored), of an ISO UTC time."""
    dt = datetime.fromisoformat(ts).replace(tzinfo=UTC)
    return str(int(dt.timestamp() * 1000))


def sqlite_row(
    ts: str | None,
    text: str,
    mentions: tuple[str, ...],
    *,
    user: str = "Jean Dupont",
    location: str = "Paris",
    lang: str = "fr",
    shared: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """One row of the full 2017 table (``shared`` = quoted/retweeted author's display
    name, ``user.name``, as the old script stored it, and that post's full text)."""
    row: dict[str, Any] = {
        "user": user,
        "location": location,
        "text": text,
        "lang": lang,
        "timestampms": millis(ts) if ts else None,
        "quoted/retweeted?": shared is not None,
        "quoted/retweeted user": shared[0] if shared else None,
        "quoted/retweeted full_text": shared[1] if shared else None,
    }
    for name in CANDIDATES_2017:
        row[f"mention_{name}"] = name in mentions
    row["day"] = ts[:10] if ts else None
    row["hour"] = int(ts[11:13]) if ts else None
    return row


def write_2017_sqlite(path: Path, rows: list[dict[str, Any]], table: str = "data") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path)) as conn:
        pd.DataFrame(rows).to_sql(table, conn, if_exists="replace")
    return path


def first_release_rows() -> list[dict[str, Any]]:
    """The very first table: index, lang, five mention_ columns, text, timestampms."""
    rows = [
        ("2017-01-02T10:00:00", "Fillon en meeting à Paris", ("Fillon",)),
        ("2017-01-02T23:30:00", "Débat Hamon Mélenchon ce soir", ("Hamon", "Mélenchon")),
    ]
    out = []
    for ts, text, mentions in rows:
        row: dict[str, Any] = {"lang": "fr"}
        for name in FIRST_RELEASE_CANDIDATES:
            row[f"mention_{name}"] = name in mentions
        row["text"] = text
        row["timestampms"] = millis(ts)
        out.append(row)
    return out


def write_2017_trends(path: Path, days: list[str], values: dict[str, list[float | None]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame({"day": days, **values})
    with closing(sqlite3.connect(path)) as conn:
        frame.to_sql("interests_over_time", conn, if_exists="replace")
    return path


def status(
    id_: int,
    created: str,
    text: str,
    *,
    screen_name: str = "citoyen",
    name: str = "Un Citoyen",
    full_text: str | None = None,
    retweet_of: dict[str, Any] | None = None,
    quote_of: dict[str, Any] | None = None,
    reply_to: tuple[int, str] | None = None,
    hashtags: tuple[str, ...] = (),
    mentions: tuple[str, ...] = (),
    urls: tuple[str, ...] = (),
    millis: int = 0,
) -> dict[str, Any]:
    """A v1.1 status as the stream delivered it (``created`` is ISO UTC, whole seconds as
    ``created_at``; ``timestamp_ms`` adds ``millis``, as the real stream did)."""
    dt = datetime.fromisoformat(created).replace(tzinfo=UTC)
    entities = {
        "hashtags": [{"text": h, "indices": [0, 1]} for h in hashtags],
        "user_mentions": [
            {"screen_name": m, "name": m, "id": 1, "id_str": "1", "indices": [0, 1]}
            for m in mentions
        ],
        "urls": [{"url": "https://t.co/x", "expanded_url": u, "indices": [0, 1]} for u in urls],
        "symbols": [],
    }
    out: dict[str, Any] = {
        "created_at": dt.strftime("%a %b %d %H:%M:%S +0000 %Y"),
        "id": id_,
        "id_str": str(id_),
        "text": text,
        "truncated": full_text is not None,
        "in_reply_to_status_id": reply_to[0] if reply_to else None,
        "in_reply_to_status_id_str": str(reply_to[0]) if reply_to else None,
        "in_reply_to_screen_name": reply_to[1] if reply_to else None,
        "user": {
            "id": 1000 + len(screen_name),
            "id_str": str(1000 + len(screen_name)),
            "name": name,
            "screen_name": screen_name,
            "location": "Lyon, France",
            "verified": False,
        },
        "is_quote_status": quote_of is not None,
        "retweet_count": 3,
        "reply_count": 1,
        "favorite_count": 7,
        "quote_count": 0,
        "entities": entities,
        "lang": "fr",
        "timestamp_ms": str(int(dt.timestamp()) * 1000 + millis),
    }
    if full_text is not None:
        out["extended_tweet"] = {"full_text": full_text, "entities": entities}
    if retweet_of is not None:
        out["retweeted_status"] = retweet_of
    if quote_of is not None:
        out["quoted_status"] = quote_of
        out["quoted_status_id_str"] = quote_of["id_str"]
    return out


def limit_notice(ts: str) -> dict[str, Any]:
    return {"limit": {"track": 42, "timestamp_ms": millis(ts)}}


def write_jsonl(path: Path, lines: list[dict[str, Any] | str]) -> Path:
    """JSON lines; a ``str`` item is written as is (to plant a broken line)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(
        (x if isinstance(x, str) else json.dumps(x, ensure_ascii=False)) + "\n" for x in lines
    )
    path.write_text(text, encoding="utf-8")
    return path


def write_pandas_csv(path: Path, messages: list[dict[str, Any]]) -> Path:
    """What the 2021-22 script wrote: ``pd.DataFrame(statuses).to_csv("tmp.csv.gz", index=None)``
    (gzip inferred from the name; no index column)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(messages).to_csv(path, index=None, compression="gzip")
    return path


def build_legacy_collection(root: Path) -> dict[str, Any]:
    """Write one collection of each format under ``root``; return what an import must find.

    Layout: ``root/sqlite2017/`` (two weekly files + the Trends file),
    ``root/stream2017/YYYYMMDD/`` (JSON lines) and
    ``root/stream2022/data/raw/twitter/YYYYMMDD/`` (pandas CSV).
    """
    sqlite_dir = root / "sqlite2017"
    write_2017_sqlite(sqlite_dir / "database_1_1.sqlite", first_release_rows())
    write_2017_sqlite(
        sqlite_dir / "database_2_1.sqlite",
        [
            sqlite_row("2017-01-09T08:15:00", "Macron à Lyon", ("Macron",)),
            sqlite_row(
                "2017-01-09T21:00:00",
                "RT @MLP_officiel: Marine Le Pen répond",
                ("Le Pen",),
                shared=("Marine Le Pen", "Marine Le Pen répond à Macron"),
            ),
            sqlite_row(
                "2017-01-10T00:30:00",
                "Regardez ça",
                ("Dupont-Aignan", "Asselineau"),
                shared=("N. Dupont-Aignan", "NDA et Asselineau"),
            ),
            sqlite_row(None, "sans date", ("Macron",)),
        ],
    )
    write_2017_trends(
        sqlite_dir / "database_googletrends.sqlite",
        ["2017-01-02", "2017-01-03"],
        {
            "benoit hamon": [12.0, 15.0],
            "marine le pen": [40.0, None],
            "emmanuel macron": [55.0, 60.0],
            "jean-luc melenchon": [20.0, 22.0],
            "francois fillon": [70.0, 65.0],
        },
    )

    rt_source = status(900, "2017-02-01T09:00:00", "Fillon doit partir", screen_name="opposant")
    stream2017 = root / "stream2017"
    write_jsonl(
        stream2017 / "20170201" / "stream_0900",
        [
            status(
                1001, "2017-02-01T09:05:00", "Bravo @EmmanuelMacron", mentions=("EmmanuelMacron",)
            ),
            status(
                1002,
                "2017-02-01T09:06:00",
                "RT @opposant: Fillon doit partir",
                retweet_of=rt_source,
            ),
            limit_notice("2017-02-01T09:07:00"),
            '{"id_str": "1003", "text": "truncated li',
            {"delete": {"status": {"id": 5, "id_str": "5"}}},
        ],
    )
    write_jsonl(
        stream2017 / "20170201" / "stream_2355",
        [
            status(1004, "2017-02-01T23:59:30", "Hamon et Jadot", hashtags=("Presidentielle2017",)),
            status(1005, "2017-02-02T00:00:10", "Poutou au JT", reply_to=(1004, "citoyen")),
            status(1004, "2017-02-01T23:59:30", "Hamon et Jadot", hashtags=("Presidentielle2017",)),
        ],
    )

    stream2022 = root / "stream2022"
    # 2022 Trends raw data lived beside the stream folders: it must be skipped
    trends_raw = stream2022 / "data/raw/googletrends/20220301/20220301_080000.csv.gz"
    trends_raw.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"date": ["2022-03-01"], "macron": [50]}).to_csv(trends_raw, compression="gzip")

    long_text = "Éric Zemmour et Valérie Pécresse débattent ce soir " + "x" * 200
    quoted = status(2000, "2022-03-01T07:00:00", "Le programme de Jadot", screen_name="yjadot")
    messages: list[dict[str, Any]] = [
        status(
            2001,
            "2022-03-01T08:00:00",
            long_text[:140] + "…",
            full_text=long_text,
            urls=("https://example.org/debat",),
        ),
        status(2002, "2022-03-01T08:01:00", "À lire", quote_of=quoted),
        limit_notice("2022-03-01T08:02:00"),
        status(2003, "2022-03-01T08:03:00", "Mélenchon à Marseille", mentions=("JLMelenchon",)),
    ]
    write_pandas_csv(stream2022 / "data/raw/twitter/20220301/20220301_080500.csv.gz", messages)
    return {
        "sqlite": sqlite_dir,
        "stream2017": stream2017,
        "stream2022": stream2022,
        "sqlite_rows_per_day": {"2017-01-02": 2, "2017-01-09": 2, "2017-01-10": 1},
        "sqlite_malformed": {"missing_timestamp": 1},
        "sqlite_fields_dropped": {"referenced_display_name_not_a_handle": 2},
        "trends_rows_per_day": {"2017-01-02": 5, "2017-01-03": 4},
        "trends_malformed": {"missing_value": 1},
        "stream2017_rows_per_day": {"2017-02-01": 3, "2017-02-02": 1},
        "stream2017_malformed": {"limit_notice": 1, "bad_json": 1, "other_notice": 1},
        "stream2017_duplicates": 1,
        "stream2022_rows_per_day": {"2022-03-01": 3},
        "stream2022_malformed": {"limit_notice": 1},
        # ISO weeks (year, week) holding imported rows, for the weekly export
        "iso_weeks_2017": {(2017, 1): 2, (2017, 2): 3, (2017, 5): 4},  # tweets per week
        "iso_weeks_2022": {(2022, 9): 3},
    }
