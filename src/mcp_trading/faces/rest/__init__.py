"""REST faces: one FastAPI app per runbook service, thin over the service functions."""
