"""BSKY_* settings: validated with a message naming the variable; credentials only detected."""

import pytest

from elex_assets.settings import BskySettings


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BSKY_BASE_URL", "BSKY_LANGUAGES", "BSKY_WINDOW_MINUTES", "BSKY_HANDLE",
                 "BSKY_APP_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    s = BskySettings.from_env()
    assert (s.base_url, s.languages, s.window_minutes, s.credentials_set) == (
        "https://bsky.social", (), 360, False)


def test_languages_and_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BSKY_LANGUAGES", "fr, en")
    monkeypatch.setenv("BSKY_HANDLE", "me.bsky.social")
    monkeypatch.setenv("BSKY_APP_PASSWORD", "aaaa-bbbb-cccc-dddd")
    s = BskySettings.from_env()
    assert s.languages == ("fr", "en") and s.credentials_set
    assert "aaaa" not in repr(s)  # the password is never held by the settings


@pytest.mark.parametrize(("name", "value"), [("BSKY_WINDOW_MINUTES", "0"),
                                             ("BSKY_WINDOW_MINUTES", "abc"),
                                             ("BSKY_LANGUAGES", "fr,lang:en")])
def test_bad_values_name_the_variable(monkeypatch: pytest.MonkeyPatch, name: str,
                                      value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=name):
        BskySettings.from_env()
