"""trading-engine :8010."""
