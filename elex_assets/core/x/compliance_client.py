"""X batch compliance jobs: create, upload the ids, poll until complete, download the results.

The cycle (X API v2, app-only bearer token):

1. ``POST /2/compliance/jobs`` ``{"type": "tweets", "name": …}`` -> the job, with a signed
   ``upload_url`` and ``download_url`` (and when each expires);
2. ``PUT`` the ids, one per line, to ``upload_url`` (a storage URL: no bearer token);
3. ``GET /2/compliance/jobs/:id`` until ``status`` is ``complete`` (``failed`` and
   ``expired`` end it), with a growing pause between polls;
4. ``GET download_url``: JSON lines, one per id whose state changed:
   ``{"id", "action", "created_at", "redacted_at", "reason"}``.

Transient faults (429, 5xx, dropped connections) are retried by elex's one
retry layer (:mod:`elex_assets.core.retrying`, policy ``COMPLIANCE_RETRY``): a
429 waits for its reset (bounded); a refused request (4xx), a failed or expired
job fail at once with a message naming the job and what to do. The token never
appears in errors.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from elex_assets.core.retrying import (
    GiveUp,
    RateLimited,
    RetryPolicy,
    Transient,
    past_the_bound,
    reset_from_headers,
    retrying,
)

if TYPE_CHECKING:
    import requests
    import tenacity

JOBS_PATH = "/2/compliance/jobs"
TRANSIENT_STATUSES = {429, 500, 502, 503, 504}


class ComplianceError(RuntimeError):
    """A compliance job could not be carried out; the message says which and why."""

    transient = False


class ComplianceTransientError(ComplianceError):
    """Transient faults persisted past the retry bounds (worth a later retry), unless
    a rate limit's reset lies past the wait bound."""

    transient = True


class ComplianceJobEnded(ComplianceError):
    """The job ended ``failed`` or ``expired`` (a new job is needed)."""

    def __init__(self, job: dict[str, Any]) -> None:
        self.job = job
        super().__init__(
            f"X compliance job {job.get('id')} ended with status {job.get('status')!r}"
            + (" (its upload or download window passed)" if job.get("status") == "expired" else "")
            + "; nothing was applied: run x_compliance again to submit a new job"
        )


@dataclass(frozen=True)
class ComplianceEvent:
    """One line of a job's results: a post whose content must go."""

    id: str
    action: str
    reason: str
    created_at: str | None
    redacted_at: str | None

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ComplianceEvent:
        if "id" not in raw or "action" not in raw:
            raise ComplianceError(f"compliance result line without id or action: {raw!r}")
        return cls(
            str(raw["id"]),
            str(raw["action"]),
            str(raw.get("reason") or raw["action"]),
            raw.get("created_at"),
            raw.get("redacted_at"),
        )


COMPLIANCE_RETRY = RetryPolicy(
    "X compliance", max_attempts=6, backoff_base=2.0, backoff_max=60.0, max_rate_limit_wait=960.0,
    reset_header="x-rate-limit-reset",
)


@dataclass(frozen=True)
class CompliancePolicy:
    """Retry and polling bounds; tests shrink the waits."""

    max_attempts: int = COMPLIANCE_RETRY.max_attempts
    backoff_base: float = COMPLIANCE_RETRY.backoff_base
    backoff_max: float = COMPLIANCE_RETRY.backoff_max
    poll_first: float = 5.0
    poll_max: float = 300.0
    max_wait: float = 6 * 3600.0  # give up polling after this long (the job stays on X's side)
    timeout: float = 60.0
    max_rate_limit_wait: float = COMPLIANCE_RETRY.max_rate_limit_wait

    @property
    def retry(self) -> RetryPolicy:
        """The compliance retry policy with these bounds."""
        return replace(COMPLIANCE_RETRY, max_attempts=self.max_attempts,
                       backoff_base=self.backoff_base, backoff_max=self.backoff_max,
                       max_rate_limit_wait=self.max_rate_limit_wait)


class ComplianceClient:
    """One compliance job at a time (X allows one concurrent job per type)."""

    def __init__(
        self,
        token: str,
        base_url: str,
        policy: CompliancePolicy | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        on_wait: Callable[[str], None] | None = None,
    ) -> None:
        self._token = token
        self.base_url = base_url.rstrip("/")
        self.policy = policy or CompliancePolicy()
        self.sleep = sleep
        self.on_wait = on_wait or (lambda _msg: None)
        import requests  # loads with the first client, not with the definitions

        self.session = requests.Session()
        self.requests = 0  # every HTTP request sent, for the metadata

    def __repr__(self) -> str:  # never show the token
        return f"ComplianceClient(base_url={self.base_url!r})"

    # ---- the cycle ------------------------------------------------------------
    def run(self, ids: Iterable[str], name: str) -> tuple[dict[str, Any], list[ComplianceEvent]]:
        job = self.create_job(name)
        self.upload(job, ids)
        done = self.wait(job["id"])
        return done, self.download(done)

    def create_job(self, name: str) -> dict[str, Any]:
        response = self._call(
            "POST", f"{self.base_url}{JOBS_PATH}", "create the compliance job",
            json={"type": "tweets", "name": name[:64]}, auth=True,
        )
        return _data(response, "create")

    def upload(self, job: dict[str, Any], ids: Iterable[str]) -> int:
        body = "\n".join(ids)
        self._call(
            "PUT", job["upload_url"], f"upload the ids of compliance job {job['id']}",
            data=body.encode(), headers={"Content-Type": "text/plain"}, auth=False,
        )
        return body.count("\n") + 1 if body else 0

    def wait(self, job_id: str) -> dict[str, Any]:
        """Poll until ``complete``; ``failed``/``expired`` raise :class:`ComplianceJobEnded`."""
        import tenacity  # only a compliance run polls

        def poll() -> dict[str, Any]:
            job = _data(self._call("GET", f"{self.base_url}{JOBS_PATH}/{job_id}",
                                   f"poll compliance job {job_id}", auth=True), "poll")
            if job.get("status") in ("failed", "expired"):
                raise ComplianceJobEnded(job)
            return job

        def status(state: tenacity.RetryCallState) -> object:
            return state.outcome.result().get("status") if state.outcome else None

        def report(state: tenacity.RetryCallState) -> None:
            self.on_wait(f"compliance job {job_id} is {status(state)}; "
                         f"next poll in {state.upcoming_sleep:.0f}s")

        def give_up(state: tenacity.RetryCallState) -> None:
            raise ComplianceTransientError(
                f"X compliance job {job_id} still {status(state)!r} after {state.idle_for:.0f}s; "
                "run x_compliance again later"
            )

        polling = tenacity.Retrying(  # a growing pause between polls, not a retry of faults
            retry=tenacity.retry_if_result(lambda job: job.get("status") != "complete"),
            wait=tenacity.wait_exponential(multiplier=self.policy.poll_first,
                                           max=self.policy.poll_max),
            stop=lambda state: state.idle_for >= self.policy.max_wait,
            sleep=self.sleep, before_sleep=report, retry_error_callback=give_up,
        )
        return polling(poll)

    def download(self, job: dict[str, Any]) -> list[ComplianceEvent]:
        expires = job.get("download_expires_at")
        if expires and _parse(expires) < datetime.now(UTC):
            raise ComplianceJobEnded({**job, "status": "expired"})
        response = self._call("GET", job["download_url"],
                              f"download the results of compliance job {job['id']}", auth=False)
        events = []
        for number, line in enumerate(response.text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                events.append(ComplianceEvent.from_json(json.loads(line)))
            except json.JSONDecodeError:
                raise ComplianceError(
                    f"compliance job {job['id']}: result line {number} is not JSON: {line[:80]!r}"
                ) from None
        return events

    # ---- HTTP with the retry policy --------------------------------------------
    def _call(self, method: str, url: str, what: str, *, auth: bool, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if auth:
            headers["Authorization"] = f"Bearer {self._token}"
        import requests

        def attempt() -> requests.Response:
            self.requests += 1
            try:
                response = self.session.request(
                    method, url, headers=headers, timeout=self.policy.timeout, **kwargs
                )
            except requests.RequestException as exc:
                raise Transient(f"network error ({type(exc).__name__})") from None
            status = response.status_code
            if status < 400:
                return response
            if status == 429:
                raise RateLimited("HTTP 429", reset_from_headers(response.headers))
            if status not in TRANSIENT_STATUSES:
                raise ComplianceError(
                    f"could not {what}: HTTP {status} {_detail(response)}" + _hint(status)
                )
            raise Transient(f"HTTP {status}")

        def give_up(stop: GiveUp) -> ComplianceTransientError:
            if stop.beyond_bound:
                return past_the_bound(ComplianceTransientError(
                    f"could not {what}: rate limited, reset in {stop.wait:.0f}s exceeds the bound "
                    f"of {stop.policy.max_rate_limit_wait:.0f}s; run x_compliance again later"
                ), stop)
            return ComplianceTransientError(
                f"could not {what} after {stop.attempts} attempts (last: {stop.last})"
            )

        retry = retrying(self.policy.retry, what=what, sleep=self.sleep, give_up=give_up,
                         on_retry=lambda message, _attempt: self.on_wait(message))
        return retry(attempt)


def _data(response: requests.Response, what: str) -> dict[str, Any]:
    try:
        data = response.json()["data"]
    except (ValueError, KeyError, TypeError):
        raise ComplianceError(f"compliance {what}: unexpected answer {response.text[:200]!r}") from None
    return data


def _detail(response: requests.Response) -> str:
    try:
        body = response.json()
        return str(body.get("detail") or body.get("title") or body)[:200]
    except ValueError:
        return response.text[:200]


def _hint(status: int) -> str:
    if status in (401, 403):
        return " (check X_BEARER_TOKEN and that the app has access to batch compliance)"
    return ""


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
