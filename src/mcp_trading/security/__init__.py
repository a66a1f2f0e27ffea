"""Who may call what: API keys, JWTs, the loopback authenticator, principals, access checks."""

__all__: list[str] = []  # a namespace: its modules are the surface
