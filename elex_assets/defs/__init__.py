"""Dagster definitions, one package per domain (assets with their jobs, schedules, sensors)."""
