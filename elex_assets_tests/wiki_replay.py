"""A loopback server replaying recorded Wikimedia answers (``recordings/wikimedia``).

An answer is found by project, article (decoded) and granularity, whatever the
requested days: a recorded 5-day answer serves a request for one of its days, as
the real service may answer more days than asked. Anything unrecorded is a 404
problem+json, as Wikimedia says "no data".
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from elex_assets.sandbox.loopback import LoopbackServer

RECORDINGS = Path(__file__).parent / "recordings" / "wikimedia"
ROUTE = "/api/rest_v1/metrics/pageviews/per-article/"


def recorded(name: str) -> dict[str, Any]:
    return json.loads((RECORDINGS / f"{name}.json").read_text(encoding="utf-8"))


def recorded_exchanges() -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(RECORDINGS.glob("*.json"))]


def _key(project: str, article: str, granularity: str) -> tuple[str, str, str]:
    return project, unquote(article).replace(" ", "_"), granularity


class WikiReplay(LoopbackServer):
    name = "Wikimedia replay"

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    def __init__(self, exchanges: list[dict[str, Any]] | None = None) -> None:
        self.answers: dict[tuple[str, str, str], dict[str, Any]] = {}
        for ex in exchanges if exchanges is not None else recorded_exchanges():
            p = ex.get("params") or {}
            if ex.get("url") and p.get("article"):
                self.answers[_key(p["project"], p["article"], p["granularity"])] = ex
        self.paths: list[str] = []
        self.user_agents: list[str] = []
        super().__init__()

    @property
    def base_url(self) -> str:
        return super().base_url + "/api/rest_v1"


class _Handler(BaseHTTPRequestHandler):
    sandbox: WikiReplay
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        path = urlparse(self.path).path
        self.sandbox.paths.append(path)
        self.sandbox.user_agents.append(self.headers.get("User-Agent", ""))
        parts = path.removeprefix(ROUTE).split("/")
        ex = None
        if path.startswith(ROUTE) and len(parts) == 7:
            ex = self.sandbox.answers.get(_key(parts[0], parts[3], parts[4]))
        if ex is None:
            body = json.dumps({"detail": "no data", "method": "get", "status": 404,
                               "title": "Not Found", "type": "about:blank",
                               "uri": path.removeprefix("/api/rest_v1")}).encode()
            status, kind = 404, "application/problem+json"
        else:
            body = ex["body"].encode("utf-8")
            status = ex["status"]
            kind = (ex.get("headers") or {}).get("Content-Type", ["application/json"])[0]
        self.send_response(status)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
