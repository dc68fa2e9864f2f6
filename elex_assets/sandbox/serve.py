"""``elex sandbox``: serve the sandbox APIs on loopback until Ctrl-C."""

from __future__ import annotations

import os
import threading

from elex_assets.core.registry import load_registry
from elex_assets.sandbox.trends_server import TrendsSandbox
from elex_assets.sandbox.x_server import XSandbox
from elex_assets.settings import Settings

DEMO_POSTS_PER_DAY = 1500  # the demo's volume: a week in seconds, still every candidate


def start_x_sandbox(port: int | None = None) -> XSandbox:
    """The X sandbox for the configured election (ELEX_ELECTION / ELEX_CANDIDATES_FILE).

    ``X_SANDBOX_PORT`` (default: a free port) and ``X_SANDBOX_POSTS_PER_DAY``
    (default 2000) tune it.
    """
    settings = Settings.from_env()
    registry = load_registry(settings.election, settings.candidates_file)
    if port is None:
        port = int(os.environ.get("X_SANDBOX_PORT") or 0)
    volume = int(os.environ.get("X_SANDBOX_POSTS_PER_DAY") or 2000)
    return XSandbox(
        registry.selected(), registry.election, posts_per_day=volume, port=port
    ).start()


def start_sandboxes(demo: bool = False) -> dict[str, XSandbox | TrendsSandbox]:
    """Start every sandbox API and point this process's settings at them.

    Must run before ``elex_assets.definitions`` is imported (it reads the environment).
    ``demo=True`` also selects full-archive search (the demo's week is over 7 days old)
    and the demo's modest volume; the sandboxes need no politeness interval.
    """
    if demo:
        os.environ.setdefault("X_SANDBOX_POSTS_PER_DAY", str(DEMO_POSTS_PER_DAY))
        os.environ["X_SEARCH_ENDPOINT"] = "all"
        os.environ["TRENDS_MIN_INTERVAL_SECONDS"] = "0"
    servers: dict[str, XSandbox | TrendsSandbox] = {}
    try:
        servers["x"] = start_x_sandbox(port=0 if demo else None)
        os.environ["X_API_BASE_URL"] = servers["x"].base_url
        trends_port = 0 if demo else int(os.environ.get("TRENDS_SANDBOX_PORT") or 0)
        servers["trends"] = TrendsSandbox(port=trends_port).start()
        os.environ["TRENDS_BASE_URL"] = servers["trends"].base_url
    except BaseException:
        for server in servers.values():
            server.stop()
        raise
    return servers


def serve_forever() -> int:
    servers = start_sandboxes()
    print("elex sandbox: serving until Ctrl-C. In another shell:")
    print(f"  export X_API_BASE_URL={servers['x'].base_url} "
          f"TRENDS_BASE_URL={servers['trends'].base_url}")
    print("  (X_BEARER_TOKEN is not needed: a loopback base URL is sandbox mode)")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("stopping")
    finally:
        for server in servers.values():
            server.stop()
    return 0
