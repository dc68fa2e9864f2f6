"""Bluesky, the second social source: client, queries, collection, normalisation, deletions."""
