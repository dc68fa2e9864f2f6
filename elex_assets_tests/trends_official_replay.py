"""Google's documented official Trends API answers, served again on loopback.

``POST /v1alpha:<method>`` answers ``<method>.start.json``; ``GET
/v1alpha/operations/<name>`` answers ``<method>.operations_get.json`` when
``<name>`` is the started operation's. Anything else is Google's JSON 404, so a
client polling another path (``/v1alpha/<name>``) fails as it would on Google's
host. ``edit`` changes an answer before it is served (a test's fault).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from elex_assets.sandbox.loopback import LoopbackServer

RECORDINGS = Path(__file__).parent / "recordings" / "trends_official"
METHODS = ("fetchTimeSeries", "fetchGeoBreakdown")


def example(method: str, stage: str) -> dict[str, Any]:
    """``stage``: ``start`` or ``operations_get``."""
    return json.loads((RECORDINGS / f"{method}.{stage}.json").read_text())


class _Handler(BaseHTTPRequestHandler):
    sandbox: OfficialReplay

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return

    def do_GET(self) -> None:  # noqa: N802
        self._answer("GET", b"")

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        self._answer("POST", self.rfile.read(length) if length else b"")

    def _answer(self, method: str, body: bytes) -> None:
        status, answer = self.sandbox.answer(method, self.path, body)
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class OfficialReplay(LoopbackServer):
    """Serves one documented method's two answers; ``requests`` says what was asked."""

    name = "official Trends replay"

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    def __init__(self, method: str,
                 edit: Callable[[str, dict[str, Any]], dict[str, Any]] | None = None) -> None:
        super().__init__()
        self.method = method
        self.edit = edit or (lambda stage, answer: answer)
        self.requests: list[tuple[str, str, dict[str, Any] | None]] = []
        self._lock = threading.Lock()

    def answer(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests.append((method, path, json.loads(body) if body else None))
        start = example(self.method, "start")
        if method == "POST" and path == f"/v1alpha:{self.method}":
            return 200, self.edit("start", start)
        if method == "GET" and path == f"/v1alpha/operations/{start['name']}":
            return 200, self.edit("operations_get", example(self.method, "operations_get"))
        return 404, {"error": {"code": 404, "message": f"Method not found: {path}",
                               "status": "NOT_FOUND"}}
