"""Collecting a Bluesky day from the sandbox: windows read to their end, resume, sessions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from elex_assets.core.bsky.client import BskyAuthError, BskyClient, BskyPolicy
from elex_assets.core.bsky.collect import collect_day, raw_keys, read_manifests
from elex_assets.core.bsky.normalise import iter_raw, normalise_day
from elex_assets.core.bsky.query import build_queries
from elex_assets.core.lake import Lake
from elex_assets.core.registry import load_registry
from elex_assets.sandbox.bsky_server import BskySandbox
from elex_assets_tests.clock import NOW

pytestmark = pytest.mark.usefixtures("fixed_now")  # "now" is clock.NOW: fixed data

DAY = (NOW - timedelta(days=2)).date()
HANDLE = "jordanbardella.bsky.social"


@pytest.fixture
def candidates() -> list:
    cands = list(load_registry("2027").selected())[:4]
    cands[1] = replace(cands[1], bluesky_person=(HANDLE,))
    return cands


@pytest.fixture
def sandbox(candidates: list) -> Iterator[BskySandbox]:
    with BskySandbox(candidates, posts_per_day=800, seed=5, max_depth=30) as server:
        yield server


def _client(sandbox: BskySandbox, sleeps: list[float] | None = None, **kw: object) -> BskyClient:
    policy = BskyPolicy(max_attempts=3, backoff_base=0.01, backoff_max=0.02)
    return BskyClient(kw.get("handle"), kw.get("password"), sandbox.base_url, policy,  # type: ignore[arg-type]
                      sleep=(sleeps.append if sleeps is not None else lambda _s: None))


def expected(sandbox: BskySandbox, queries: list, day: date) -> set[str]:
    """Every URI the sandbox would return for the queries over the whole day."""
    out = set()
    for query in queries:
        match = sandbox._matcher(query.q)
        out |= {p.uri for p in sandbox.generator.day(day)
                if match(p) and sandbox.visible(p, NOW)}
    return out


def landed(lake: Lake, day: date) -> list[str]:
    return [post["uri"] for _, post in iter_raw(lake, raw_keys(lake, day))]


def test_a_window_whose_cursor_stops_early_is_split_and_read_to_its_end(
    tmp_path: Path, sandbox: BskySandbox, candidates: list
) -> None:
    lake = Lake.from_url(str(tmp_path))
    queries = build_queries(candidates)
    want = expected(sandbox, queries, DAY)
    # One window for the whole day, a cursor that stops after 30 results: only splitting
    # the rest of the window reaches the ~50 posts naming each candidate.
    result = collect_day(_client(sandbox), lake, queries, DAY, now=NOW, window_minutes=1440,
                         page_size=10)
    assert result.splits > 0
    assert set(landed(lake, DAY)) == want
    assert len(want) > 30 * 2
    manifest = read_manifests(lake, DAY)[0]
    assert manifest.complete and manifest.calls == result.calls


def test_an_interrupted_day_resumes_without_loss_or_duplicates(
    tmp_path: Path, sandbox: BskySandbox, candidates: list
) -> None:
    lake = Lake.from_url(str(tmp_path))
    queries = build_queries(candidates)
    sandbox.faults.add("503", times=10, after=12)  # the 13th request fails, past the retries
    with pytest.raises(Exception, match="kept failing") as err:
        collect_day(_client(sandbox), lake, queries, DAY, now=NOW, window_minutes=180,
                    run_id="first")
    assert "landed" in "".join(getattr(err.value, "__notes__", []))
    first = landed(lake, DAY)
    assert 0 < len(set(first)) < len(expected(sandbox, queries, DAY))
    sandbox.faults.pending.clear()
    sandbox.requests.clear()
    collect_day(_client(sandbox), lake, queries, DAY, now=NOW, window_minutes=180, run_id="second")
    assert set(landed(lake, DAY)) == expected(sandbox, queries, DAY)  # nothing lost
    # nothing read twice: only the interrupted sweep's boundary post may be read again
    # (one post may be found by several queries: count per query)
    pairs = [(rec["summary"]["key"], post["uri"]) for rec, post in iter_raw(lake, raw_keys(lake, DAY))]
    assert len(pairs) - len(set(pairs)) <= 1
    target = "clean/bsky_posts/date=x/part-0.parquet"
    result = normalise_day(lake, raw_keys(lake, DAY), candidates, DAY, target)
    df = lake.read_parquet(target)
    assert df["id"].n_unique() == df.height == len(expected(sandbox, queries, DAY))
    assert result.read == result.rows + result.duplicates


def test_today_is_incremental(tmp_path: Path, sandbox: BskySandbox, candidates: list) -> None:
    lake = Lake.from_url(str(tmp_path))
    today = DAY  # collected as if it were noon that day: an open-ended partition
    noon = datetime(today.year, today.month, today.day, 12, tzinfo=UTC)
    queries = build_queries(candidates)[:1]
    collect_day(_client(sandbox), lake, queries, today, now=noon)
    sandbox.requests.clear()
    later = collect_day(_client(sandbox), lake, queries, today, now=noon + timedelta(minutes=5))
    sinces = {r["params"]["since"][0] for r in sandbox.requests
              if r["path"].endswith("searchPosts")}
    assert sinces and all(s >= f"{today}T11:59" for s in sinces)
    assert later.window is not None


def test_an_expired_session_is_renewed_without_losing_the_run(
    tmp_path: Path, sandbox: BskySandbox, candidates: list
) -> None:
    lake = Lake.from_url(str(tmp_path))
    queries = build_queries(candidates)
    sandbox.faults.add("expire", after=5)
    client = _client(sandbox)
    collect_day(client, lake, queries, DAY, now=NOW, window_minutes=720)
    assert client.renewals == 1
    assert set(landed(lake, DAY)) == expected(sandbox, queries, DAY)


def test_rate_limit_waits_for_ratelimit_reset(
    tmp_path: Path, sandbox: BskySandbox, candidates: list
) -> None:
    sleeps: list[float] = []
    sandbox.faults.add("429", after=2, reset_in=3)
    client = _client(sandbox, sleeps)
    collect_day(client, Lake.from_url(str(tmp_path)), build_queries(candidates)[:2], DAY, now=NOW)
    assert client.rate_limited == 1 and 1.5 <= sleeps[0] <= 4.5


def test_a_wrong_app_password_fails_at_once_naming_the_variable(
    tmp_path: Path, sandbox: BskySandbox, candidates: list
) -> None:
    secret = "abcd-efgh-ijkl-mnop"
    client = _client(sandbox, handle="me.bsky.social", password=secret)
    with pytest.raises(BskyAuthError) as err:
        collect_day(client, Lake.from_url(str(tmp_path)), build_queries(candidates), DAY, now=NOW)
    assert "BSKY_APP_PASSWORD" in str(err.value) and secret not in str(err.value)
    assert [r["path"] for r in sandbox.requests] == ["/xrpc/com.atproto.server.createSession"]


def test_no_credentials_outside_the_sandbox_names_the_variable() -> None:
    with pytest.raises(BskyAuthError, match="BSKY_HANDLE is not set"):
        BskyClient(None, None, "https://bsky.social")
    with pytest.raises(BskyAuthError, match="BSKY_APP_PASSWORD is not set"):
        BskyClient("me.bsky.social", None, "https://bsky.social")


def test_clean_rows_have_the_tweets_core_columns(
    tmp_path: Path, sandbox: BskySandbox, candidates: list
) -> None:
    lake = Lake.from_url(str(tmp_path))
    collect_day(_client(sandbox), lake, build_queries(candidates), DAY, now=NOW)
    target = "clean/bsky_posts/date=d/part-0.parquet"
    normalise_day(lake, raw_keys(lake, DAY), candidates, DAY, target)
    df = lake.read_parquet(target)
    assert df["platform"].unique().to_list() == ["bluesky"]
    assert set(df["post_type"].unique()) >= {"original", "reply", "quote"}
    assert df["id"].str.starts_with("at://").all() and df["author_id"].str.starts_with("did:").all()
    own = df.filter(pl.col("author_username") == HANDLE)
    assert own.height and all(candidates[1].id in c for c in own["candidates"].to_list())
    assert df.filter(pl.col("candidates").list.len() == 0).height == 0
    assert df["created_at"].dt.hour().n_unique() == 24
    quotes = df.filter(pl.col("post_type") == "quote")
    assert quotes["referenced_text"].is_not_null().all()


def test_a_long_rate_limit_cools_down_instead_of_retrying(
    tmp_path: Path, sandbox: BskySandbox, candidates: list
) -> None:
    lake = Lake.from_url(str(tmp_path))
    queries = build_queries(candidates)
    sandbox.faults.add("429", after=3, reset_in=3600)  # reset in an hour: beyond a run's wait
    with pytest.raises(Exception, match="rate limit"):
        collect_day(_client(sandbox), lake, queries, DAY, now=NOW)
    assert raw_keys(lake, DAY)  # the pages read before it are landed
    sandbox.requests.clear()
    skipped = collect_day(_client(sandbox), lake, queries, DAY, now=NOW + timedelta(minutes=5))
    assert "cooling down" in skipped.notes[0] and not sandbox.requests  # nothing asked
    after = collect_day(_client(sandbox), lake, queries, DAY, now=NOW + timedelta(hours=2))
    assert after.calls > 0 and set(landed(lake, DAY)) == expected(sandbox, queries, DAY)


def test_runs_reuse_the_session_kept_encrypted_in_the_lake(
    tmp_path: Path, sandbox: BskySandbox, candidates: list
) -> None:
    from elex_assets.core.bsky.session import LakeSessionStore

    lake = Lake.from_url(str(tmp_path))
    queries = build_queries(candidates)[:1]

    def client() -> BskyClient:
        return BskyClient(None, None, sandbox.base_url,
                          sessions=lambda h, p: LakeSessionStore(lake, h, p, sandbox.base_url))

    first, second = client(), client()
    collect_day(first, lake, queries, DAY, now=NOW)
    collect_day(second, lake, queries, DAY, now=NOW, mode="full")
    logins = [r for r in sandbox.requests if r["path"].endswith("createSession")]
    assert (first.logins, second.logins, second.session_reused) == (1, 0, True)
    assert len(logins) == 1  # Bluesky allows 10 logins a day; a 5-minute schedule runs 288
    stored = list((tmp_path / "state/bsky_session").iterdir())
    assert len(stored) == 1 and b"accessJwt" not in stored[0].read_bytes()
    token = first._client._session.access_jwt  # noqa: SLF001 - what must not be readable
    assert token.encode() not in stored[0].read_bytes()


def test_a_stale_stored_session_falls_back_to_a_login(
    tmp_path: Path, candidates: list
) -> None:
    import socket

    from elex_assets.core.bsky.session import LakeSessionStore

    lake = Lake.from_url(str(tmp_path))
    queries = build_queries(candidates)[:1]
    with socket.socket() as sock:  # one port for both: the same service URL, new tokens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    for _ in range(2):  # a new sandbox each time: it knows nothing of the stored tokens
        with BskySandbox(candidates, posts_per_day=100, seed=5, port=port) as sandbox:
            c = BskyClient(None, None, sandbox.base_url,
                           sessions=lambda h, p: LakeSessionStore(lake, h, p, sandbox.base_url))
            collect_day(c, lake, queries, DAY, now=NOW, mode="full")
            assert c.logins == 1


def test_the_bluesky_policy_waits_a_minute_when_a_429_names_no_reset() -> None:
    """Bluesky's windows last minutes: without ``ratelimit-reset`` a 429 waits 60 s, not a burst
    of short backoffs; the settings' bounds narrow the one declared policy."""
    policy = BskyPolicy(max_attempts=2, max_rate_limit_wait=30.0).retry
    assert (policy.name, policy.max_attempts, policy.max_rate_limit_wait) == ("Bluesky", 2, 30.0)
    assert policy.rate_limit_wait(None, 1) == (60.0, "(no ratelimit-reset)")


def test_a_run_rolls_over_to_new_raw_files_and_only_the_last_is_complete(
    tmp_path: Path, sandbox: BskySandbox, candidates: list
) -> None:
    lake = Lake.from_url(str(tmp_path))
    queries = build_queries(candidates)
    result = collect_day(_client(sandbox), lake, queries, DAY, now=NOW, rollover_posts=60)
    manifests = read_manifests(lake, DAY)
    assert len(result.landed) == len(manifests) > 2
    assert [m.complete for m in manifests] == [False] * (len(manifests) - 1) + [True]
    assert [m.calls for m in manifests[:-1]] == [0] * (len(manifests) - 1)
    assert manifests[-1].calls == result.calls
    assert sum(m.posts for m in manifests) == result.posts
    assert set(landed(lake, DAY)) == expected(sandbox, queries, DAY)
