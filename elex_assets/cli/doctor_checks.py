"""The checks of ``elex doctor``, one function per source, each returning one ``Finding``.

Each check makes the fewest calls that tell whether the live configuration works,
with one attempt (no backoff: the doctor reports, the collection retries) and never
writes data. It shares the collection's state where that protects a service: the lake
check writes and removes one object under ``state/doctor/``, a Bluesky session is kept
where the collection keeps it, a Google refusal starts the Trends cool-down, and
``--spend`` records its one counts request in the X spend ledger like any paid call.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from elex_assets.core.lake import Lake

OK, WARN, FAIL, SKIPPED = "ok", "warn", "fail", "skipped"
X_PROBE_GRANULARITY = "elex-doctor"  # not a granularity: X answers 400, and bills nothing


@dataclass(frozen=True)
class Finding:
    """One row of the doctor's table."""

    check: str
    status: str  # ok | warn | fail | skipped
    configured: str
    answered: str
    cost: str = "free"
    next: str = ""


def _dollars(amount: float) -> str:
    return f"${amount:g}"


# ---- X --------------------------------------------------------------------------------


def x_probe(base_url: str, token: str, endpoint: str, timeout: float = 15.0) -> tuple[int, str]:
    """A deliberately invalid counts request: X checks the token and the endpoint's
    access first (401, 403), then refuses the parameter (400), and bills no refusal."""
    import requests

    url = f"{base_url.rstrip('/')}/2/tweets/counts/{endpoint}"
    try:
        response = requests.get(url, params={"query": "elex", "granularity": X_PROBE_GRANULARITY},
                                headers={"Authorization": f"Bearer {token}"}, timeout=timeout)
    except requests.RequestException as exc:
        return 0, type(exc).__name__
    return response.status_code, (response.text or "")[:200]


def _x_access(status: int, detail: str) -> str:
    if status == 400:
        return "yes"
    if status == 403:
        return "no (403)"
    if status == 429:
        return "usage cap (429)" if "usage" in detail.lower() or "cap" in detail.lower() \
            else "rate-limited (429)"
    return f"no answer ({status or detail})"


def check_x(*, spend: bool, lake: Lake, now: datetime, first_candidate: str) -> Finding:
    from elex_assets.core.x.client import XApiError
    from elex_assets.core.x.spend import XSpendCeiling, paid_request
    from elex_assets.defs.x.resources import SANDBOX_TOKEN, XResource
    from elex_assets.settings import XSettings

    xs = XSettings.load()
    x = XResource.from_settings(xs, max_attempts=1).process_config_and_initialize()
    where = "sandbox" if x.sandbox else x.base_url
    configured = f"X_BEARER_TOKEN {'set' if x.bearer_token else 'unset'}; " \
                 f"X_SEARCH_ENDPOINT={x.endpoint}; {where}"
    if not x.bearer_token and not x.sandbox:
        return Finding("X", FAIL, configured, "nothing asked",
                       next="export X_BEARER_TOKEN (the app bearer token of your X app): the "
                            "X schedules are on by default and fail without it")
    token = x.bearer_token or SANDBOX_TOKEN
    probes = {e: x_probe(x.base_url, token, e) for e in ("recent", "all")}
    if probes["recent"][0] == 401 or probes["all"][0] == 401:
        return Finding("X", FAIL, configured, "token refused (401)",
                       next="regenerate the bearer token in the X developer portal and set "
                            "X_BEARER_TOKEN (operations: rotate the X token)")
    access = {e: _x_access(*probes[e]) for e in probes}
    answered = f"token accepted; recent: {access['recent']}; all: {access['all']}"
    if access[x.endpoint] != "yes":
        hint = ("set X_SEARCH_ENDPOINT=recent or get full-archive access for the app"
                if x.endpoint == "all" and probes["all"][0] == 403
                else "wait for the cap's reset or raise the plan in the X developer portal"
                if "cap" in access[x.endpoint]
                else f"check X_API_BASE_URL={x.base_url} and the network")
        if probes[x.endpoint][0] == 0 or probes[x.endpoint][0] == 403 \
                or "cap" in access[x.endpoint]:
            return Finding("X", FAIL, configured, answered, next=hint)
        return Finding("X", WARN, configured, answered, next=hint)
    price = x.prices().counts(x.endpoint)
    if not spend:
        return Finding("X", OK, configured, answered,
                       next=f"elex doctor --spend proves it with one counts request "
                            f"({_dollars(price)})")
    guard = x.spend_guard(lake, f"doctor-{uuid.uuid4().hex[:8]}", "elex doctor",
                          clock=lambda: now)
    end = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    query = f'"{first_candidate}"'
    try:
        guard.before_counts(x.endpoint)  # reserved in the shared ledger, as a run's request
        with paid_request(guard):  # a request that fails is not billed: released
            page = x.client().counts(
                x.endpoint, query, granularity="hour",
                start_time=f"{end - timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}",
                end_time=f"{end:%Y-%m-%dT%H:%M:%SZ}")
        guard.record_counts(x.endpoint)
    except XSpendCeiling as exc:
        return Finding("X", FAIL, configured, answered + f"; counts not asked: {exc}",
                       next="raise X_MAX_USD_PER_DAY / X_MAX_USD_PER_MONTH or wait for the reset")
    except XApiError as exc:
        return Finding("X", FAIL, configured, answered + f"; counts refused: {exc}",
                       cost=f"{_dollars(0)} (refused)", next="see the answer; nothing was billed")
    total = page.meta.get("total_tweet_count", 0)
    billed = f"{_dollars(price)}" + (" (sandbox: not billed)" if x.sandbox else "")
    return Finding("X", OK, configured,
                   answered + f"; counts/{x.endpoint}: {total} posts for {query} "
                              f"{end - timedelta(hours=1):%H:%M}-{end:%H:%M} UTC",
                   cost=billed, next="recorded in the spend ledger (state/x_spend/)")


# ---- Google Trends ----------------------------------------------------------------------


def check_trends_web(*, lake: Lake, now: datetime) -> Finding:
    from elex_assets.core.trends.client import Politeness, Transport, TrendsClient, day_timeframe
    from elex_assets.core.trends.errors import TrendsBlocked, TrendsError
    from elex_assets.core.trends.state import TrendsGate
    from elex_assets.settings import TrendsSettings

    ts = TrendsSettings.load()
    configured = f"TRENDS_BASE_URL={ts.base_url}; anchor {ts.anchor!r}"
    # The collection's gate: the doctor keeps the shared interval, sends nothing during a
    # cool-down, and a refusal it meets starts one (Google refused this machine).
    gate = TrendsGate(lake, clock=lambda: now)
    cooldown = gate.active_cooldown()
    if cooldown is not None:
        return Finding("Trends (web)", FAIL, configured,
                       f"blocked: {cooldown.message()}; not asked",
                       next="wait for the end of the cool-down (the hourly schedule resumes "
                            "by itself); for a steadier source: TRENDS_BACKEND=official")
    transport = Transport(base_url=ts.base_url, hl="fr-FR", gate=gate, politeness=Politeness(
        min_interval=ts.min_interval_seconds, max_attempts=1, timeout=ts.timeout_seconds))
    client = TrendsClient("fr", transport)
    try:
        rows = client.interest_over_time([ts.anchor], day_timeframe((now - timedelta(days=1))
                                                                    .date(), now))
    except TrendsBlocked as exc:
        return Finding("Trends (web)", FAIL, configured, f"blocked: {exc}",
                       cost=f"free ({transport.requests_made} requests)",
                       next="Google blocks scripted clients for long stretches: wait and "
                            "run elex doctor again, or use TRENDS_BACKEND=official")
    except TrendsError as exc:
        return Finding("Trends (web)", FAIL, configured, f"{type(exc).__name__}: {exc}",
                       cost=f"free ({transport.requests_made} requests)",
                       next=f"check TRENDS_BASE_URL={ts.base_url} and the network")
    cookie = "NID cookie received" if "NID" in transport.cookies else "no NID cookie"
    return Finding("Trends (web)", OK, configured,
                   f"cookie call: {cookie}; explore: {rows.height} points for {ts.anchor!r}",
                   cost=f"free ({transport.requests_made} requests)")


def check_trends_official(*, lake: Lake, now: datetime) -> Finding:
    from elex_assets.core.trends.errors import (
        TrendsBlocked,
        TrendsBudgetExceeded,
        TrendsConfigError,
        TrendsError,
    )
    from elex_assets.core.trends.official import OfficialClient, is_loopback, load_token
    from elex_assets.core.trends.official_budget import RequestBudget
    from elex_assets.core.trends.state import TrendsGate
    from elex_assets.settings import TrendsSettings

    ts = TrendsSettings.load()
    configured = f"TRENDS_BACKEND={ts.backend}; TRENDS_CREDENTIALS_FILE " \
                 f"{'set' if ts.credentials_file else 'unset'}"
    if ts.backend != "official" and not ts.credentials_file:
        return Finding("Trends (official)", SKIPPED, configured, "not asked",
                       next="optional: TRENDS_BACKEND=official once Google grants access")
    if not ts.credentials_file and not is_loopback(ts.official_base_url):
        return Finding("Trends (official)", FAIL, configured, "nothing asked",
                       next="set TRENDS_CREDENTIALS_FILE (service-account JSON or authorised-"
                            "user token, scope auth/searchtrends)")
    # The collection's cool-down and daily request budget: the doctor's fetch counts too.
    gate = TrendsGate(lake, clock=lambda: now, source="trends_official")
    budget = RequestBudget(lake, ts.official_max_requests_per_day, clock=lambda: now)
    cooldown = gate.active_cooldown()
    if cooldown is not None:
        return Finding("Trends (official)", FAIL, configured,
                       f"blocked: {cooldown.message()}; not asked",
                       next="wait for the end of the cool-down (the quota resets daily)")
    try:
        token = load_token(ts.credentials_file, ts.official_base_url)
        client = OfficialClient("fr", ts.official_base_url, token=token, gate=gate,
                                budget=budget, min_interval=0, timeout=ts.timeout_seconds,
                                max_polls=20)
        rows = client.time_series(ts.anchor, (now - timedelta(days=3)).date())
    except TrendsBudgetExceeded as exc:
        return Finding("Trends (official)", FAIL, configured, f"not asked: {exc}",
                       next="the day's TRENDS_OFFICIAL_MAX_REQUESTS_PER_DAY is spent: "
                            "run elex doctor again tomorrow (UTC)")
    except TrendsConfigError as exc:
        return Finding("Trends (official)", FAIL, configured, str(exc),
                       next="the alpha is by invitation: ask Google for access for this "
                            "project, or check the credentials file")
    except TrendsBlocked as exc:
        return Finding("Trends (official)", FAIL, configured, f"blocked: {exc}",
                       next="the daily quota is spent (reported ~100 requests a day): retry "
                            "tomorrow")
    except TrendsError as exc:
        return Finding("Trends (official)", FAIL, configured, f"{type(exc).__name__}: {exc}",
                       next=f"check TRENDS_OFFICIAL_BASE_URL={ts.official_base_url}")
    return Finding("Trends (official)", OK, configured,
                   f"credentials accepted; fetchTimeSeries: {rows.height} point(s) for "
                   f"{ts.anchor!r}",
                   cost=f"free ({client.requests_made} of today's {budget.per_day} requests; "
                        f"{budget.remaining()} left)")


# ---- Bluesky ----------------------------------------------------------------------------


def login_budget(headers: dict[str, str]) -> str:
    """What ``createSession``'s ``ratelimit-*`` headers say is left (e.g. 9 of 10 a day)."""
    remaining, limit = headers.get("ratelimit-remaining"), headers.get("ratelimit-limit")
    if remaining is None or limit is None:
        return "login budget not reported"
    policy = headers.get("ratelimit-policy", "")
    window = policy.split("w=", 1)[1] if "w=" in policy else ""
    per = {"86400": " a day", "300": " per 5 minutes"}.get(window, f" per {window}s" if window
                                                            else "")
    return f"{remaining} of {limit} logins left{per}"


def check_bsky(*, lake: Lake, now: datetime, first_candidate: str) -> Finding:
    from elex_assets.core.bsky.api import BskyAuthError, BskyError
    from elex_assets.defs.bsky.resources import BskyResource
    from elex_assets.settings import BskySettings, XSettings

    bs = BskySettings.load()
    sandbox = BskyResource(base_url=bs.base_url).sandbox
    configured = f"BSKY_HANDLE {'set' if bs.handle_set else 'unset'}; BSKY_APP_PASSWORD " \
                 f"{'set' if bs.app_password_set else 'unset'}; " \
                 f"{'sandbox' if sandbox else bs.base_url}"
    if not bs.credentials_set and not sandbox:
        return Finding("Bluesky", SKIPPED, configured, "not asked: Bluesky is not collected",
                       next="to collect it: BSKY_HANDLE and BSKY_APP_PASSWORD (an app password)")
    from elex_assets.core.bsky.collect import cooldown_until

    until = cooldown_until(lake)
    if until is not None and until > now:
        return Finding("Bluesky", FAIL, configured,
                       f"rate-limited: Bluesky asked for a pause until {until:%Y-%m-%d %H:%M} "
                       "UTC (state/bsky_cooldown.json); not asked",
                       next="wait for the end of the pause: the schedule resumes by itself")
    resource = BskyResource.from_settings(bs, XSettings.load().min_status, max_attempts=1)
    resource = resource.process_config_and_initialize()
    client = resource.client(lake)
    budget = ""
    try:
        client.login()
        if client.logins:
            budget = login_budget(client.last_headers)
        client.search(f'"{first_candidate}"', since=_iso(now - timedelta(hours=1)),
                      until=_iso(now), limit=1)
    except BskyAuthError as exc:
        return Finding("Bluesky", FAIL, configured, f"login refused: {exc}",
                       cost=f"{client.logins} login(s)",
                       next="create an app password (Settings > Privacy and security > App "
                            "passwords) and set BSKY_APP_PASSWORD; check BSKY_HANDLE")
    except BskyError as exc:
        limited = any(w in str(exc).lower() for w in ("rate", "budget"))
        return Finding("Bluesky", FAIL, configured, f"{type(exc).__name__}: {exc}",
                       cost=f"{client.logins} login(s)",
                       next="logins are limited per account and day: wait for the reset "
                            "before trying again" if limited else
                            f"check BSKY_BASE_URL={bs.base_url} and the network")
    how = ("session reused from the lake (no login)" if client.session_reused and not client.logins
           else f"logged in ({budget})")
    return Finding("Bluesky", OK, configured,
                   f"{how}; searchPosts answered; {own_login_budget(lake, resource)}",
                   cost=f"free; {client.logins} login(s)",
                   next="" if client.session_reused else
                   "the session is kept in the lake (state/bsky_session/): runs reuse it")


def own_login_budget(lake: Lake, resource: Any) -> str:
    """elex's own count of the account's logins (``BSKY_MAX_LOGINS_PER_DAY``, in the lake)."""
    from elex_assets.core.bsky.api import SANDBOX_HANDLE
    from elex_assets.core.bsky.session import LoginLedger

    ledger = LoginLedger(lake, resource.handle or SANDBOX_HANDLE, resource.base_url,
                         resource.max_logins_per_day)
    used = len(ledger.attempts())
    return (f"elex's logins in the last 24 h: {used} of BSKY_MAX_LOGINS_PER_DAY="
            f"{ledger.budget}")


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


# ---- Kaggle -----------------------------------------------------------------------------


def check_wikimedia(*, now: datetime, candidates: Sequence[Any]) -> Finding:
    """One small pageviews request (the first candidate's article, two days ago): the
    User-Agent contact Wikimedia requires, the host, and that the title has data."""
    from elex_assets.core.wiki.api import WikimediaError
    from elex_assets.core.wiki.collect import build_targets, check_answer
    from elex_assets.defs.wiki.resources import WikiResource
    from elex_assets.settings import WikiSettings, XSettings

    ws = WikiSettings.load()
    resource = WikiResource.from_settings(ws, XSettings.load().min_status)
    configured = (f"WIKIMEDIA_BASE_URL={ws.base_url}; contact "
                  f"{'set' if ws.contact else 'not set'}; languages {','.join(ws.languages)}")
    if not ws.contact and not resource.sandbox:  # collection is off until a contact is set
        return Finding("Wikipedia", SKIPPED, configured, "not asked: pageviews are not "
                       "collected until WIKIMEDIA_CONTACT is set",
                       next="export WIKIMEDIA_CONTACT=you@example.org (Wikimedia requires a "
                            "User-Agent with a contact) to collect pageviews")
    targets = build_targets(candidates, resource.languages)
    if not targets:
        return Finding("Wikipedia", WARN, configured, "no candidate has an article title",
                       next="add `wikipedia` titles to the registry (docs/registry.md)")
    target = targets[0]
    day = (now - timedelta(days=2)).date()
    try:
        client = resource.client()
        answer = client.daily(target.project, target.article, day, day)
        views = check_answer(answer)
    except WikimediaError as exc:
        return Finding("Wikipedia", FAIL, configured, f"{type(exc).__name__}: {exc}",
                       next="check WIKIMEDIA_BASE_URL and WIKIMEDIA_CONTACT; after a 429, "
                            "run elex doctor again once its Retry-After has passed")
    asked = f"{target.project} {target.article!r} on {day}"
    if answer.status == 404:
        return Finding("Wikipedia", WARN, configured, f"no data for {asked} (404)",
                       cost=f"free ({client.requests} requests)",
                       next="check the title in the registry: the article's own title, not "
                            "a redirect (docs/sources/wikipedia.md)")
    return Finding("Wikipedia", OK, configured, f"{asked}: {sum(views.values()):,} views",
                   cost=f"free ({client.requests} requests)")


def check_kaggle() -> Finding:
    from requests.exceptions import HTTPError, RequestException

    from elex_assets.core.kaggle.publish import _api, _credentials
    from elex_assets.defs.kaggle.resources import kaggle_resource_from_settings
    from elex_assets.settings import KaggleSettings, XSettings

    ks = KaggleSettings.load()
    configured = (f"KAGGLE_USERNAME {'set' if ks.username_set else 'unset'}; KAGGLE_KEY "
                  f"{'set' if ks.key_set else 'unset'}; KAGGLE_DATASET={ks.dataset or 'unset'}; "
                  f"ELEX_KAGGLE_PUBLISH={str(ks.publish).lower()}")
    if not (ks.username_set and ks.key_set):
        if ks.publish:
            return Finding("Kaggle", FAIL, configured, "nothing asked",
                           next="set KAGGLE_USERNAME and KAGGLE_KEY (kaggle.com > Settings > "
                                "API), or ELEX_KAGGLE_PUBLISH=false")
        return Finding("Kaggle", SKIPPED, configured, "not asked: the folder is built, "
                       "not published", next="to publish: KAGGLE_DATASET, KAGGLE_USERNAME, "
                                             "KAGGLE_KEY, ELEX_KAGGLE_PUBLISH=true")
    kr = kaggle_resource_from_settings(ks, XSettings.load()).process_config_and_initialize()
    username, key = kr.username or "", kr.key or ""
    if not kr.dataset:
        return Finding("Kaggle", FAIL if ks.publish else WARN, configured, "nothing asked",
                       next="set KAGGLE_DATASET=owner/slug")
    owner = kr.dataset.split("/", 1)[0]
    owned = owner.lower() == username.lower()
    try:
        with _credentials(username, key):
            status = _api(kr.api_endpoint).dataset_status(kr.dataset)
    except HTTPError as exc:
        code = exc.response.status_code if exc.response is not None else 0
        if code == 404:
            if owned:
                return Finding("Kaggle", OK, configured,
                               f"credentials accepted; {kr.dataset} does not exist yet",
                               next="the first publication creates it")
            return Finding("Kaggle", FAIL, configured,
                           f"{kr.dataset} not found, and owned by {owner!r}, not {username!r}",
                           next=f"use KAGGLE_DATASET={username}/<slug>, or the owner's "
                                "credentials")
        return Finding("Kaggle", FAIL, configured, f"Kaggle refused the credentials ({code})",
                       next="create a new API token (kaggle.com > Settings > API) and set "
                            "KAGGLE_USERNAME and KAGGLE_KEY")
    except RequestException as exc:
        return Finding("Kaggle", FAIL, configured, f"no answer: {type(exc).__name__}",
                       next="check the network (or KAGGLE_API_ENDPOINT)")
    if not owned:
        return Finding("Kaggle", WARN, configured,
                       f"{kr.dataset} exists ({status}); owned by {owner!r}, not {username!r}",
                       next="pushing versions needs the owner's credentials or collaborator "
                            "rights")
    return Finding("Kaggle", OK, configured, f"credentials accepted; {kr.dataset} exists "
                   f"({status}), owned by {username!r}")


# ---- the lake and the instance ----------------------------------------------------------


def check_lake(lake: Lake) -> Finding:
    from elex_assets.core.lease import Lease, LeaseHeld

    run = f"doctor-{uuid.uuid4().hex[:8]}"
    key = f"state/doctor/{run}.txt"
    configured = f"ELEX_LAKE_URL={lake.uri('')}"
    step = "write"
    try:
        payload = f"elex doctor {run}".encode()
        lake.write_bytes(key, payload)
        step = "read"
        if lake.read_bytes(key) != payload:
            return Finding("Lake", FAIL, configured, f"read back something else than written "
                           f"at {key}", next="check the bucket's consistency and versioning")
        step = "delete"
        lake.delete(key)
        step = "lease"
        lease = Lease(lake, "doctor", run, run, ttl_seconds=30, wait_seconds=0)
        lease.acquire()
        lease.release()
    except LeaseHeld as exc:
        return Finding("Lake", FAIL, configured, f"lease: {exc}", next="see the message")
    except Exception as exc:  # any storage error: what failed, and where
        return Finding("Lake", FAIL, configured, f"{step} failed: {type(exc).__name__}: {exc}",
                       next="check ELEX_LAKE_URL, the AWS credentials and the IAM policy "
                            "(deploy/iam-policy.json)")
    return Finding("Lake", OK, configured, "write, read, delete and lease: ok")


def check_instance(home: Path) -> Finding:
    configured = f"DAGSTER_HOME={home}"
    if not (home / "dagster.yaml").is_file():
        return Finding("Instance", WARN, configured, "no dagster.yaml there",
                       next="production: DAGSTER_HOME with deploy/dagster.yaml; locally "
                            "`make ui` or `elex demo` creates one")
    import dagster as dg

    try:
        with dg.DagsterInstance.from_config(str(home)) as instance:
            storage = type(instance.run_storage).__name__
            runs = instance.get_runs_count()
    except Exception as exc:  # a bad config, an unreachable PostgreSQL
        root = exc  # dagster-postgres says "too many retries"; psycopg2 below it says why
        while root.__cause__ is not None:
            root = root.__cause__
        why = " ".join(str(root).split()).split(" (Background on this error", 1)[0][:240]
        return Finding("Instance", FAIL, configured,
                       f"cannot open it: {type(root).__name__}: {why}",
                       next="check dagster.yaml and, in production, DAGSTER_PG_HOST/PORT/USER/"
                            "PASSWORD/DB and that PostgreSQL accepts the connection")
    kind = "PostgreSQL" if "Postgres" in storage else "sqlite" if "Sqlite" in storage else storage
    return Finding("Instance", OK, configured, f"{kind} storage answered ({runs} runs)")
