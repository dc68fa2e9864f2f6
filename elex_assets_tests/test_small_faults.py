"""Smaller faults: an empty registry, a missing S3 bucket, retry messages logged once."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from elex_assets.core.lake import Lake, LakeError
from elex_assets.core.registry import RegistryError, load_registry
from elex_assets.core.x.client import RetryPolicy, XClient
from elex_assets.sandbox.x_server import XSandbox


@pytest.mark.parametrize(
    "body",
    ["{}", '{"election": {"id": "2027", "first_round": "2027-04-11", '
     '"second_round": "2027-04-25", "campaign_start": "2026-09-01"}, "candidates": []}'],
)
def test_an_empty_candidates_file_is_rejected_naming_the_file(tmp_path: Path, body: str) -> None:
    path = tmp_path / "candidates.json"
    path.write_text(body)
    with pytest.raises(RegistryError, match=rf"^{path}: no candidates"):
        load_registry("2027", path)


def test_a_missing_bucket_is_named_as_such(aws_env: str) -> None:
    lake = Lake.from_url("s3://no-such-elex-bucket/lake")
    for action in (lambda: lake.read_bytes("a.json"), lambda: lake.list("raw/"),
                   lambda: lake.write_bytes("a.json", b"{}")):
        with pytest.raises(LakeError, match="the S3 bucket 'no-such-elex-bucket' does not exist"):
            action()


def test_each_retry_is_reported_once(x_sandbox: XSandbox, caplog) -> None:  # noqa: ANN001
    seen: list[str] = []
    client = XClient(
        "sandbox-token-faults", x_sandbox.base_url, RetryPolicy(max_attempts=3, backoff_base=0.01),
                     on_retry=lambda message, n: seen.append(message))
    x_sandbox.faults.add("503")
    with caplog.at_level(logging.DEBUG):
        client.search("all", "macron", max_results=10, start_time="2022-04-09T00:00:00Z",
                      end_time="2022-04-09T01:00:00Z")
    assert len(seen) == 1 and "server error" in seen[0]
    assert not [r for r in caplog.records if "server error" in r.getMessage()]
