"""A fake Kaggle API on loopback: speaks the kaggle 2.2.5 client's wire format.

It records every request (path, JSON body, uploaded bytes) so tests can check
what the client really sent. Datasets it knows answer GetDatasetStatus; others 404.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class FakeKaggle:
    url: str = ""
    known: set[str] = field(default_factory=set)  # owner/slug
    calls: list[tuple[str, Any]] = field(default_factory=list)  # (rpc name, JSON body)
    uploads: dict[str, bytes] = field(default_factory=dict)  # token -> bytes
    names: dict[str, str] = field(default_factory=dict)  # token -> file name
    auth: list[str] = field(default_factory=list)
    accepted: set[str] | None = None  # Authorization headers Kaggle accepts (None: any)

    def bodies(self, rpc: str) -> list[Any]:
        return [body for name, body in self.calls if name == rpc]


def _handler(state: FakeKaggle) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

        def _reply(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _read(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def do_PUT(self) -> None:  # noqa: N802 (the blob upload URL)
            token = self.path.rsplit("/", 1)[-1]
            state.uploads[token] = self._read()
            self._reply(200, {})

        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self._read() or b"{}")
            rpc = self.path.rsplit("/", 1)[-1]
            state.calls.append((rpc, body))
            state.auth.append(self.headers.get("Authorization", ""))
            if state.accepted is not None and state.auth[-1] not in state.accepted:
                self._reply(401, {"code": 401, "message": "Unauthenticated"})
                return
            if rpc == "GetDatasetStatus":
                ref = f"{body.get('ownerSlug')}/{body.get('datasetSlug')}"
                if ref in state.known:
                    self._reply(200, {})
                else:
                    self._reply(404, {"code": 404, "message": f"Dataset {ref} not found"})
            elif rpc == "StartBlobUpload":
                token = f"tok{len(state.names)}"
                state.names[token] = body.get("name", "")
                self._reply(200, {"token": token, "createUrl": f"{state.url}/upload/{token}"})
            elif rpc in ("CreateDataset", "CreateDatasetVersion"):
                if rpc == "CreateDataset":
                    ref = f"{body['ownerSlug']}/{body['slug']}"
                else:
                    ref = f"{body['ownerSlug']}/{body['datasetSlug']}"
                state.known.add(ref)
                self._reply(
                    200,
                    {
                        "ref": ref,
                        "url": f"https://www.kaggle.com/datasets/{ref}",
                        "status": "ok",
                        "error": "",
                    },
                )
            elif rpc == "UpdateDatasetMetadata":
                self._reply(200, {"errors": []})
            else:
                self._reply(404, {"code": 404, "message": f"unknown rpc {rpc}"})

    return Handler


class FakeKaggleServer:
    def __init__(self) -> None:
        self.state = FakeKaggle()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state))
        host, port = self.server.server_address[:2]
        self.state.url = f"http://{host}:{port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeKaggle:
        self.thread.start()
        return self.state

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
