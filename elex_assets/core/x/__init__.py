"""X API v2: query building, client, collection, normalisation, spend, compliance."""
