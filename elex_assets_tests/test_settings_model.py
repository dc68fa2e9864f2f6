"""One configuration model: the only reader of the environment, each default stated once."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from elex_assets import PROJECT_DIR
from elex_assets.defs.bsky.resources import BskyResource
from elex_assets.defs.kaggle.resources import KaggleResource, kaggle_resource_from_settings
from elex_assets.defs.trends.resources import TrendsResource
from elex_assets.defs.x.resources import XResource
from elex_assets.resources import LakeResource
from elex_assets.settings import (
    BskySettings,
    KaggleSettings,
    LeaseSettings,
    TrendsSettings,
    XSettings,
    load_settings,
    scoped_env,
    validate_env,
)

ENV_READ = re.compile(r"os\.environ|getenv")
# The starter notebook's cells are text run by the dataset's readers on Kaggle, not by elex.
NOTEBOOK_TEXT = "elex_assets/core/kaggle/starter_notebook.py"


def test_only_the_settings_module_reads_the_environment() -> None:
    readers = []
    for folder in ("elex_assets", "bench"):
        for path in sorted((PROJECT_DIR / folder).rglob("*.py")):
            rel = path.relative_to(PROJECT_DIR).as_posix()
            if rel in ("elex_assets/settings/__init__.py", "elex_assets/settings/env.py"):
                continue  # validate_env reads it; env.py is its one writer
            lines = [n for n, line in enumerate(path.read_text().splitlines(), 1)
                     if ENV_READ.search(line)]
            if lines and rel == NOTEBOOK_TEXT:
                text = path.read_text()
                # only inside the notebook's cell sources (module-level strings), not its code
                code = re.sub(r"'''.*?'''", "", text, flags=re.S)
                lines = [n for n, line in enumerate(code.splitlines(), 1)
                         if ENV_READ.search(line)]
            if lines:
                readers.append(f"{rel}:{lines}")
    assert readers == []


def test_importing_the_definitions_reads_no_setting() -> None:
    """A bad value does not stop the import; it fails when Dagster builds the definitions."""
    env = {**os.environ, "TRENDS_MIN_INTERVAL_SECONDS": "-5"}
    code = ("import elex_assets.definitions as d\nprint('imported')\nd.defs()")
    proc = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_DIR, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip() == "imported"
    assert proc.returncode != 0
    assert "TRENDS_MIN_INTERVAL_SECONDS=-5: expected a number at least 0" in proc.stderr


def test_resource_defaults_are_the_models() -> None:
    """A resource built without settings (tests, the sandbox) behaves as the model says."""
    for resource, model, fields in (
        (XResource(), XSettings.load({}), XSettings.model_fields),
        (TrendsResource(), TrendsSettings.load({}), TrendsSettings.model_fields),
    ):
        for field in fields:
            if field in type(resource).model_fields:
                expected = getattr(model, field)
                expected = list(expected) if isinstance(expected, tuple) else expected
                assert getattr(resource, field) == expected, field
    bsky, bsky_model = BskyResource(), BskySettings.load({})
    assert (bsky.base_url, bsky.languages, bsky.window_minutes) == (
        bsky_model.base_url, list(bsky_model.languages), bsky_model.window_minutes)
    lake, lease = LakeResource(url="."), LeaseSettings.load({})
    assert (lake.lease_ttl_seconds, lake.lease_wait_seconds) == (
        lease.ttl_seconds, lease.wait_seconds)
    kaggle, kaggle_model = KaggleResource(), KaggleSettings.load({})
    assert (kaggle.content_policy, kaggle.publish, kaggle.public) == (
        kaggle_model.content_policy, kaggle_model.publish, not kaggle_model.private)


def test_the_sandbox_defaults_follow_the_base_url() -> None:
    live, sandbox = XResource(), XResource(base_url="http://127.0.0.1:8123")
    assert (live.posts_plan, live.max_usd_per_day, live.max_usd_per_month) == (
        "sample", 5.0, 100.0)
    assert (sandbox.posts_plan, sandbox.max_usd_per_day) == ("full", 0.0)
    assert XResource(base_url="http://127.0.0.1:1", posts_plan="off").posts_plan == "off"


def test_resources_from_settings_carry_every_value() -> None:
    env = {"X_API_BASE_URL": "http://127.0.0.1:9", "X_LANGUAGES": "fr", "X_MIN_STATUS": "-1",
           "X_POSTS_PLAN": "sample", "TRENDS_ANCHOR": "Jean Dupont", "TRENDS_MAX_ATTEMPTS": "3",
           "BSKY_WINDOW_MINUTES": "60", "ELEX_KAGGLE_CONTENT": "full"}
    s = load_settings(env)
    x = XResource.from_settings(s.x)
    assert (x.base_url, x.languages, x.min_status, x.posts_plan, x.bearer_token) == (
        "http://127.0.0.1:9", ["fr"], -1, "sample", None)
    trends = TrendsResource.from_settings(s.trends)
    assert (trends.anchor, trends.max_attempts) == ("Jean Dupont", 3)
    bsky = BskyResource.from_settings(s.bsky, min_status=s.x.min_status)
    assert (bsky.window_minutes, bsky.min_status, bsky.handle) == (60, -1, None)
    kaggle = kaggle_resource_from_settings(s.kaggle, s.x)
    assert (kaggle.content_policy, kaggle.posts_plan, kaggle.key) == ("full", "sample", None)


def test_secrets_are_only_seen_as_set(monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = {"X_BEARER_TOKEN": "tok-s3cret", "KAGGLE_KEY": "kag-s3cret",
               "BSKY_HANDLE": "me.bsky.social", "BSKY_APP_PASSWORD": "pw-s3cret"}
    s = load_settings(secrets)
    assert "s3cret" not in repr(s)
    assert s.x.token_set and s.kaggle.key_set and s.bsky.credentials_set
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    x = XResource.from_settings(XSettings.load())
    assert "s3cret" not in repr(x)  # a dg.EnvVar, resolved by Dagster in the run


def test_an_explicit_mapping_ignores_the_process_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRENDS_MAX_ATTEMPTS", "0")
    validate_env({})
    assert TrendsSettings.load({}).max_attempts == TrendsSettings.default("max_attempts")
    with pytest.raises(ValueError, match="TRENDS_MAX_ATTEMPTS"):
        validate_env()


def test_scoped_env_restores_what_it_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAGGLE_USERNAME", "before")
    monkeypatch.delenv("KAGGLE_KEY", raising=False)
    monkeypatch.setenv("X_BEARER_TOKEN", "tok")
    with scoped_env({"KAGGLE_USERNAME": "jane", "KAGGLE_KEY": "k"}, unset=["X_BEARER_TOKEN"]):
        assert (os.environ["KAGGLE_USERNAME"], os.environ["KAGGLE_KEY"]) == ("jane", "k")
        assert "X_BEARER_TOKEN" not in os.environ
    assert os.environ["KAGGLE_USERNAME"] == "before" and "KAGGLE_KEY" not in os.environ
    assert os.environ["X_BEARER_TOKEN"] == "tok"


def test_resource_knobs_without_a_setting_default_to_their_api_policy() -> None:
    """Retry bounds no variable sets are the API's one policy, not a second copy."""
    from elex_assets.core.bsky.api import BSKY_RETRY
    from elex_assets.core.trends.client import TRENDS_RETRY
    from elex_assets.core.x.client import X_RETRY
    from elex_assets.defs.bsky.resources import BskyResource
    from elex_assets.defs.trends.resources import TrendsResource
    from elex_assets.defs.x.resources import XResource

    x = XResource(base_url="http://127.0.0.1:9").client().policy
    assert (x.max_attempts, x.backoff_base, x.max_rate_limit_wait, x.reset_header) == (
        X_RETRY.max_attempts, X_RETRY.backoff_base, X_RETRY.max_rate_limit_wait,
        X_RETRY.reset_header)
    trends = TrendsResource().politeness().retry
    assert (trends.max_attempts, trends.backoff_base, trends.backoff_max) == (
        TRENDS_RETRY.max_attempts, TRENDS_RETRY.backoff_base, TRENDS_RETRY.backoff_max)
    bsky = BskyResource.model_fields
    assert (bsky["max_attempts"].default, bsky["max_rate_limit_wait"].default) == (
        BSKY_RETRY.max_attempts, BSKY_RETRY.max_rate_limit_wait)
