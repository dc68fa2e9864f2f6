"""The lake as a Dagster resource (a local folder or an S3 prefix)."""

from __future__ import annotations

import dagster as dg

from elex_assets.core.lake import Lake
from elex_assets.core.lease import DEFAULT_TTL_SECONDS, DEFAULT_WAIT_SECONDS, Lease


class LakeResource(dg.ConfigurableResource):
    """Root URL of the lake; S3 endpoint and region default to the AWS environment."""

    url: str
    endpoint_url: str | None = None
    region: str | None = None

    lease_ttl_seconds: float = DEFAULT_TTL_SECONDS
    lease_wait_seconds: float = DEFAULT_WAIT_SECONDS

    def lake(self) -> Lake:
        return Lake.from_url(self.url, endpoint_url=self.endpoint_url, region=self.region)

    def lease(
        self, context: dg.AssetExecutionContext, what: str | None = None
    ) -> Lease:
        """The lease on the partition this step writes (one writer across processes)."""
        return Lease(
            self.lake(), context.asset_key.to_user_string(), context.partition_key,
            owner=context.run.run_id, ttl_seconds=self.lease_ttl_seconds,
            wait_seconds=self.lease_wait_seconds, what=what, log=context.log.warning,
        )
