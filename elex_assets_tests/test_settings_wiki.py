"""WIKIMEDIA_* settings: validated at load with a message naming the variable."""

import pytest

from elex_assets.defs.wiki.resources import WikiResource
from elex_assets.settings import WikiSettings, load_settings, validate_env


def test_defaults() -> None:
    s = WikiSettings.load({})
    assert (s.base_url, s.contact, s.languages, s.max_concurrent) == (
        "https://wikimedia.org/api/rest_v1", None, ("fr", "en"), 3)
    assert not s.sandbox


def test_the_resource_carries_every_value_and_names_elex_and_the_contact() -> None:
    s = load_settings({"WIKIMEDIA_BASE_URL": "http://127.0.0.1:9/api/rest_v1",
                       "WIKIMEDIA_CONTACT": "ops@example.org", "WIKIMEDIA_LANGUAGES": "fr",
                       "WIKIMEDIA_MAX_CONCURRENT": "2", "X_MIN_STATUS": "1"})
    wiki = WikiResource.from_settings(s.wiki, min_status=s.x.min_status)
    assert (wiki.base_url, wiki.contact, wiki.languages, wiki.max_concurrent,
            wiki.min_status) == ("http://127.0.0.1:9/api/rest_v1", "ops@example.org", ["fr"],
                                 2, 1)
    client = wiki.client()
    assert client.user_agent.startswith("elex/") and "(ops@example.org)" in client.user_agent
    assert client.max_concurrent == 2


@pytest.mark.parametrize(("name", "value", "says"), [
    ("WIKIMEDIA_MAX_CONCURRENT", "4", "between 1 and 3"),  # Wikimedia's limit
    ("WIKIMEDIA_MAX_CONCURRENT", "0", "between 1 and 3"),
    ("WIKIMEDIA_CONTACT", "me", "e-mail address"),
    ("WIKIMEDIA_CONTACT", "me@example.org (x)", "parentheses"),
    ("WIKIMEDIA_LANGUAGES", "fr,English", "not a Wikipedia language code"),
    ("WIKIMEDIA_BASE_URL", "wikimedia.org", "http"),
])
def test_bad_values_name_the_variable(name: str, value: str, says: str) -> None:
    with pytest.raises(ValueError, match=name) as err:
        validate_env({name: value})
    assert says in str(err.value)
