"""Sensors: alerting on what the instance knows is wrong."""
