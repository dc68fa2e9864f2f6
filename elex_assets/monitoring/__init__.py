"""Watching elex: freshness and content checks, alerts, run health."""
