"""Google Trends: client, protocol checks, collection, scaling, cool-down state."""
