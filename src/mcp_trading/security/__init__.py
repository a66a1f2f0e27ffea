"""Who may call what: API keys, JWTs, the loopback authenticator, principals, access checks."""
