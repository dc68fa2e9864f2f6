"""Google Trends: assets, their schedule and checks, the resource."""
