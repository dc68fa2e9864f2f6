"""Files written exactly the way the author's public scripts wrote them.

Re-implemented from reading the scripts (no code copied), keeping what matters to an
importer: file names and folders, columns and their order, what is stored for each
kind of message, and what a failed or empty run leaves behind.

* ``jeanmidevacc/french-presidential-election-twitter-pov`` (2017, tweepy 3):
  ``py/listening.py`` printed every raw stream message (``on_data``: the message's
  JSON text, which tweepy hands over with its ``\\r\\n`` delimiter, then ``print``'s
  newline) and, on a failed connect, the HTTP status (``on_error``: e.g. ``420``)
  into one file per hour under ``YYYYMMDD/``; ``py/make_sqlitedb.py`` turned each
  file into rows ``user`` (``user.name``), ``location``, ``text``, ``lang``,
  ``timestampms``, ``quoted/retweeted?``, ``quoted/retweeted user`` (the shared
  post's ``user.name``), ``quoted/retweeted full_text``, one ``mention_<Candidate>``
  flag per candidate, ``day``, ``hour``, appended with pandas ``to_sql('data')`` to
  ``database_<ISO week>_<weekday // 2>.sqlite``. Only statuses with ``text``, ``lang``
  and ``timestamp_ms`` became rows; ``quoted_status`` was tested before
  ``retweeted_status``; the shared post's name and text were kept only when it had
  an ``extended_tweet``. An hour file holding an error code (``420``) made the
  script fail (``json.loads`` gives an int), so such hours never reached a SQLite.
* ``jeanmidevacc/french-presidential-election-2022-data-collecter`` (2021-22):
  ``twitter_streaming_collecter.py`` collected 300 s of messages and wrote
  ``pandas.DataFrame(messages).to_csv("tmp.csv.gz", index=None)`` to
  ``data/raw/twitter/YYYYMMDD/YYYYMMDD_HHMMSS.csv.gz`` (a run with no message: a
  lone newline); ``google_trends_collecter.py`` wrote, per candidate of
  ``candidates.json``, area and window, the pytrends frames described in
  ``elex_assets.core.archive.trends_2022``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

# listening.py / make_sqlitedb.py: each candidate's tracked accounts (the name is tracked too)
TRACKED_2017 = {
    "Hamon": ["@benoithamon", "@AvecHamon2017", "@partisocialiste"],
    "Le Pen": ["@MLP_officiel", "@FN_officiel"],
    "Macron": ["@EmmanuelMacron", "@enmarchefr"],
    "Mélenchon": ["@JLMelenchon", "@jlm_2017"],
    "Fillon": ["@FrancoisFillon", "@Fillon2017_fr", "@lesRepublicains"],
    "Dupont-Aignan": ["@dupontaignan", "@DLF_Officiel"],
    "Cheminade": ["@JCheminade"],
    "Arthaud": ["@n_arthaud", "@LutteOuvriere"],
    "Asselineau": ["@UPR_Asselineau", "@UPR_Officiel"],
    "Poutou": ["@PhilippePoutou", "@NPA_officiel"],
    "Lassalle": ["@jeanlassalle"],
}
AUTHOR_CANDIDATES_2022 = Path(__file__).parent / "author_candidates_2022.json"


# ---- 2017 -------------------------------------------------------------------------


def write_listener_hour(path: Path, messages: list[dict[str, Any] | int]) -> Path:
    """listening.py's stdout for one hour: raw messages and error codes, as printed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for message in messages:
        if isinstance(message, int):
            out.append(f"{message}\n")  # on_error(status): print(status)
        else:
            out.append(json.dumps(message, ensure_ascii=False) + "\r\n" + "\n")
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write("".join(out))
    return path


def _mentions(text: str, tracked: dict[str, list[str]]) -> dict[str, bool]:
    lowered = text.lower()
    return {
        f"mention_{name}": any(word.lower() in lowered for word in [*accounts, name])
        for name, accounts in tracked.items()
    }


def sqlite_rows(
    messages: list[dict[str, Any] | int], tracked: dict[str, list[str]] | None = None
) -> list[dict[str, Any]]:
    """make_sqlitedb.py's rows for the messages of one hour file."""
    tracked = TRACKED_2017 if tracked is None else tracked
    rows = []
    for tweet in messages:
        if isinstance(tweet, int):
            # json.loads("420") is 420, and the script's ``"text" in tweet`` then fails:
            # an hour with an error code never reached the SQLite
            raise TypeError("argument of type 'int' is not iterable")
        if not all(k in tweet for k in ("text", "lang", "timestamp_ms")):
            continue
        row: dict[str, Any] = {
            "user": tweet["user"]["name"],
            "location": tweet["user"]["location"],
            "text": tweet["text"],
            "lang": tweet["lang"],
            "timestampms": tweet["timestamp_ms"],
        }
        scanned = tweet["text"] + " "
        shared = tweet.get("quoted_status") or tweet.get("retweeted_status")
        if shared is not None:
            row["quoted/retweeted?"] = True
            if "extended_tweet" in shared:
                row["quoted/retweeted user"] = shared["user"]["name"]
                row["quoted/retweeted full_text"] = shared["extended_tweet"]["full_text"]
                scanned += shared["extended_tweet"]["full_text"]
            else:
                row["quoted/retweeted user"] = None
                row["quoted/retweeted full_text"] = None
        else:
            row["quoted/retweeted?"] = False
            row["quoted/retweeted user"] = None
            row["quoted/retweeted full_text"] = None
        row.update(_mentions(scanned, tracked))
        rows.append(row)
    return rows


def weekly_sqlite_name(day: datetime) -> str:
    return f"database_{day.isocalendar()[1]}_{int(day.weekday() / 2)}.sqlite"


def append_weekly_sqlite(
    folder: Path,
    day: str,
    hour: str,
    messages: list[dict[str, Any] | int],
    tracked: dict[str, list[str]] | None = None,
) -> Path:
    """Append one hour file's rows to its week's SQLite (pandas ``to_sql``, SQLAlchemy)."""
    from sqlalchemy import create_engine

    folder.mkdir(parents=True, exist_ok=True)
    when = datetime.fromisoformat(day)
    path = folder / weekly_sqlite_name(when)
    frame = pd.DataFrame(sqlite_rows(messages, tracked))
    columns = [
        "user",
        "location",
        "text",
        "lang",
        "timestampms",
        "quoted/retweeted?",
        "quoted/retweeted user",
        "quoted/retweeted full_text",
        *[f"mention_{n}" for n in (tracked or TRACKED_2017)],
    ]
    frame = frame.reindex(columns=columns)
    frame["day"] = [when.strftime("%Y-%m-%d")] * len(frame)
    frame["hour"] = [hour] * len(frame)
    engine = create_engine(f"sqlite:///{path}")
    try:
        frame.to_sql("data", engine, if_exists="append")
    finally:
        engine.dispose()
    return path


# ---- 2021-22 stream ---------------------------------------------------------------


def write_collector_csv(root: Path, started: str, messages: list[dict[str, Any]]) -> Path:
    """twitter_streaming_collecter.py's upload for a run started at ``started`` (ISO UTC)."""
    when = datetime.fromisoformat(started)
    path = root / f"data/raw/twitter/{when:%Y%m%d}/{when:%Y%m%d_%H%M%S}.csv.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(messages).to_csv(path, index=None)  # gzip inferred from the name
    return path


# ---- 2021-22 Google Trends ----------------------------------------------------------

PERIODS = {"hourly": "", "daily": "daily_", "weekly": "weekly_"}


def _upload(root: Path, area: str, folder: str, stamp: str, key: str, frame: pd.DataFrame) -> Path:
    path = root / f"data/raw/google_trends/{area}/{folder}/{stamp[:8]}/{key}_{stamp}.csv.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=None)
    return path


def write_trends_run(
    root: Path,
    *,
    area: str,
    period: str,
    collected: str,
    key: str,
    keyword: str,
    points: list[tuple[str, int, bool]] = (),  # type: ignore[assignment]
    regions: list[tuple[str, int]] = (),  # type: ignore[assignment]
    topics: dict[str, list[dict[str, Any]]] | None = None,
    queries: dict[str, list[dict[str, Any]]] | None = None,
) -> list[Path]:
    """One candidate of one google_trends_collecter.py run: the files it uploaded.

    ``points`` are pytrends' interest over time (UTC ISO time, value, partial);
    ``regions`` its interest by region (name, value); ``topics`` / ``queries`` are
    Google's ``rankedKeyword`` lists by ranking (``top``, ``rising``).
    """
    stamp = datetime.fromisoformat(collected).replace(tzinfo=UTC).strftime("%Y%m%d_%H%M")
    prefix = PERIODS[period]
    written = []
    if points:
        iot = pd.DataFrame(
            {
                keyword: [v for _, v, _ in points],
                "isPartial": [p for _, _, p in points],
            },
            index=pd.DatetimeIndex([pd.Timestamp(t) for t, _, _ in points], name="date"),
        )
        iot.columns = ["interest", "is_partial"]
        iot = iot.reset_index()
        iot["candidate"] = key
        iot["date_collect"] = stamp
        written.append(_upload(root, area, f"{prefix}interest_over_time", stamp, key, iot))
    if regions:
        ibr = pd.DataFrame(
            {keyword: [v for _, v in regions]},
            index=pd.Index([n for n, _ in regions], name="geoName"),
        ).sort_index()
        ibr.columns = ["interest"]
        ibr = ibr.reset_index()
        ibr["candidate"] = key
        ibr["date_collect"] = stamp
        written.append(_upload(root, area, f"{prefix}interest_by_region", stamp, key, ibr))
    for ranking, items in (topics or {}).items():
        frame = pd.json_normalize(items, sep="_")
        frame["candidate"] = key
        frame["date_collect"] = stamp
        folder = f"{prefix}related_topics_{ranking}"
        written.append(_upload(root, area, folder, stamp, key, frame))
    for ranking, items in (queries or {}).items():
        frame = pd.DataFrame(items)[["query", "value"]]
        frame["candidate"] = key
        frame["date_collect"] = stamp
        folder = f"{prefix}related_queries_{ranking}"
        written.append(_upload(root, area, folder, stamp, key, frame))
    return written


def topic(mid: str, title: str, kind: str, value: int, formatted: str) -> dict[str, Any]:
    """One ``rankedKeyword`` of Google's related topics answer."""
    return {
        "topic": {"mid": mid, "title": title, "type": kind},
        "value": value,
        "formattedValue": formatted,
        "hasData": True,
        "link": f"/trends/explore?q={mid}&date=now+7-d",
    }


def query(text: str, value: int, formatted: str) -> dict[str, Any]:
    """One ``rankedKeyword`` of Google's related queries answer."""
    return {
        "query": text,
        "value": value,
        "formattedValue": formatted,
        "hasData": True,
        "link": f"/trends/explore?q={text.replace(' ', '+')}&date=now+7-d",
    }
