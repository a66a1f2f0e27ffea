"""Stored market history: the bar store (memory, SQLite, PostgreSQL), imports and reads."""

__all__: list[str] = []
