"""Bluesky: posts assets, their jobs and schedules, the resource."""
