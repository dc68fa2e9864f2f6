"""The lake as a Dagster resource (a local folder or an S3 prefix)."""

from __future__ import annotations

import dagster as dg

from elex_assets.core.lake import Lake


class LakeResource(dg.ConfigurableResource):
    """Root URL of the lake; S3 endpoint and region default to the AWS environment."""

    url: str
    endpoint_url: str | None = None
    region: str | None = None

    def lake(self) -> Lake:
        return Lake.from_url(self.url, endpoint_url=self.endpoint_url, region=self.region)
