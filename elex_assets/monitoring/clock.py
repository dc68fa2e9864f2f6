"""The monitors' clock: the package's clock (``elex_assets.core.clock``), named here so
tests can move time for checks and sensor alike by patching one attribute."""

from __future__ import annotations

from elex_assets.core.clock import utc_now

__all__ = ["utc_now"]
