"""The sandbox's batch compliance endpoints, over real HTTP: X's four steps and their refusals."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import requests

from elex_assets.sandbox.x_compliance import compliance_for
from elex_assets.sandbox.x_generator import snowflake
from elex_assets.sandbox.x_server import XSandbox

AUTH = {"Authorization": "Bearer sandbox"}


def ids_posted(day: datetime, n: int) -> list[str]:
    start = int(day.timestamp() * 1000)
    return [str(snowflake(start + 60_000 * i, i % 4)) for i in range(n)]


def test_create_upload_poll_download():
    with XSandbox(election="2022") as sandbox:
        base = sandbox.base_url
        created = requests.post(f"{base}/2/compliance/jobs", json={"type": "tweets", "name": "t"},
                                headers=AUTH, timeout=10)
        assert created.status_code == 200
        job = created.json()["data"]
        assert job["status"] == "created" and job["type"] == "tweets"
        assert set(job) >= {"id", "upload_url", "upload_expires_at", "download_url",
                            "download_expires_at", "created_at"}
        # One job per type at a time, as on X.
        again = requests.post(f"{base}/2/compliance/jobs", json={"type": "tweets"}, headers=AUTH,
                              timeout=10)
        assert again.status_code == 400 and "already in progress" in again.json()["detail"]
        ids = ids_posted(datetime(2022, 4, 1, tzinfo=UTC), 2000)
        put = requests.put(job["upload_url"], data="\n".join(ids).encode(),
                           headers={"Content-Type": "text/plain"}, timeout=10)
        assert put.status_code == 200
        polled = requests.get(f"{base}/2/compliance/jobs/{job['id']}", headers=AUTH, timeout=10)
        assert polled.json()["data"]["status"] == "complete"
        lines = requests.get(job["download_url"], timeout=10).text.splitlines()
        events = [json.loads(line) for line in lines]
        assert 0.015 < len(events) / len(ids) < 0.05  # the seeded 3%
        assert {e["id"] for e in events} <= set(ids)
        for e in events:
            assert set(e) == {"id", "action", "created_at", "redacted_at", "reason"}
            assert e["action"] == "delete" and e["redacted_at"] > e["created_at"]
        assert {e["reason"] for e in events} <= {"deleted", "suspended", "protected", "deactivated"}


def test_posts_disappear_over_time():
    clock = [datetime(2022, 4, 1, 0, 30, tzinfo=UTC)]
    with XSandbox(election="2022", clock=lambda: clock[0]) as sandbox:
        comp = compliance_for(sandbox)
        ids = ids_posted(datetime(2022, 4, 1, tzinfo=UTC), 5000)
        counts = []
        for days in (0, 1, 3, 12):
            now = datetime(2022, 4, 1, 0, 30, tzinfo=UTC) + timedelta(days=days)
            counts.append(sum(comp.event(i, now) is not None for i in ids))
        assert counts[0] == 0 and counts[0] < counts[1] < counts[2] < counts[3]
        assert counts == sorted(counts)


def test_refusals_token_signature_and_unknown_job():
    with XSandbox(election="2022") as sandbox:
        base = sandbox.base_url
        assert requests.post(f"{base}/2/compliance/jobs", json={"type": "tweets"},
                             timeout=10).status_code == 401
        bad_type = requests.post(f"{base}/2/compliance/jobs", json={"type": "likes"},
                                 headers=AUTH, timeout=10)
        assert bad_type.status_code == 400
        job = requests.post(f"{base}/2/compliance/jobs", json={"type": "tweets"}, headers=AUTH,
                            timeout=10).json()["data"]
        forged = job["upload_url"].split("?")[0] + "?signature=0000"
        assert requests.put(forged, data=b"1", timeout=10).status_code == 403
        assert requests.get(f"{base}/2/compliance/jobs/42", headers=AUTH,
                            timeout=10).status_code == 404
