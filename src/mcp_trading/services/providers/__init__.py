"""providers :8093."""
