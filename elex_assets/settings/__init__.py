"""Settings read from the environment: the one package that knows variable names.

One pydantic-settings model per domain (core and lake, X, Trends, Bluesky, Kaggle,
alerts, monitoring thresholds, archive, lease, sandboxes); each field names its
variable (``validation_alias``) and states its default once. Values are validated
when a model loads, and every error names the variable. ``load_settings()`` loads
them all; ``validate_env()`` collects every problem in one message.

Secrets (X token, AWS keys, Kaggle key, Bluesky app password) are never read into
a model: a model records at most whether one is set, and the value reaches its
resource through ``dg.EnvVar`` so it never enters run config or logs.

This package is also the only code that reads or writes ``os.environ``: the few
places that must point a child process (or Dagster itself) somewhere call
``apply_env``, ``child_env`` or ``scoped_env`` (``settings/env.py``). Modules:
``base`` (how a variable is read), one per domain (``core``, ``x``, ``trends``,
``bsky``, ``kaggle``, ``monitoring``, ``wiki``), ``env`` (the environment's one writer).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from elex_assets.settings.base import (
    FLAG,
    IS_SET,
    EnvModel,
    Range,
    SettingsError,
    _parse_number,
    check_range,
    var,
)
from elex_assets.settings.bsky import BskySettings
from elex_assets.settings.core import (
    DEFAULT_LAKE_DIR,
    ArchiveSettings,
    AwsSettings,
    LeaseSettings,
    SandboxSettings,
    Settings,
    open_lake,
)
from elex_assets.settings.env import apply_env, child_env, sandbox_env, scoped_env
from elex_assets.settings.kaggle import KaggleSettings
from elex_assets.settings.monitoring import AlertsSettings, ThresholdSettings, alert_settings
from elex_assets.settings.trends import TRENDS_BACKENDS, TrendsSettings
from elex_assets.settings.wiki import WikiSettings
from elex_assets.settings.x import XSettings

__all__ = [
    "DEFAULT_LAKE_DIR", "DOMAINS", "FLAG", "IS_SET", "TRENDS_BACKENDS", "AlertsSettings",
    "ArchiveSettings", "AwsSettings", "BskySettings", "ElexSettings", "EnvModel",
    "KaggleSettings", "LeaseSettings", "Range", "SandboxSettings", "Settings",
    "SettingsError", "ThresholdSettings", "TrendsSettings", "WikiSettings", "XSettings",
    "alert_settings", "apply_env",
    "check_range", "child_env", "load_settings", "open_lake", "sandbox_env", "scoped_env",
    "validate_env", "var",
]


DOMAINS: tuple[type[EnvModel], ...] = (
    Settings, AwsSettings, XSettings, TrendsSettings, BskySettings, LeaseSettings, KaggleSettings,
    AlertsSettings, ThresholdSettings, ArchiveSettings, SandboxSettings, WikiSettings,
)


@dataclass(frozen=True)
class ElexSettings:
    """Every domain's settings, loaded (and validated) together."""

    core: Settings
    aws: AwsSettings
    x: XSettings
    trends: TrendsSettings
    bsky: BskySettings
    lease: LeaseSettings
    kaggle: KaggleSettings
    alerts: AlertsSettings
    thresholds: ThresholdSettings
    sandbox: SandboxSettings
    wiki: WikiSettings


def load_settings(env: Mapping[str, str] | None = None) -> ElexSettings:
    """Every domain from the environment (or ``env``); one error lists every bad variable."""
    validate_env(env)
    return ElexSettings(
        core=Settings.load(env), aws=AwsSettings.load(env), x=XSettings.load(env), trends=TrendsSettings.load(env),
        bsky=BskySettings.load(env), lease=LeaseSettings.load(env),
        kaggle=KaggleSettings.load(env), alerts=AlertsSettings.load(env),
        thresholds=ThresholdSettings.load(env), sandbox=SandboxSettings.load(env),
        wiki=WikiSettings.load(env),
    )


# ---- every setting range-checked when the definitions load -------------------------


def validate_env(env: Mapping[str, str] | None = None) -> None:
    """Check every non-secret setting's type and range; one message names each bad variable.

    Called when the definitions are built (``load_settings``), so a bad value fails at
    once (in the UI's code location, the CLI, the daemon) instead of at the first step
    that reads it. ``env`` (default: this process's environment) is read, never changed.
    """
    env = dict(os.environ if env is None else env)
    problems: list[tuple[str, str]] = []
    # Numbers first, as ranges (the Range of each numeric field), then each domain's rules.
    for model in DOMAINS:
        for field in model.model_fields:
            rng, name = model._range(field), model.env_name(field)
            raw = (env.get(name) or "").strip()
            if rng is None or not raw or rng.minimum is None and rng.maximum is None:
                continue
            try:
                check_range(name, _parse_number(name, raw, rng.integer), rng.minimum,
                            rng.maximum)
            except ValueError as exc:
                problems.append((name, str(exc)))
    named = {name for name, _ in problems}
    for model in DOMAINS:
        found = model.check(env)[1]
        if model is ArchiveSettings:  # only the archive import needs its file to exist
            found = [(n, m) for n, m in found if n == "ELEX_ARCHIVE_URL"]
        problems += [(n, m) for n, m in found if n not in named]
    if problems:
        raise SettingsError("invalid setting: " + "; ".join(m for _, m in problems))

