"""The election, its registry, the lake (local or S3), leases, the archive import, the sandboxes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AliasChoices, Field, ValidationInfo, field_validator

from elex_assets import PROJECT_DIR
from elex_assets.core.elections import DEFAULT_ELECTION, ELECTIONS_SUPPORTED
from elex_assets.core.lease import DEFAULT_TTL_SECONDS, DEFAULT_WAIT_SECONDS

if TYPE_CHECKING:
    from elex_assets.core.lake import Lake

from elex_assets.settings.base import (
    CandidatesFile,
    EnvModel,
    Range,
    _lake_url,
    _Numbers,
    _url,
    var,
)

DEFAULT_LAKE_DIR = PROJECT_DIR / "data" / "lake"


class Settings(EnvModel):
    """The election, its registry and the lake (docs/configuration.md)."""

    election: str = var("ELEX_ELECTION", DEFAULT_ELECTION,
        description="Election collected: `2017`, `2022` or `2027`.",
        shown="`2027` (the next campaign)")
    candidates_file: CandidatesFile = None
    lake_url: str = var("ELEX_LAKE_URL", str(DEFAULT_LAKE_DIR),
        description="Lake root: a folder or `s3://bucket/prefix`.",
        shown="`data/lake` in the project")

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_default(cls, value: Any, info: ValidationInfo) -> Any:
        _, text = cls._raw(value, info)
        return text if text is not None else cls.default(info.field_name or "")

    @field_validator("election")
    @classmethod
    def _supported(cls, value: str) -> str:
        if value not in ELECTIONS_SUPPORTED:
            raise ValueError(
                f"ELEX_ELECTION={value!r} is not supported; "
                f"choose one of {', '.join(ELECTIONS_SUPPORTED)}"
            )
        return value

    @field_validator("lake_url")
    @classmethod
    def _lake(cls, value: str) -> str:
        return _lake_url("ELEX_LAKE_URL", value)

    def lake(self, url: str | None = None) -> Lake:
        """The lake at ``url`` (default ``ELEX_LAKE_URL``), on the environment's S3."""
        return AwsSettings.load().lake(url or self.lake_url)


class AwsSettings(EnvModel):
    """Not secrets: where S3 is (moto in tests) and its region; boto3 reads the keys itself."""

    endpoint_url: str | None = var("AWS_ENDPOINT_URL", None,
        description="S3-compatible endpoint (moto, MinIO…); the keys come from the standard AWS chain.",
        shown="AWS")
    region: str | None = Field(
        None, validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION"),
        description="AWS region of the lake's bucket and of SNS (`AWS_DEFAULT_REGION` is read "
                    "when `AWS_REGION` is not set).",
        json_schema_extra={"shown_default": "the AWS profile's region"})

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any, info: ValidationInfo) -> str | None:
        name, text = cls._raw(value, info)
        return _url(name, text) if text and name == "AWS_ENDPOINT_URL" else text

    def lake(self, url: str) -> Lake:
        from elex_assets.core.lake import Lake

        return Lake.from_url(url, endpoint_url=self.endpoint_url, region=self.region)


def open_lake(url: str | None = None) -> Lake:
    """``Settings.load().lake(url)``: a lake addressed as the environment says."""
    return Settings.load().lake(url)




class ArchiveSettings(EnvModel):
    """Archive import (docs/archive.md): where the old files are
    and which registry matches them (the author's own ``candidates.json`` may)."""

    source_url: str | None = var("ELEX_ARCHIVE_URL", None,
        description="Folder or `s3://bucket/prefix` of an old collection to import (run config `source_url` overrides it).",
        shown="none (the import assets fail asking for it)")
    candidates_file: CandidatesFile = None

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any, info: ValidationInfo) -> str | None:
        return cls._raw(value, info)[1]

    @field_validator("source_url")
    @classmethod
    def _source(cls, value: str | None) -> str | None:
        return _lake_url("ELEX_ARCHIVE_URL", value) if value else value

    @field_validator("candidates_file")
    @classmethod
    def _exists(cls, value: str | None) -> str | None:
        if value and not os.path.isfile(value):
            raise ValueError(f"ELEX_CANDIDATES_FILE={value!r}: no such file")
        return value




class LeaseSettings(_Numbers):
    """One writer per partition across processes (``core.lease``)."""

    ttl_seconds: Annotated[float, Range(1)] = var("ELEX_LEASE_TTL_SECONDS", DEFAULT_TTL_SECONDS,
        description="Lifetime of a partition's lease in the lake (`state/leases/`), renewed while its run works; a crashed run's lease is taken over after it (at once when its process is known dead on the same host).")
    wait_seconds: Annotated[float, Range(0)] = var("ELEX_LEASE_WAIT_SECONDS",
                                                   DEFAULT_WAIT_SECONDS,
        description="How long a second writer of the same partition (another instance, a CLI run) waits for the lease before failing with who holds it.")




class SandboxSettings(_Numbers):
    """The sandbox APIs of ``elex sandbox`` and the demo, and the demo's Dagster instance."""

    x_port: Annotated[int, Range(0, 65535, True)] = var("X_SANDBOX_PORT", 0,
        description="Port of the sandbox X API of `elex sandbox` and the demo.",
        shown="a free port")
    x_posts_per_day: Annotated[int, Range(1, None, True)] = var("X_SANDBOX_POSTS_PER_DAY", 2000,
        description="Daily post volume of the sandbox X API.")
    trends_port: Annotated[int, Range(0, 65535, True)] = var("TRENDS_SANDBOX_PORT", 0,
        description="Port of the sandbox Google Trends server.",
        shown="a free port")
    bsky_port: Annotated[int, Range(0, 65535, True)] = var("BSKY_SANDBOX_PORT", 0,
        description="Port of the sandbox Bluesky server.",
        shown="a free port")
    bsky_posts_per_day: Annotated[int, Range(1, None, True)] = var(
        "BSKY_SANDBOX_POSTS_PER_DAY", 400,
        description="Daily post volume of the sandbox Bluesky server.")
    wiki_port: Annotated[int, Range(0, 65535, True)] = var(
        "WIKIMEDIA_SANDBOX_PORT", 0, description="Port of the sandbox Wikimedia pageviews "
        "server.", shown="a free port")
    dagster_home: Path = var("DAGSTER_HOME", PROJECT_DIR / ".dagster_home",
        description="Dagster instance folder of the demo and `make ui` (created with the project's `dagster.yaml`).",
        shown="`.dagster_home` in the project")

    @field_validator("dagster_home", mode="before")
    @classmethod
    def _home(cls, value: Any, info: ValidationInfo) -> Path:
        text = cls._raw(value, info)[1]
        return Path(text) if text else cls.default("dagster_home")
