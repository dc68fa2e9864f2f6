"""Trends settings are refused at load, naming the variable."""

from __future__ import annotations

import pytest

from elex_assets.settings import TrendsSettings


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TRENDS_MIN_INTERVAL_SECONDS", "soon", r"TRENDS_MIN_INTERVAL_SECONDS='soon': expected a number"),
        ("TRENDS_MIN_INTERVAL_SECONDS", "-1", r"TRENDS_MIN_INTERVAL_SECONDS='-1': must be at least 0"),
        ("TRENDS_MAX_ATTEMPTS", "2.5", r"TRENDS_MAX_ATTEMPTS='2.5': expected an integer"),
        ("TRENDS_MAX_ATTEMPTS", "0", r"TRENDS_MAX_ATTEMPTS='0': must be at least 1"),
        ("TRENDS_BASE_URL", "trends.google.com", r"TRENDS_BASE_URL='trends.google.com'"),
        ("TRENDS_BACKEND", "pytrends", r"TRENDS_BACKEND='pytrends': expected one of"),
        ("TRENDS_COOLDOWN_MINUTES", "0", r"TRENDS_COOLDOWN_MINUTES='0': must be at least 1"),
        ("TRENDS_CREDENTIALS_FILE", "/nowhere/key.json", r"TRENDS_CREDENTIALS_FILE=.*no such file"),
    ],
)
def test_bad_trends_setting_is_named(monkeypatch, name, value, message) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=message):
        TrendsSettings.from_env()


def test_cooldown_maximum_below_its_base_is_refused(monkeypatch) -> None:
    monkeypatch.setenv("TRENDS_COOLDOWN_MINUTES", "60")
    monkeypatch.setenv("TRENDS_COOLDOWN_MAX_MINUTES", "30")
    with pytest.raises(ValueError, match="TRENDS_COOLDOWN_MAX_MINUTES=30 is below"):
        TrendsSettings.from_env()


def test_defaults(monkeypatch) -> None:
    for name in ("TRENDS_BACKEND", "TRENDS_BASE_URL", "TRENDS_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    settings = TrendsSettings.from_env()
    assert settings.backend == "web" and settings.cooldown_minutes == 15
