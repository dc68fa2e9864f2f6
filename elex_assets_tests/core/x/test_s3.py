"""The X collector and normaliser on an S3 lake (moto's server over real HTTP)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from elex_assets.core import layout
from elex_assets.core.registry import load_registry
from elex_assets.core.x.client import RetryPolicy, XClient
from elex_assets.core.x.collect import collect_day, raw_keys
from elex_assets.core.x.normalise import normalise_day, tweets_summary
from elex_assets.core.x.query import build_queries
from elex_assets.settings import open_lake
from elex_assets_tests.x_helpers import expected_ids


def test_collect_and_normalise_a_day_on_s3(x_sandbox, s3_bucket) -> None:  # noqa: ANN001
    lake = open_lake(f"s3://{s3_bucket}/elex")
    reg = load_registry("2022")
    queries = build_queries(reg.selected()[:3], max_length=1024)
    client = XClient("t", x_sandbox.base_url, RetryPolicy(backoff_base=0.01))
    day = date(2022, 4, 9)
    x_sandbox.faults.add("503", after=1)
    collect_day(client, lake, queries, day, endpoint="all", page_size=100)
    collect_day(client, lake, queries, day, endpoint="all", page_size=100)  # replaces
    keys = raw_keys(lake, day)
    assert len(keys) == 1
    normalise_day(lake, keys, reg.candidates, day, layout.clean_tweets_key(day))
    rows, per, _ = tweets_summary(lake, layout.clean_tweets_key(day))
    start = datetime(2022, 4, 9, tzinfo=UTC)
    truth = set().union(*expected_ids(x_sandbox, queries, start, start + timedelta(days=1))
                        .values())
    assert rows == len(truth) and per
