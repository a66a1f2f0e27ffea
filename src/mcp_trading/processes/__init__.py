"""How the platform runs: embedded runner, serve, supervisor, distributed launcher."""
