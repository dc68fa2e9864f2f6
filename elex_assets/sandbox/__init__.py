"""Sandbox servers on loopback that speak the wire formats of the external APIs."""
