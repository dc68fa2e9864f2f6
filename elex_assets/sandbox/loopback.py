"""What every sandbox server shares: a threaded HTTP server on loopback, started and stopped."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class LoopbackServer:
    """Serves ``handler()`` (which reaches this object as ``self.sandbox``) in a thread.

    Port 0 picks a free port; ``base_url`` says which. Usable as a context manager.
    """

    name = "sandbox"

    def handler(self) -> type[BaseHTTPRequestHandler]:
        """The request handler class; each sandbox names its own."""
        raise NotImplementedError

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host, self._port = host, port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        handler = type("Handler", (self.handler(),), {"sandbox": self})
        self._server = ThreadingHTTPServer((self._host, self._port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=self.name,
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"the {self.name} is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"
