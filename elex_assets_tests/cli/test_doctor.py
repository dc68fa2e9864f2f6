"""``elex doctor`` against the sandboxes (loopback) and their faults: each row a user reads.

Every source is met as the campaign would meet it: the X, Trends and Bluesky sandboxes,
the fake Kaggle API, a local lake and a sqlite (or unreachable PostgreSQL) instance.
"now" is fixed; the sandboxes serve whatever day is asked.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from elex_assets.cli.doctor import run_doctor
from elex_assets.cli.doctor_checks import (
    FAIL,
    OK,
    SKIPPED,
    WARN,
    check_bsky,
    check_instance,
    check_kaggle,
    check_lake,
    check_trends_official,
    check_trends_web,
    check_wikimedia,
    check_x,
    login_budget,
)
from elex_assets.core.lake import Lake
from elex_assets.sandbox.bsky_server import BskySandbox
from elex_assets.sandbox.trends_server import TrendsSandbox
from elex_assets.sandbox.x_server import XSandbox
from elex_assets_tests.fake_kaggle import FakeKaggleServer

NOW = datetime(2026, 11, 26, 15, 20, tzinfo=UTC)
FIRST = "Marine Le Pen"
SECRETS = ("X_BEARER_TOKEN", "BSKY_HANDLE", "BSKY_APP_PASSWORD", "KAGGLE_USERNAME",
           "KAGGLE_KEY", "KAGGLE_DATASET", "ELEX_KAGGLE_PUBLISH", "TRENDS_BACKEND",
           "TRENDS_CREDENTIALS_FILE", "X_MAX_USD_PER_DAY", "X_SEARCH_ENDPOINT")


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in SECRETS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ELEX_LAKE_URL", str(tmp_path / "lake"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TRENDS_MIN_INTERVAL_SECONDS", "0")
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "kaggle-config"))
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    return tmp_path


@pytest.fixture
def lake(env: Path) -> Lake:
    return Lake.from_url(str(env / "lake"))


@pytest.fixture
def x(env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[XSandbox]:
    with XSandbox(election="2027", posts_per_day=500, seed=3, token="right-token") as sandbox:
        monkeypatch.setenv("X_API_BASE_URL", sandbox.base_url)
        monkeypatch.setenv("X_BEARER_TOKEN", "right-token")
        monkeypatch.setenv("X_SEARCH_ENDPOINT", "all")
        yield sandbox


@pytest.fixture
def bsky(env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[BskySandbox]:
    sandbox = BskySandbox(election="2027", posts_per_day=100).start()
    monkeypatch.setenv("BSKY_BASE_URL", sandbox.base_url)
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture
def trends(env: Path, trends_sandbox: TrendsSandbox, monkeypatch: pytest.MonkeyPatch
           ) -> TrendsSandbox:
    monkeypatch.setenv("TRENDS_BASE_URL", trends_sandbox.base_url)
    monkeypatch.setenv("TRENDS_OFFICIAL_BASE_URL", trends_sandbox.base_url)
    return trends_sandbox


def _counts_asked(sandbox: XSandbox) -> list[dict]:
    """Counts requests X would bill (a valid granularity)."""
    return [r for r in sandbox.requests if "/counts/" in r["path"]
            and r["params"].get("granularity") != "elex-doctor"]


# ---- X --------------------------------------------------------------------------------


def test_x_token_and_access_are_checked_for_free(x: XSandbox, lake: Lake) -> None:
    row = check_x(spend=False, lake=lake, now=NOW, first_candidate=FIRST)
    assert row.status == OK, row
    assert row.answered == "token accepted; recent: yes; all: yes"
    assert row.cost == "free" and "--spend" in row.next and "$0.01" in row.next
    assert _counts_asked(x) == []  # nothing billable was asked
    assert not lake.list("state/x_spend")


def test_x_spend_makes_one_counts_request_at_its_price_and_records_it(x: XSandbox,
                                                                     lake: Lake) -> None:
    row = check_x(spend=True, lake=lake, now=NOW, first_candidate=FIRST)
    assert row.status == OK, row
    assert "counts/all:" in row.answered and f'"{FIRST}" 13:00-14:00 UTC' in row.answered
    assert row.cost.startswith("$0.01")
    (asked,) = _counts_asked(x)
    assert asked["path"] == "/2/tweets/counts/all"
    assert asked["params"]["start_time"].startswith("2026-11-26T13:00")
    # accounted like any paid call: one run ledger (closed/ holds the month's past days' sums)
    (ledger,) = [k for k in lake.list("state/x_spend") if "/closed/" not in k]
    assert ledger.startswith("state/x_spend/2026-11-26/") and "doctor" in ledger


def test_x_token_refused(x: XSandbox, lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_BEARER_TOKEN", "revoked-token")
    row = check_x(spend=True, lake=lake, now=NOW, first_candidate=FIRST)
    assert row.status == FAIL and row.answered == "token refused (401)"
    assert "X_BEARER_TOKEN" in row.next
    assert _counts_asked(x) == []


def test_x_without_full_archive_access(x: XSandbox, lake: Lake) -> None:
    x.faults.add("403", path="/2/tweets/counts/all")
    row = check_x(spend=True, lake=lake, now=NOW, first_candidate=FIRST)
    assert row.status == FAIL
    assert row.answered == "token accepted; recent: yes; all: no (403)"
    assert "X_SEARCH_ENDPOINT=recent" in row.next
    assert _counts_asked(x) == []


def test_x_usage_cap(x: XSandbox, lake: Lake) -> None:
    x.faults.add("usage_cap", path="/2/tweets/counts/all")
    row = check_x(spend=False, lake=lake, now=NOW, first_candidate=FIRST)
    assert row.status == FAIL and "all: usage cap (429)" in row.answered


def test_x_not_answering_is_a_warning_to_try_again(x: XSandbox, lake: Lake) -> None:
    x.faults.add("503", path="/2/tweets/counts/all")
    row = check_x(spend=False, lake=lake, now=NOW, first_candidate=FIRST)
    assert row.status == WARN and "all: no answer (503)" in row.answered


def test_x_spend_stops_at_the_dollar_ceiling(x: XSandbox, lake: Lake,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_MAX_USD_PER_DAY", "0.001")
    row = check_x(spend=True, lake=lake, now=NOW, first_candidate=FIRST)
    assert row.status == FAIL and "counts not asked" in row.answered
    assert "X_MAX_USD_PER_DAY" in row.next
    assert _counts_asked(x) == []


def test_x_token_missing_on_the_real_host_asks_nothing(env: Path, lake: Lake,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_API_BASE_URL", "https://api.x.com")
    row = check_x(spend=True, lake=lake, now=NOW, first_candidate=FIRST)
    assert row.status == FAIL and row.answered == "nothing asked"
    assert "export X_BEARER_TOKEN" in row.next


# ---- Google Trends ----------------------------------------------------------------------


def test_trends_cookie_call_and_one_explore(trends: TrendsSandbox, lake: Lake) -> None:
    row = check_trends_web(lake=lake, now=NOW)
    assert row.status == OK, row
    assert row.answered.startswith("cookie call: NID cookie received; explore: ")
    assert row.cost == "free (3 requests)"
    assert [r.path for r in trends.requests][0] == "/trends/explore/"


def test_trends_block_is_reported_as_a_block(trends: TrendsSandbox, lake: Lake) -> None:
    trends.block()
    row = check_trends_web(lake=lake, now=NOW)
    assert row.status == FAIL and row.answered.startswith("blocked: ")
    assert "captcha" in row.answered and "TRENDS_BACKEND=official" in row.next
    # Google refused this machine: the collection's cool-down starts, as after its own refusal
    assert lake.exists("state/trends_cooldown.json")
    trends.block(False)
    again = check_trends_web(lake=lake, now=NOW)
    assert again.status == FAIL and "not asked" in again.answered


def test_trends_cooldown_running_sends_nothing(trends: TrendsSandbox, lake: Lake) -> None:
    from elex_assets.core.trends.state import TrendsGate

    TrendsGate(lake, clock=lambda: NOW).refused("429 on GET /trends/api/explore")
    row = check_trends_web(lake=lake, now=NOW)
    assert row.status == FAIL and "not asked" in row.answered
    assert trends.requests == []


def test_trends_official_backend_answers(trends: TrendsSandbox, lake: Lake,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRENDS_BACKEND", "official")
    row = check_trends_official(lake=lake, now=NOW)
    assert row.status == OK, row
    assert row.answered.startswith("credentials accepted; fetchTimeSeries: 1 point(s)")
    assert row.cost == "free (1 of today's 100 requests; 99 left)"  # counted like a run's


def test_trends_official_daily_budget_spent_sends_nothing(trends: TrendsSandbox, lake: Lake,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from elex_assets.core.trends.official_budget import RequestBudget

    monkeypatch.setenv("TRENDS_BACKEND", "official")
    monkeypatch.setenv("TRENDS_OFFICIAL_MAX_REQUESTS_PER_DAY", "1")
    RequestBudget(lake, 1, clock=lambda: NOW).charge_fetch("a run earlier today")
    row = check_trends_official(lake=lake, now=NOW)
    assert row.status == FAIL and row.answered.startswith("not asked")
    assert "TRENDS_OFFICIAL_MAX_REQUESTS_PER_DAY" in row.next
    assert not [r for r in trends.requests if "v1alpha" in r.path]


def test_trends_official_quota_spent(trends: TrendsSandbox, lake: Lake,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRENDS_BACKEND", "official")
    trends.inject("429", times=None, path=":fetchTimeSeries")
    row = check_trends_official(lake=lake, now=NOW)
    assert row.status == FAIL and row.answered.startswith("blocked: ")


def test_trends_official_credentials_refused(trends: TrendsSandbox, env: Path, lake: Lake,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    creds = env / "creds.json"
    creds.write_text(json.dumps({
        "type": "authorized_user", "client_id": "elex.apps.googleusercontent.com",
        "client_secret": "not-a-secret", "refresh_token": "1//revoked"}))
    monkeypatch.setenv("TRENDS_BACKEND", "official")
    monkeypatch.setenv("TRENDS_CREDENTIALS_FILE", str(creds))
    trends.inject("429", times=None, path="/token")  # Google's token endpoint says no
    row = check_trends_official(lake=lake, now=NOW)
    assert row.status == FAIL and "refused the credentials" in row.answered
    assert "invitation" in row.next


def test_trends_server_errors_are_reported_not_retried(trends: TrendsSandbox, lake: Lake) -> None:
    trends.inject("500", times=None, path="/trends/api/explore")
    row = check_trends_web(lake=lake, now=NOW)
    assert row.status == FAIL and row.answered.startswith("TrendsUnavailable")
    assert "TRENDS_BASE_URL" in row.next
    assert len([r for r in trends.requests if "/api/explore" in r.path]) == 1  # one attempt


def test_trends_official_without_credentials_on_google(env: Path, lake: Lake,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRENDS_BACKEND", "official")
    monkeypatch.setenv("TRENDS_OFFICIAL_BASE_URL", "https://searchtrends.googleapis.com")
    row = check_trends_official(lake=lake, now=NOW)
    assert row.status == FAIL and "TRENDS_CREDENTIALS_FILE" in row.next


def test_trends_official_not_configured_is_skipped(trends: TrendsSandbox, lake: Lake) -> None:
    assert check_trends_official(lake=lake, now=NOW).status == SKIPPED


# ---- Bluesky ----------------------------------------------------------------------------


def test_bsky_logs_in_once_then_reuses_the_stored_session(bsky: BskySandbox,
                                                          lake: Lake) -> None:
    first = check_bsky(lake=lake, now=NOW, first_candidate=FIRST)
    assert first.status == OK, first
    assert first.answered.startswith("logged in (")
    assert "logins left" in first.answered and first.cost == "free; 1 login(s)"
    again = check_bsky(lake=lake, now=NOW, first_candidate=FIRST)
    assert again.status == OK
    assert again.answered == ("session reused from the lake (no login); searchPosts answered; "
                              "elex's logins in the last 24 h: 1 of BSKY_MAX_LOGINS_PER_DAY=8")
    logins = [r for r in bsky.requests if r["path"].endswith("createSession")]
    assert len(logins) == 1


def test_bsky_login_budget_reads_bluesky_s_headers() -> None:
    """The recorded createSession answer (recordings/bsky, repo_auth_direct)."""
    headers = {"ratelimit-limit": "10", "ratelimit-remaining": "9",
               "ratelimit-policy": "10;w=86400"}
    assert login_budget(headers) == "9 of 10 logins left a day"
    assert login_budget({}) == "login budget not reported"


def test_bsky_wrong_app_password(env: Path, lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox = BskySandbox(election="2027", posts_per_day=10, app_password="other-pass-word").start()
    try:
        monkeypatch.setenv("BSKY_BASE_URL", sandbox.base_url)
        row = check_bsky(lake=lake, now=NOW, first_candidate=FIRST)
    finally:
        sandbox.stop()
    assert row.status == FAIL and row.answered.startswith("login refused")
    assert "BSKY_APP_PASSWORD" in row.next


def test_bsky_pause_asked_by_bluesky_sends_nothing(bsky: BskySandbox, lake: Lake) -> None:
    lake.write_bytes("state/bsky_cooldown.json",
                     json.dumps({"until": "2026-11-26T16:00:00+00:00"}).encode())
    row = check_bsky(lake=lake, now=NOW, first_candidate=FIRST)
    assert row.status == FAIL and "until 2026-11-26 16:00 UTC" in row.answered
    assert list(bsky.requests) == []


def test_bsky_login_refused_by_the_rate_limit(bsky: BskySandbox, lake: Lake) -> None:
    bsky.faults.add("429", times=10, path="/xrpc/com.atproto.server.createSession",
                    reset_in=3600)
    row = check_bsky(lake=lake, now=NOW, first_candidate=FIRST)
    assert row.status == FAIL and "rate" in row.answered.lower()
    assert "wait for the reset" in row.next


def test_bsky_login_budget_spent_by_elex_sends_no_login(bsky: BskySandbox, lake: Lake) -> None:
    from elex_assets.core.bsky.api import SANDBOX_HANDLE
    from elex_assets.core.bsky.session import LoginLedger

    # eight logins counted at a fixed instant ahead of any test run: inside the last 24 h
    ledger = LoginLedger(lake, SANDBOX_HANDLE, bsky.base_url, 8, clock=lambda: 4102444800.0)
    for _ in range(8):
        ledger.record()
    row = check_bsky(lake=lake, now=NOW, first_candidate=FIRST)
    assert row.status == FAIL and "login budget spent" in row.answered
    assert "wait for the reset" in row.next
    assert not [r for r in bsky.requests if r["path"].endswith("createSession")]


def test_bsky_not_configured_is_skipped(env: Path, lake: Lake,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BSKY_BASE_URL", "https://bsky.social")
    row = check_bsky(lake=lake, now=NOW, first_candidate=FIRST)
    assert row.status == SKIPPED and "not collected" in row.answered


# ---- Kaggle -----------------------------------------------------------------------------


def _kaggle(monkeypatch: pytest.MonkeyPatch, url: str, dataset: str = "jane/elex-2027-test",
            user: str = "jane") -> None:
    monkeypatch.setenv("KAGGLE_USERNAME", user)
    monkeypatch.setenv("KAGGLE_KEY", "s3cr3t")
    monkeypatch.setenv("KAGGLE_DATASET", dataset)
    monkeypatch.setenv("KAGGLE_API_ENDPOINT", url)


def test_kaggle_dataset_owned_and_existing(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeKaggleServer() as fake:
        fake.known.add("jane/elex-2027-test")
        _kaggle(monkeypatch, fake.url)
        row = check_kaggle()
    assert row.status == OK, row
    assert row.answered.startswith("credentials accepted; jane/elex-2027-test exists")
    assert [name for name, _ in fake.calls] == ["GetDatasetStatus"]  # read-only


def test_kaggle_dataset_not_created_yet(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeKaggleServer() as fake:
        _kaggle(monkeypatch, fake.url)
        row = check_kaggle()
    assert row.status == OK and "does not exist yet" in row.answered


def test_kaggle_credentials_refused(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeKaggleServer() as fake:
        fake.accepted = {"Basic " + base64.b64encode(b"jane:the-real-key").decode()}
        _kaggle(monkeypatch, fake.url)
        row = check_kaggle()
    assert row.status == FAIL and row.answered == "Kaggle refused the credentials (401)"
    assert "KAGGLE_KEY" in row.next


def test_kaggle_dataset_of_someone_else(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeKaggleServer() as fake:
        _kaggle(monkeypatch, fake.url, dataset="paul/elex-2027-test")
        missing = check_kaggle()
        fake.known.add("paul/elex-2027-test")
        existing = check_kaggle()
    assert missing.status == FAIL and "owned by 'paul', not 'jane'" in missing.answered
    assert existing.status == WARN and "collaborator" in existing.next


def test_kaggle_publish_without_credentials(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert check_kaggle().status == SKIPPED
    monkeypatch.setenv("ELEX_KAGGLE_PUBLISH", "true")
    row = check_kaggle()
    assert row.status == FAIL and "KAGGLE_USERNAME and KAGGLE_KEY" in row.next


def test_kaggle_credentials_without_a_dataset(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAGGLE_USERNAME", "jane")
    monkeypatch.setenv("KAGGLE_KEY", "s3cr3t")
    row = check_kaggle()
    assert row.status == WARN and "KAGGLE_DATASET" in row.next


# ---- the lake and the instance ----------------------------------------------------------


def test_lake_write_read_delete_and_lease(lake: Lake) -> None:
    row = check_lake(lake)
    assert row.status == OK and row.answered == "write, read, delete and lease: ok"
    assert lake.list("state/doctor") == [] and lake.list("state/leases") == []


def test_lake_that_cannot_be_written(env: Path) -> None:
    blocker = env / "not-a-folder"
    blocker.write_text("a file where the lake should be")
    row = check_lake(Lake.from_url(str(blocker)))
    assert row.status == FAIL and row.answered.startswith("write failed")


def test_lake_on_s3(s3_bucket: str) -> None:
    from elex_assets.settings import AwsSettings

    row = check_lake(AwsSettings.load().lake(f"s3://{s3_bucket}/elex"))
    assert row.status == OK, row


def test_instance_sqlite_and_unreachable_postgres(env: Path) -> None:
    """The production path too: dagster-postgres retries a refused connection for a few
    seconds (as it will for the user) before the row names the cause."""
    from elex_assets.cli.demo import prepare_instance_home
    from elex_assets.settings import scoped_env

    home = env / "home"
    with scoped_env({}):
        prepare_instance_home(home)
    row = check_instance(home)
    assert row.status == OK and row.answered.startswith("sqlite storage answered")
    assert check_instance(env / "nowhere").status == WARN
    pg = env / "pg"
    pg.mkdir()
    (pg / "dagster.yaml").write_text(
        "storage:\n  postgres:\n    postgres_db:\n      hostname: 127.0.0.1\n      port: 9\n"
        "      username: dagster\n      password: wrong\n      db_name: dagster\n"
        "      scheme: postgresql+psycopg2\n")
    row = check_instance(pg)
    assert row.status == FAIL and "DAGSTER_PG_HOST" in row.next
    assert "OperationalError" in row.answered and "Connection refused" in row.answered


# ---- the whole command ------------------------------------------------------------------


def test_the_table_and_the_exit_code(x: XSandbox, bsky: BskySandbox, trends: TrendsSandbox,
                                     env: Path) -> None:
    out: list[str] = []
    assert run_doctor(spend=False, out=out.append, now=NOW) == 0
    table = out[0]
    for word in ("check", "configured", "answered", "cost", "next", "X", "Trends (web)",
                 "Bluesky", "Kaggle", "Lake", "Instance"):
        assert word in table
    assert "nothing was spent" in out[1]
    trends.block()
    out.clear()
    assert run_doctor(spend=False, out=out.append, now=NOW) == 1
    assert "cannot work: Trends (web)" in out[1]


def test_the_cli_parses_doctor() -> None:
    import argparse

    from elex_assets.cli import main as cli

    seen: dict[str, object] = {}

    def fake_run(args: argparse.Namespace) -> int:
        seen.update(vars(args))
        return 0

    original = cli._run
    cli._run = fake_run
    try:
        assert cli.main(["doctor", "--spend"]) == 0
    finally:
        cli._run = original
    assert seen["command"] == "doctor" and seen["spend"] is True


def test_a_check_that_crashes_is_a_failed_row_and_the_others_run(
        env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from elex_assets.cli import doctor

    def broken() -> None:
        raise RuntimeError("kaggle client exploded")

    monkeypatch.setattr(doctor, "check_kaggle", broken)
    monkeypatch.setenv("X_API_BASE_URL", "https://api.x.com")  # no token: fails, asks nothing
    monkeypatch.setenv("BSKY_BASE_URL", "https://bsky.social")
    monkeypatch.setattr(doctor, "check_trends_web", lambda **_: doctor.Finding(
        "Trends (web)", SKIPPED, "", "not asked in this test"))
    rows = {f.check: f for f in doctor.run_checks(now=NOW)}
    assert rows["Kaggle"].status == FAIL
    assert rows["Kaggle"].answered == "RuntimeError: kaggle client exploded"
    assert rows["Lake"].status == OK and rows["Bluesky"].status == SKIPPED


# ---- Wikipedia ------------------------------------------------------------------------


def _candidates() -> list:
    from elex_assets.core.registry import load_registry

    return load_registry("2027").selected(0)


def test_wikimedia_answers_views_for_the_first_article(
        env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from elex_assets.sandbox.wiki_server import WikiSandbox

    candidates = _candidates()
    with WikiSandbox.for_candidates(candidates, clock=lambda: NOW) as sandbox:
        monkeypatch.setenv("WIKIMEDIA_BASE_URL", sandbox.base_url)
        row = check_wikimedia(now=NOW, candidates=candidates)
    assert row.status == "ok", row
    assert "views" in row.answered and "2026-11-24" in row.answered
    assert row.cost == "free (1 requests)"


def test_wikimedia_without_a_contact_is_skipped_and_says_what_to_set(
        env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WIKIMEDIA_BASE_URL", raising=False)  # the real host: never asked here
    monkeypatch.delenv("WIKIMEDIA_CONTACT", raising=False)
    row = check_wikimedia(now=NOW, candidates=_candidates())
    assert row.status == "skipped"
    assert "WIKIMEDIA_CONTACT" in row.answered and "WIKIMEDIA_CONTACT" in row.next


def test_a_wikimedia_refusal_is_a_failure_naming_what_to_check(
        env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from elex_assets.sandbox.wiki_server import WikiSandbox

    candidates = _candidates()
    with WikiSandbox.for_candidates(candidates, clock=lambda: NOW) as sandbox:
        sandbox.faults.add("429", reset_in=3600)  # Retry-After past what a run waits
        monkeypatch.setenv("WIKIMEDIA_BASE_URL", sandbox.base_url)
        row = check_wikimedia(now=NOW, candidates=candidates)
    assert row.status == "fail" and "429" in row.next
    assert len(sandbox.requests) == 1  # asked once: a refusal is never retried into a storm


def test_a_title_wikimedia_does_not_know_is_a_warning_naming_it(
        env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from elex_assets.sandbox.wiki_server import WikiSandbox

    with WikiSandbox({}, clock=lambda: NOW) as sandbox:  # knows no article: 404 for all
        monkeypatch.setenv("WIKIMEDIA_BASE_URL", sandbox.base_url)
        row = check_wikimedia(now=NOW, candidates=_candidates())
    assert row.status == "warn" and "404" in row.answered
    assert "redirect" in row.next
