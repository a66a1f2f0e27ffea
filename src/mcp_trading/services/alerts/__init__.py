"""alerts :8100."""
