"""Sandbox APIs on loopback (part of the product): the demo and the tests run against them."""
