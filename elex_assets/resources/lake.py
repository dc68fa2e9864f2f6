"""The lake as a Dagster resource (a local folder or an S3 prefix)."""

from __future__ import annotations

import dagster as dg

from elex_assets.core.lake import Lake
from elex_assets.core.lease import Lease
from elex_assets.settings import AwsSettings, LeaseSettings, Settings


class LakeResource(dg.ConfigurableResource):
    """Root URL of the lake; the S3 endpoint and region default to the AWS environment's
    (``AwsSettings``)."""

    url: str
    endpoint_url: str | None = None
    region: str | None = None

    lease_ttl_seconds: float = LeaseSettings.default("ttl_seconds")
    lease_wait_seconds: float = LeaseSettings.default("wait_seconds")

    @classmethod
    def from_settings(cls, settings: Settings, lease: LeaseSettings) -> LakeResource:
        return cls(url=settings.lake_url, lease_ttl_seconds=lease.ttl_seconds,
                   lease_wait_seconds=lease.wait_seconds)

    def lake(self) -> Lake:
        aws = AwsSettings.load()  # at run time: where S3 is may differ from where code loads
        return Lake.from_url(self.url, endpoint_url=self.endpoint_url or aws.endpoint_url,
                             region=self.region or aws.region)

    def lease(
        self, context: dg.AssetExecutionContext, what: str | None = None
    ) -> Lease:
        """The lease on the partition this step writes (one writer across processes)."""
        return Lease(
            self.lake(), context.asset_key.to_user_string(), context.partition_key,
            owner=context.run.run_id, ttl_seconds=self.lease_ttl_seconds,
            wait_seconds=self.lease_wait_seconds, what=what, log=context.log.warning,
        )
