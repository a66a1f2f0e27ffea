"""REST faces: one FastAPI app per runbook service, thin over the service functions."""

__all__: list[str] = []  # a namespace: its modules are the surface
