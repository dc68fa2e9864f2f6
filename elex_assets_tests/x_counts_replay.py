"""A loopback server answering X's counts endpoints with the answers in ``recordings/x_counts/``.

Whatever window or granularity is asked, it answers the exchange it was told to
(``XCountsReplay("all_day_january_2021")``), with its headers, byte for byte: what a
stale cache, a misconfigured proxy or a replay would do. A paginated exchange
serves its pages in order, each page's ``next_token`` leading to the next.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from elex_assets.sandbox.loopback import LoopbackServer

RECORDINGS = Path(__file__).parent / "recordings" / "x_counts"
COUNTS_PATHS = ("/2/tweets/counts/recent", "/2/tweets/counts/all")


def counts_exchanges() -> list[dict[str, Any]]:
    return json.loads((RECORDINGS / "index.json").read_text())["exchanges"]


def exchange_names() -> list[str]:
    return list(dict.fromkeys(ex["name"] for ex in counts_exchanges()))


def pages_of(name: str) -> list[dict[str, Any]]:
    return sorted((ex for ex in counts_exchanges() if ex["name"] == name),
                  key=lambda ex: ex["page_order"])


class XCountsReplay(LoopbackServer):
    name = "x-counts-replay"

    def __init__(self, exchange: str) -> None:
        super().__init__()
        self.pages = pages_of(exchange)
        if not self.pages:
            raise ValueError(f"no counts exchange {exchange!r} in {RECORDINGS}")
        self.requests: list[dict[str, Any]] = []

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    def answer(self, path: str, params: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if path not in COUNTS_PATHS:
            return 404, {"content-type": "application/json"}, b'{"title":"Not Found"}'
        token = params.get("next_token") or params.get("pagination_token")
        ex = self.pages[0]
        if token:
            at = [i for i, p in enumerate(self.pages) if p["next_token"] == token]
            if not at or at[0] + 1 >= len(self.pages):
                body = {"title": "Invalid Request", "type":
                        "https://api.twitter.com/2/problems/invalid-request",
                        "detail": "One or more parameters to your request was invalid.",
                        "errors": [{"parameters": {"next_token": [token]}, "message":
                                    f"The `next_token` query parameter value [{token}] is not "
                                    "one of [valid tokens]"}]}
                return 400, {"content-type": "application/json; charset=utf-8"}, \
                    json.dumps(body, separators=(",", ":")).encode()
            ex = self.pages[at[0] + 1]
        return 200, dict(ex["headers"]), (RECORDINGS / ex["body_file"]).read_bytes()


class _Handler(BaseHTTPRequestHandler):
    sandbox: XCountsReplay

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        url = urlparse(self.path)
        params = {k: v[-1] for k, v in parse_qs(url.query).items()}
        status, headers, body = self.sandbox.answer(url.path, params)
        self.sandbox.requests.append({"path": url.path, "params": params, "status": status})
        self.send_response(status)
        for k, v in headers.items():
            if k.lower() not in ("content-length", "date"):
                self.send_header(k, v)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
