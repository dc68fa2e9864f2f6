"""The environment of this process and its children: the one place that writes it."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Mapping


def sandbox_env(x_url: str, trends_url: str, bsky_url: str, demo: bool = False,
                wiki_url: str | None = None) -> dict[str, str]:
    """The variables that point runs (this process's and its children's) at the sandboxes.

    ``demo`` also selects full-archive search (the demo's week is over 7 days old);
    the sandboxes need no politeness interval.
    """
    env = {"X_API_BASE_URL": x_url, "TRENDS_BASE_URL": trends_url, "BSKY_BASE_URL": bsky_url}
    if wiki_url:
        env["WIKIMEDIA_BASE_URL"] = wiki_url
    if demo:
        env.update({"X_SEARCH_ENDPOINT": "all", "TRENDS_MIN_INTERVAL_SECONDS": "0"})
    return env


def apply_env(values: Mapping[str, str]) -> None:
    """Set variables in this process (and the children it starts): the one writer."""
    os.environ.update(values)


def child_env(values: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment with ``values`` on top, for a child process."""
    return {**os.environ, **(values or {})}


@contextlib.contextmanager
def scoped_env(values: Mapping[str, str] | None = None,
               unset: Iterable[str] = ()) -> Iterator[None]:
    """Set (or remove) variables for the duration of a call into a library that reads
    them itself (the Kaggle client's credentials, a notebook kernel); restored after."""
    names = {*(values or {}), *unset}
    saved = {name: os.environ.get(name) for name in names}
    for name in unset:
        os.environ.pop(name, None)
    os.environ.update(values or {})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
