"""market-data :8001."""
