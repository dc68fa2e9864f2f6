"""Google's recorded Trends answers, served again on loopback (one cassette at a time).

Each request is answered by the cassette's next unserved exchange with the same
method and path, exactly as recorded: status, content type, ``Set-Cookie`` and
body (``)]}'`` prefixes included). A request the cassette does not hold gets a
404 "not recorded" (so a client that asks more than the recording knows fails).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from elex_assets.sandbox.loopback import LoopbackServer

RECORDINGS = Path(__file__).parent / "recordings" / "trends"


@dataclass(frozen=True)
class Exchange:
    cassette: str
    number: int
    method: str
    path: str
    query: dict[str, str]
    status: int
    content_type: str
    set_cookie: tuple[str, ...]
    body: str

    @property
    def name(self) -> str:
        return f"{self.cassette}/{self.number}"

    def json_body(self) -> Any:
        """The body with Google's anti-JSON-hijacking prefix removed."""
        text = self.body
        if text.startswith(")]}'"):
            text = text.split("\n", 1)[1]
        return json.loads(text)


def exchanges() -> list[Exchange]:
    index = json.loads((RECORDINGS / "index.json").read_text())["exchanges"]
    out = []
    for entry in index:
        cassette, number = entry["file"].removesuffix(".json").split("/")
        body = json.loads((RECORDINGS / entry["file"]).read_text())["body"]
        out.append(
            Exchange(
                cassette=cassette,
                number=int(number),
                method=entry["method"],
                path=entry["path"],
                query=entry["query"],
                status=entry["status"],
                content_type=entry["content_type"],
                set_cookie=tuple(entry["set_cookie"]),
                body=body,
            )
        )
    return out


def cassettes() -> dict[str, list[Exchange]]:
    out: dict[str, list[Exchange]] = {}
    for exchange in exchanges():
        out.setdefault(exchange.cassette, []).append(exchange)
    return out


class _Handler(BaseHTTPRequestHandler):
    sandbox: ReplayServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return

    def do_GET(self) -> None:  # noqa: N802
        self._answer("GET")

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self._answer("POST")

    def _answer(self, method: str) -> None:
        url = urlsplit(self.path)
        params = {k: v[-1] for k, v in parse_qs(url.query).items()}
        exchange = self.sandbox.take(method, url.path, params, self.headers.get("Cookie"))
        if exchange is None:
            data = f"not recorded: {method} {url.path}".encode()
            self.send_response(404)
            self.send_header("Content-Type", "text/plain")
        else:
            data = exchange.body.encode()
            self.send_response(exchange.status)
            self.send_header("Content-Type", exchange.content_type)
            for cookie in exchange.set_cookie:
                # the recorded cookie, for the loopback host (domain .google.com would be refused)
                self.send_header("Set-Cookie", cookie.replace("domain=.google.com; ", ""))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class ReplayServer(LoopbackServer):
    """Serves one cassette's exchanges; ``served`` says which were asked for."""

    name = "Trends replay"

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    def __init__(self, cassette: list[Exchange]) -> None:
        super().__init__()
        self._pending = list(cassette)
        self._lock = threading.Lock()
        self.served: list[str] = []
        self.cookies_sent: list[str | None] = []
        self.params: list[dict[str, str]] = []

    def take(
        self, method: str, path: str, params: dict[str, str], cookie: str | None
    ) -> Exchange | None:
        norm = path.rstrip("/")
        with self._lock:
            for exchange in self._pending:
                if exchange.method == method and exchange.path.rstrip("/") == norm:
                    self._pending.remove(exchange)
                    self.served.append(exchange.name)
                    self.cookies_sent.append(cookie)
                    self.params.append(params)
                    return exchange
        return None
