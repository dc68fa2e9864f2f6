"""A loopback server replaying the real recorded X exchanges (``recordings/x/``).

Each search endpoint serves its recorded pages in their recorded order, byte for
byte with the recorded headers: no ``next_token`` gives the first page, a page's
``next_token`` the next one, the last page's token the recorded empty result,
and any other token a 400 as X answers it. ``inject`` adds a post to the first
page of an endpoint (to prove a check can fail).
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from elex_assets.sandbox.loopback import LoopbackServer

RECORDINGS = Path(__file__).parent / "recordings" / "x"
ROUTES = {"/2/tweets/search/recent": "recent", "/2/tweets/search/all": "all"}


def recorded_exchanges() -> list[dict[str, Any]]:
    return json.loads((RECORDINGS / "index.json").read_text())["exchanges"]


def recorded_posts(endpoint: str) -> dict[str, dict[str, Any]]:
    """Unique recorded posts of an endpoint (``recent`` or ``all``), by id."""
    out: dict[str, dict[str, Any]] = {}
    for ex in recorded_exchanges():
        if ROUTES[ex["endpoint"]] == endpoint:
            for post in json.loads((RECORDINGS / ex["body_file"]).read_bytes()).get("data", []):
                out.setdefault(post["id"], post)
    return out


class XReplay(LoopbackServer):
    name = "x-replay"

    def __init__(self) -> None:
        super().__init__()
        index = json.loads((RECORDINGS / "index.json").read_text())
        self.pages: dict[str, list[dict[str, Any]]] = {}
        for ex in sorted(index["exchanges"], key=lambda e: e["page_order"]):
            self.pages.setdefault(ROUTES[ex["endpoint"]], []).append(ex)
        self.end = index["end_of_results"]
        self.requests: list[dict[str, Any]] = []
        self.injected: dict[str, list[dict[str, Any]]] = {}

    def inject(self, endpoint: str, post: dict[str, Any]) -> None:
        self.injected.setdefault(endpoint, []).append(post)

    def served_posts(self) -> int:
        return sum(r["result_count"] for r in self.requests if r["status"] == 200)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    def answer(self, path: str, params: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        endpoint = ROUTES.get(path)
        if endpoint is None:
            return 404, {"content-type": "application/json"}, b'{"title":"Not Found"}'
        pages = self.pages[endpoint]
        token = params.get("next_token") or params.get("pagination_token")
        if token is None:
            ex = pages[0]
        else:
            at = [i for i, p in enumerate(pages) if p["next_token"] == token]
            if not at:
                body = {"errors": [{"parameters": {"next_token": [token]},
                                    "message": "The `next_token` query parameter value "
                                               f"[{token}] is not one of [valid tokens]"}],
                        "title": "Invalid Request",
                        "detail": "One or more parameters to your request was invalid.",
                        "type": "https://api.twitter.com/2/problems/invalid-request"}
                return 400, {"content-type": "application/json; charset=utf-8"}, \
                    json.dumps(body, separators=(",", ":")).encode()
            if at[0] + 1 < len(pages):
                ex = pages[at[0] + 1]
            else:
                return 200, dict(self.end["headers"]), (RECORDINGS / self.end["body_file"]).read_bytes()
        raw = (RECORDINGS / ex["body_file"]).read_bytes()
        if ex is pages[0] and self.injected.get(endpoint):
            body = json.loads(raw)
            body["data"] = body["data"] + self.injected[endpoint]
            body["meta"]["result_count"] = len(body["data"])
            raw = json.dumps(body, separators=(",", ":")).encode()
        return 200, dict(ex["headers"]), raw


class _Handler(BaseHTTPRequestHandler):
    sandbox: XReplay

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        url = urlparse(self.path)
        params = {k: v[-1] for k, v in parse_qs(url.query).items()}
        status, headers, body = self.sandbox.answer(url.path, params)
        count = json.loads(body).get("meta", {}).get("result_count", 0) if status == 200 else 0
        self.sandbox.requests.append(
            {"path": url.path, "params": params, "status": status, "result_count": count})
        self.send_response(status)
        for k, v in headers.items():
            if k.lower() not in ("content-length", "date"):
                self.send_header(k, v)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
