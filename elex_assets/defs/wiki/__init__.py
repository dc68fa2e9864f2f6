"""Wikipedia pageviews: the asset, its schedule, the resource."""
