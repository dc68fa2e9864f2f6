"""``elex sandbox``: serve the sandbox APIs on loopback until Ctrl-C."""

from __future__ import annotations

import threading
from datetime import timedelta

from elex_assets.core.registry import load_registry
from elex_assets.sandbox.bsky_server import BskySandbox
from elex_assets.sandbox.trends_server import TrendsSandbox
from elex_assets.sandbox.wiki_server import WikiSandbox
from elex_assets.sandbox.x_server import XSandbox
from elex_assets.settings import SandboxSettings, Settings, apply_env, sandbox_env

DEMO_POSTS_PER_DAY = 1500  # the demo's volume: a week in seconds, still every candidate


def start_bsky_sandbox(port: int | None = None) -> BskySandbox:
    """The Bluesky sandbox for the configured election; ``BSKY_SANDBOX_PORT`` (default: a
    free port) and ``BSKY_SANDBOX_POSTS_PER_DAY`` (default 400) tune it."""
    settings, sandbox = Settings.load(), SandboxSettings.load()
    registry = load_registry(settings.election, settings.candidates_file)
    port = sandbox.bsky_port if port is None else port
    return BskySandbox(registry.selected(), posts_per_day=sandbox.bsky_posts_per_day,
                       port=port).start()


def start_wiki_sandbox(port: int | None = None, demo: bool = False) -> WikiSandbox:
    """The Wikimedia pageviews sandbox, serving the configured election's articles;
    ``WIKIMEDIA_SANDBOX_PORT`` (default: a free port). A day is loaded 3 hours after it
    ends, as Wikimedia often is; for the demo, at once (its week must be complete)."""
    settings, sandbox = Settings.load(), SandboxSettings.load()
    registry = load_registry(settings.election, settings.candidates_file)
    port = sandbox.wiki_port if port is None else port
    lag = timedelta(0) if demo else timedelta(hours=3)
    return WikiSandbox.for_candidates(registry.candidates, port=port, lag=lag).start()


def start_x_sandbox(port: int | None = None, posts_per_day: int | None = None) -> XSandbox:
    """The X sandbox for the configured election (ELEX_ELECTION / ELEX_CANDIDATES_FILE).

    ``X_SANDBOX_PORT`` (default: a free port) and ``X_SANDBOX_POSTS_PER_DAY``
    (default 2000) tune it.
    """
    settings, sandbox = Settings.load(), SandboxSettings.load()
    registry = load_registry(settings.election, settings.candidates_file)
    port = sandbox.x_port if port is None else port
    return XSandbox(
        registry.selected(), registry.election,
        posts_per_day=posts_per_day or sandbox.x_posts_per_day, port=port,
    ).start()


Sandbox = XSandbox | TrendsSandbox | BskySandbox | WikiSandbox


def start_sandboxes(demo: bool = False) -> dict[str, Sandbox]:
    """Start every sandbox API and point this process's settings (and its children's) at them.

    The definitions read the settings when they are built, not when imported, so this
    may run before or after ``elex_assets.definitions`` is imported (but before
    ``get_defs()``). ``demo=True`` also selects full-archive search (the demo's week is
    over 7 days old), the demo's modest volume (unless ``X_SANDBOX_POSTS_PER_DAY`` is
    set), and no politeness interval.
    """
    sandbox = SandboxSettings.load()
    servers: dict[str, Sandbox] = {}
    try:
        if demo:
            volume = (sandbox.x_posts_per_day if "x_posts_per_day" in sandbox.model_fields_set
                      else DEMO_POSTS_PER_DAY)
            servers["x"] = start_x_sandbox(port=0, posts_per_day=volume)
        else:
            servers["x"] = start_x_sandbox()
        servers["trends"] = TrendsSandbox(port=0 if demo else sandbox.trends_port).start()
        servers["bsky"] = start_bsky_sandbox(port=0 if demo else None)
        servers["wiki"] = start_wiki_sandbox(port=0 if demo else None, demo=demo)
    except BaseException:
        for server in servers.values():
            server.stop()
        raise
    apply_env(sandbox_env(servers["x"].base_url, servers["trends"].base_url,
                          servers["bsky"].base_url, demo=demo,
                          wiki_url=servers["wiki"].base_url))
    return servers


def serve_forever() -> int:
    servers = start_sandboxes()
    print("elex sandbox: serving until Ctrl-C. In another shell:")
    print(f"  export X_API_BASE_URL={servers['x'].base_url} "
          f"TRENDS_BASE_URL={servers['trends'].base_url} "
          f"BSKY_BASE_URL={servers['bsky'].base_url} "
          f"WIKIMEDIA_BASE_URL={servers['wiki'].base_url}")
    print("  (X_BEARER_TOKEN, BSKY_HANDLE, BSKY_APP_PASSWORD, WIKIMEDIA_CONTACT are not needed: a loopback base "
          "URL is sandbox mode)")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("stopping")
    finally:
        for server in servers.values():
            server.stop()
    return 0
