"""Batch compliance jobs in the sandbox X API, and the posts that disappear over time.

Serves the four steps of X's batch compliance on the X sandbox's port:
``POST /2/compliance/jobs`` (app bearer token), the signed ``upload_url`` and
``download_url`` (no token; a ``signature`` parameter, as on X's storage), and
``GET /2/compliance/jobs/:id``. A job is ``created``, ``in_progress`` once its
ids are uploaded, and ``complete`` after ``polls_to_complete`` polls; its
results are JSON lines ``{"id", "action", "created_at", "redacted_at", "reason"}``
for the uploaded ids that changed.

Which posts change is seeded: a fixed fraction of post ids (``fraction``) is
deleted (or its author suspended, protected, deactivated) some hours to days
after the post was created, so the set grows as the sandbox clock moves on.
Tests steer the next jobs with ``outcomes`` (``"expire"``: the job expires before
it completes; ``"fail"``: it fails) and the sandbox's faults (a path under
``/compliance-storage/upload`` fails the upload).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from elex_assets.sandbox.x_generator import snowflake_ms

if TYPE_CHECKING:
    from elex_assets.sandbox.x_server import XSandbox

API_PREFIX = "/2/compliance/jobs"
UPLOAD_PREFIX = "/compliance-storage/upload/"
DOWNLOAD_PREFIX = "/compliance-storage/download/"
PREFIXES = (API_PREFIX, UPLOAD_PREFIX, DOWNLOAD_PREFIX)
REASONS = (("deleted", 0.7), ("suspended", 0.15), ("protected", 0.1), ("deactivated", 0.05))
UPLOAD_WINDOW = timedelta(minutes=15)  # X: the upload URL is valid 15 minutes
DOWNLOAD_WINDOW = timedelta(days=7)  # X: the results stay a week


def _unit(seed: int, post_id: str, salt: str) -> float:
    digest = hashlib.sha256(f"{seed}:{salt}:{post_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


class ComplianceSandbox:
    """The compliance jobs of one X sandbox (created on first use, kept on the sandbox)."""

    def __init__(
        self,
        sandbox: XSandbox,
        fraction: float = 0.03,
        seed: int = 2027,
        polls_to_complete: int = 1,
        max_delay: timedelta = timedelta(days=10),
    ) -> None:
        self.sandbox = sandbox
        self.fraction = fraction
        self.seed = seed
        self.polls_to_complete = polls_to_complete
        self.max_delay = max_delay
        self.jobs: dict[str, dict[str, Any]] = {}
        self.uploaded: dict[str, list[str]] = {}
        self.polls: dict[str, int] = {}
        self.outcomes: deque[str] = deque()  # "expire" | "fail" for the next jobs
        self._secret = hashlib.sha256(f"sandbox-{seed}".encode()).hexdigest().encode()
        self._lock = threading.Lock()
        self._seq = 0

    # ---- what changed on X -----------------------------------------------------
    def event(self, post_id: str, now: datetime) -> dict[str, Any] | None:
        """The compliance event of ``post_id`` at ``now``, or None when it is still public."""
        if not post_id.isdigit() or _unit(self.seed, post_id, "gone") >= self.fraction:
            return None
        created = datetime.fromtimestamp(snowflake_ms(int(post_id)) / 1000, UTC)
        delay = timedelta(hours=1) + (self.max_delay - timedelta(hours=1)) * _unit(
            self.seed, post_id, "delay"
        )
        redacted = created + delay
        if redacted > now:
            return None
        pick, acc, reason = _unit(self.seed, post_id, "reason"), 0.0, REASONS[-1][0]
        for name, share in REASONS:
            acc += share
            if pick < acc:
                reason = name
                break
        return {
            "id": post_id,
            "action": "delete",
            "created_at": _iso(created),
            "redacted_at": _iso(redacted),
            "reason": reason,
        }

    # ---- HTTP -------------------------------------------------------------------
    def handle(self, handler: Any, method: str, path: str, params: dict[str, str], fault: Any) -> None:
        """Answer one request (the X sandbox's handler hands over every compliance path).

        Self-contained on purpose: it needs only the standard ``BaseHTTPRequestHandler``
        API, the sandbox's token, clock and base URL, and the fault's ``kind``.
        """
        # The body is read first, whatever the answer: left unread on a kept-alive
        # connection it would be parsed as the next request.
        length = int(handler.headers.get("content-length", "0") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            self._route(handler, method, path, params, fault, raw)
        except _Reply as reply:
            _send_json(handler, reply.status, reply.body, reply.headers)

    def _route(self, handler: Any, method: str, path: str, params: dict[str, str], fault: Any,
               raw: bytes) -> None:
        storage = path.startswith((UPLOAD_PREFIX, DOWNLOAD_PREFIX))
        if not storage and not self._authorised(handler.headers.get("Authorization", "")):
            raise _Reply(401, _problem(401, "Unauthorized", "Unauthorized"))
        if fault is not None and fault.kind in FAULT_STATUSES:
            status = FAULT_STATUSES[fault.kind]
            raise _Reply(status, _problem(status, "Injected fault", f"sandbox fault {fault.kind}"),
                         _reset_header(fault) if status == 429 else None)
        if storage:
            job_id = path.rsplit("/", 1)[-1]
            if not self._signed(job_id, path, params.get("signature", "")):
                raise _Reply(403, _problem(403, "SignatureDoesNotMatch",
                                           "The request signature we calculated does not match "
                                           "the signature you provided."))
            if path.startswith(UPLOAD_PREFIX) and method == "PUT":
                self.upload(job_id, raw.decode())
                _send_json(handler, 200, {})
                return
            if path.startswith(DOWNLOAD_PREFIX) and method == "GET":
                self._send_lines(handler, self.results(job_id))
                return
        elif method == "POST" and path == API_PREFIX:
            _send_json(handler, 200, {"data": self.create(json.loads(raw or b"{}"))})
            return
        elif method == "GET" and path.startswith(API_PREFIX + "/"):
            _send_json(handler, 200, {"data": self.poll(path.rsplit("/", 1)[-1])})
            return
        raise _Reply(404, _problem(404, "Not Found Error", f"no route {method} {path}"))

    def _authorised(self, header: str) -> bool:
        if not header.startswith("Bearer ") or not header[7:].strip():
            return False
        return self.sandbox.token is None or header[7:] == self.sandbox.token

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        kind = body.get("type")
        if kind not in ("tweets", "users"):
            raise _Reply(400, {"errors": [{"parameters": {"type": [str(kind)]},
                                           "message": "The `type` value must be one of "
                                           "[tweets, users]"}],
                               "title": "Invalid Request", "detail": "One or more parameters "
                               "to your request was invalid.", "type":
                               "https://api.twitter.com/2/problems/invalid-request"})
        now = self.sandbox.clock()
        with self._lock:
            active = [j for j in self.jobs.values()
                      if j["type"] == kind and j["status"] in ("created", "in_progress")]
            if active:
                raise _Reply(400, _problem(400, "Invalid Request",
                                           f"A {kind} compliance job is already in progress "
                                           f"({active[0]['id']}); one job per type at a time."))
            self._seq += 1
            job_id = str(1_700_000_000_000_000_000 + self._seq)
            base = self.sandbox.base_url
            job = {
                "id": job_id,
                "type": kind,
                "name": str(body.get("name") or ""),
                "resumable": bool(body.get("resumable", False)),
                "status": "created",
                "created_at": _iso(now),
                "upload_url": f"{base}{UPLOAD_PREFIX}{job_id}?{self._signature(UPLOAD_PREFIX, job_id)}",
                "upload_expires_at": _iso(now + UPLOAD_WINDOW),
                "download_url": f"{base}{DOWNLOAD_PREFIX}{job_id}?{self._signature(DOWNLOAD_PREFIX, job_id)}",
                "download_expires_at": _iso(now + DOWNLOAD_WINDOW),
            }
            self.jobs[job_id] = job
            self.polls[job_id] = 0
            job["_outcome"] = self.outcomes.popleft() if self.outcomes else "complete"
            return _public(job)

    def upload(self, job_id: str, body: str) -> None:
        with self._lock:
            job = self.jobs[job_id]
            self.uploaded[job_id] = [line.strip() for line in body.splitlines() if line.strip()]
            if job["status"] == "created":
                job["status"] = "in_progress"

    def poll(self, job_id: str) -> dict[str, Any]:
        with self._lock:
            job = self.jobs.get(job_id)
            if job is None:
                raise _Reply(404, _problem(404, "Not Found Error",
                                           f"Could not find compliance job with id: [{job_id}]"))
            self.polls[job_id] += 1
            if job["status"] in ("created", "in_progress"):
                outcome = job["_outcome"]
                if outcome == "expire" or (job["status"] == "created" and
                                           self.sandbox.clock() > _parse(job["upload_expires_at"])):
                    job["status"] = "expired"
                elif outcome == "fail" and job["status"] == "in_progress":
                    job["status"] = "failed"
                elif job["status"] == "in_progress" and self.polls[job_id] >= self.polls_to_complete:
                    job["status"] = "complete"
            return _public(job)

    def results(self, job_id: str) -> list[dict[str, Any]]:
        with self._lock:
            job = self.jobs[job_id]
            ids = list(self.uploaded.get(job_id, []))
        if job["status"] != "complete":
            return []
        now = self.sandbox.clock()
        return [e for e in (self.event(i, now) for i in ids) if e is not None]

    # ---- signed URLs -----------------------------------------------------------
    def _signature(self, prefix: str, job_id: str) -> str:
        sig = hmac.new(self._secret, f"{prefix}{job_id}".encode(), hashlib.sha256).hexdigest()
        return urlencode({"signature": sig})

    def _signed(self, job_id: str, path: str, signature: str) -> bool:
        prefix = UPLOAD_PREFIX if path.startswith(UPLOAD_PREFIX) else DOWNLOAD_PREFIX
        expected = self._signature(prefix, job_id).removeprefix("signature=")
        return job_id in self.jobs and hmac.compare_digest(expected, signature)

    @staticmethod
    def _send_lines(handler: Any, lines: list[dict[str, Any]]) -> None:
        payload = "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in lines).encode()
        handler.send_response(200)
        handler.send_header("content-type", "application/octet-stream")
        handler.send_header("content-length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)


_LOCK = threading.Lock()
FAULT_STATUSES = {"429": 429, "503": 503, "401": 401, "403": 403}


class _Reply(Exception):
    def __init__(self, status: int, body: dict[str, Any],
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def _reset_header(fault: Any) -> dict[str, str]:
    """X's ``x-rate-limit-reset`` (epoch seconds) of an injected 429; empty without a reset."""
    reset_in = getattr(fault, "reset_in", None)
    return {"x-rate-limit-reset": "" if reset_in is None else str(int(time.time() + reset_in + 0.999))}


def _problem(status: int, title: str, detail: str) -> dict[str, Any]:
    return {"title": title, "type": "about:blank", "status": status, "detail": detail}


def _send_json(handler: Any, status: int, body: dict[str, Any],
               headers: dict[str, str] | None = None) -> None:
    payload = json.dumps(body, separators=(",", ":")).encode()
    handler.send_response(status)
    handler.send_header("content-type", "application/json; charset=utf-8")
    if status == 429:
        handler.send_header("x-rate-limit-remaining", "0")
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.send_header("content-length", str(len(payload)))
    handler.end_headers()
    handler.wfile.write(payload)


def compliance_for(sandbox: XSandbox) -> ComplianceSandbox:
    """The sandbox's compliance jobs, created on first use."""
    with _LOCK:
        existing = getattr(sandbox, "compliance", None)
        if existing is None:
            existing = ComplianceSandbox(sandbox)
            sandbox.compliance = existing  # type: ignore[attr-defined]
        return existing


def _public(job: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in job.items() if not k.startswith("_")}


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
