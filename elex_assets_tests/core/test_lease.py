"""One writer per partition: the lease in the lake, on a local folder and on moto's S3."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
from datetime import UTC, date, datetime, timedelta

import pytest

from elex_assets.core.lake import Lake
from elex_assets.core.lease import (
    STORE_CLOCK_SLACK_SECONDS,
    Lease,
    LeaseHeld,
    LeaseInfo,
    LeaseLost,
    lease_key,
    read_lease,
)
from elex_assets.core.registry import load_registry
from elex_assets.core.x.collect import raw_keys
from elex_assets.core.x.query import build_queries
from elex_assets.settings import open_lake
from elex_assets_tests.clock import NOW
from elex_assets_tests.x_helpers import expected_ids, landed_ids


@pytest.fixture(params=["local", "s3"])
def lake(request, tmp_path) -> Lake:  # noqa: ANN001
    if request.param == "local":
        return Lake.from_url(str(tmp_path / "lake"))
    bucket = request.getfixturevalue("s3_bucket")
    return open_lake(f"s3://{bucket}/lake")


def _lease(lake: Lake, owner: str, **kw) -> Lease:  # noqa: ANN003
    kw.setdefault("wait_seconds", 0.3)
    kw.setdefault("poll_seconds", 0.05)
    return Lease(lake, "raw_tweets", "2022-04-09", owner, what="day 2022-04-09", **kw)


def _store(lake: Lake, info: LeaseInfo) -> None:
    lake.write_bytes(lease_key("raw_tweets", "2022-04-09"), info.to_bytes())


def test_a_second_writer_waits_then_fails_naming_the_holder(lake: Lake) -> None:
    with _lease(lake, "run-aaa").hold():
        with pytest.raises(LeaseHeld) as info:
            _lease(lake, "run-bbb").acquire()
        message = str(info.value)
        assert message.startswith("day 2022-04-09 is being refreshed by run run-aaa on host")
        assert socket.gethostname() in message and " since " in message
    with _lease(lake, "run-bbb").hold():  # released: the next writer gets it
        pass
    assert not lake.exists(lease_key("raw_tweets", "2022-04-09"))


def _stored(lake: Lake) -> LeaseInfo:
    return read_lease(lake, "raw_tweets", "2022-04-09")


def test_the_holder_renews_its_lease_while_it_works(lake: Lake) -> None:
    """Renewals are seen as events (the stored lease changes), not raced against a deadline.

    The ttl is far above any stall of a loaded machine, so the second writer's verdict
    does not depend on how quickly the renewal thread is scheduled; renewing every 0.1 s
    still shows several renewals within a fraction of a second."""
    with _lease(lake, "run-aaa", ttl_seconds=60.0, renew_seconds=0.1).hold() as held:
        first = held.info
        deadline = time.monotonic() + 60
        while _stored(lake).renewals < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        renewed = _stored(lake)
        assert renewed.token == first.token and renewed.renewals >= 2
        assert renewed.expires_at > first.expires_at
        with pytest.raises(LeaseHeld, match=r"renewed \d+ s ago"):
            _lease(lake, "run-bbb").acquire()
        held.check()


def test_an_expired_lease_is_taken_over_and_its_owner_may_not_delete(lake: Lake) -> None:
    """Unrenewed for its ttl by the lake's clock: taken at the first look."""
    stale = _lease(lake, "run-old", ttl_seconds=0.2)
    stale.acquire()  # never renewed: no hold()
    _store(lake, LeaseInfo(stale.info.token, "run-old", "other-host", 1,
                           stale.info.acquired_at, stale.info.expires_at, ttl_seconds=0.2))
    # S3 stamps whole seconds: the age read may be 1 s short, and the verdict allows 1 s more.
    time.sleep(0.2 + 2 * STORE_CLOCK_SLACK_SECONDS + 0.1)
    assert _stored(lake).expired
    with _lease(lake, "run-new", wait_seconds=0).hold() as new:
        new.check()
        with pytest.raises(LeaseLost, match="now held by run run-new"):
            stale.check()


def test_a_lease_left_by_a_dead_process_on_this_host_is_taken_at_once(lake: Lake) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    pid = int(dead.stdout)
    future = "2999-01-01T00:00:00+00:00"  # the holder's clock is never compared
    _store(lake, LeaseInfo("t", "run-killed", socket.gethostname(), pid, future, future))
    with _lease(lake, "run-next").hold() as held:
        assert held.info.owner == "run-next"


# ---- hosts whose clocks disagree ---------------------------------------------------

SKEWS = [timedelta(hours=-5), timedelta(hours=7)]


@pytest.mark.parametrize("skew", SKEWS, ids=["holder-5h-behind", "holder-7h-ahead"])
def test_a_live_lease_of_a_skewed_host_is_not_taken(lake: Lake, skew: timedelta) -> None:
    """Before: a holder 5 h behind wrote an expiry 5 h "in the past", taken over at once."""
    holder = _lease(lake, "run-far", ttl_seconds=60.0, renew_seconds=0.1,
                    clock=lambda: NOW + skew)
    with holder.hold() as held:
        with pytest.raises(LeaseHeld, match="run-far"):
            _lease(lake, "run-here", wait_seconds=0.5).acquire()
        held.check()
        assert not _stored(lake).expired


@pytest.mark.parametrize("skew", SKEWS, ids=["holder-5h-behind", "holder-7h-ahead"])
def test_a_dead_lease_of_a_skewed_host_is_taken_after_its_ttl(lake: Lake, skew: timedelta) -> None:
    """Before: a holder 7 h ahead wrote an expiry 7 h away, so its day stayed locked 7 h."""
    dead = _lease(lake, "run-far", ttl_seconds=0.5, clock=lambda: NOW + skew)
    dead.acquire()  # it dies: never renewed
    info = _stored(lake)
    _store(lake, LeaseInfo(info.token, "run-far", "other-host", 1, info.acquired_at,
                           info.expires_at, ttl_seconds=0.5))
    # Seen unchanged for its ttl on this reader's monotonic clock: taken within the wait.
    with _lease(lake, "run-here", wait_seconds=10).hold() as held:
        assert held.info.owner == "run-here"
    with pytest.raises(LeaseLost):
        dead.check()


def test_an_unreadable_lease_is_replaced(lake: Lake) -> None:
    lake.write_bytes(lease_key("raw_tweets", "2022-04-09"), b"garbage")
    with _lease(lake, "run-next").hold() as held:
        held.check()


# ---- two processes refreshing one past day on one lake ---------------------------

WRITER = textwrap.dedent(
    """
    import os
    import sys
    import time
    from datetime import date
    from elex_assets.core.lake import Lake
    from elex_assets.core.lease import Lease, LeaseHeld
    from elex_assets.core.registry import load_registry
    from elex_assets.core.x.client import RetryPolicy, XClient
    from elex_assets.core.x.collect import collect_day
    from elex_assets.core.x.query import build_queries

    base_url, lake_url, run, wait, go = sys.argv[1:6]
    lake = Lake.from_url(lake_url)
    queries = build_queries(load_registry("2022").selected()[:4], max_length=1024)
    client = XClient("sandbox-token-faults", base_url, RetryPolicy(max_attempts=3, backoff_base=0.01))
    day = date(2022, 4, 9)
    while not os.path.exists(go):  # started (and imported) ahead: the test says when to go
        time.sleep(0.02)
    try:
        with Lease(lake, "raw_tweets", day.isoformat(), run, wait_seconds=float(wait),
                   poll_seconds=0.1, what=f"day {day}").hold() as lease:
            collect_day(client, lake, queries, day, endpoint="all", page_size=20,
                        run_id=run, before_delete=lease.check)
    except LeaseHeld as exc:
        print(exc)
        sys.exit(3)
    """
)


@pytest.mark.parametrize("wait", [60.0, 0.0], ids=["second-waits", "second-fails"])
def test_two_processes_refreshing_one_day_end_with_one_clean_run(
    x_sandbox, lake: Lake, wait: float, tmp_path  # noqa: ANN001
) -> None:
    queries = build_queries(load_registry("2022").selected()[:4], max_length=1024)
    go = {run: tmp_path / f"go-{run}" for run in ("runone", "runtwo")}

    def start(run: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-c", WRITER, x_sandbox.base_url, lake.url, run, str(wait),
             str(go[run])],
            env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )

    # A rate limit early in the first run keeps it at work (holding the day) for seconds.
    x_sandbox.faults.add("429", after=2, reset_in=6.0)
    # Both processes start (and import) now; each waits for its go. Before, the second
    # was started once the first was fetching: on a loaded machine its start-up alone
    # outlasted the first run's hold, it found the day free, and "second-fails" failed.
    procs = [start("runone"), start("runtwo")]
    go["runone"].touch()
    # The second goes once the first holds the day and is fetching it.
    while not x_sandbox.search_requests() and procs[0].poll() is None:
        time.sleep(0.05)
    go["runtwo"].touch()
    outs = [p.communicate(timeout=240) for p in procs]
    codes = sorted(p.returncode for p in procs)
    if wait:
        assert codes == [0, 0], outs
    else:
        assert codes == [0, 3], outs
        (message,) = [o for o, _ in outs if o]
        assert "day 2022-04-09 is being refreshed by run run" in message
    start = datetime(2022, 4, 9, tzinfo=UTC)
    truth = expected_ids(x_sandbox, queries, start, start + timedelta(days=1))
    landed = landed_ids(lake, date(2022, 4, 9))
    for q in queries:
        got = landed.get(q.text, [])
        assert len(got) == len(set(got)), "a post landed twice"
        assert set(got) == truth[q.text]
    assert len(raw_keys(lake, date(2022, 4, 9))) == 1
    assert not lake.exists(lease_key("raw_tweets", "2022-04-09"))


def test_a_lease_is_taken_held_and_freed_at_each_awkward_instant(tmp_path, calendar_now) -> None:  # noqa: ANN001
    """"Now" moved (time-machine moves this process's clock, not the file system's): a
    lease's verdict does not depend on the date."""
    lake = Lake.from_url(str(tmp_path / "lake"))
    with _lease(lake, "run-aaa", ttl_seconds=60.0).hold() as held:
        assert held.info.acquired_at.startswith(calendar_now.date().isoformat())
        assert not _stored(lake).expired
        with pytest.raises(LeaseHeld):
            _lease(lake, "run-bbb", wait_seconds=0).acquire()
    assert read_lease(lake, "raw_tweets", "2022-04-09") is None
