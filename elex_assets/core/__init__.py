"""Pure-Python core of elex: knows nothing of Dagster.

Clients, parsing, normalisation and export writing live here so they can be
unit-tested and benchmarked on their own; ``elex_assets.defs`` wraps them in Dagster definitions.
"""
