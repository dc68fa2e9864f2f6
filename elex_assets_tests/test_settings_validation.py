"""Every setting is range-checked when the definitions load; the error names the variable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from elex_assets import PROJECT_DIR
from elex_assets.settings import validate_env


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"X_MAX_QUERY_LENGTH": "-1"}, "X_MAX_QUERY_LENGTH=-1: expected 0"),
        ({"X_MAX_QUERY_LENGTH": "600"}, "between 32 and 512 (X_SEARCH_ENDPOINT=recent)"),
        ({"TRENDS_MIN_INTERVAL_SECONDS": "-5"}, "TRENDS_MIN_INTERVAL_SECONDS=-5: expected"),
        ({"TRENDS_MAX_ATTEMPTS": "0"}, "TRENDS_MAX_ATTEMPTS=0: expected a number between 1"),
        ({"TRENDS_TIMEOUT_SECONDS": "soon"}, "TRENDS_TIMEOUT_SECONDS='soon': expected a number"),
        ({"X_MAX_POSTS_PER_MONTH": "-100"}, "X_MAX_POSTS_PER_MONTH=-100"),
        ({"X_MIN_STATUS": "1.5"}, "X_MIN_STATUS='1.5': expected an integer"),
        ({"X_INCLUDE_RETWEETS": "maybe"}, "X_INCLUDE_RETWEETS='maybe': expected true or false"),
        ({"X_API_BASE_URL": "api.x.com"}, "X_API_BASE_URL='api.x.com': expected an http"),
        ({"ELEX_LEASE_TTL_SECONDS": "0"}, "ELEX_LEASE_TTL_SECONDS=0"),
        ({"KAGGLE_DATASET": "jane"}, "KAGGLE_DATASET='jane' is not owner/slug"),
        ({"ELEX_KAGGLE_CONTENT": "text"}, "ELEX_KAGGLE_CONTENT='text': expected ids or full"),
        ({"ELEX_ALERT_PHONE_NUMBER": "0612345678"}, "ELEX_ALERT_PHONE_NUMBER: expected an E.164"),
        ({"ELEX_ALERT_SNS_TOPIC_ARN": "alerts"}, "ELEX_ALERT_SNS_TOPIC_ARN='alerts': expected"),
    ],
)
def test_a_bad_setting_is_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match="invalid setting") as info:
        validate_env(env)
    assert message in str(info.value)


def test_good_settings_pass() -> None:
    validate_env({"X_MAX_QUERY_LENGTH": "1024", "X_SEARCH_ENDPOINT": "all",
                  "TRENDS_MIN_INTERVAL_SECONDS": "0", "X_MIN_STATUS": "-1",
                  "X_INCLUDE_RETWEETS": "false", "X_API_BASE_URL": "http://127.0.0.1:1"})


def test_a_negative_interval_fails_when_the_definitions_load() -> None:
    env = {**os.environ, "TRENDS_MIN_INTERVAL_SECONDS": "-5"}
    proc = subprocess.run(
        [sys.executable, "-c", "from elex_assets.definitions import defs; defs()"],
        cwd=PROJECT_DIR, env=env,
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode != 0
    assert "TRENDS_MIN_INTERVAL_SECONDS=-5: expected a number at least 0" in proc.stderr
