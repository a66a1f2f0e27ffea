"""Data operations: verified backups, restore, archival and integrity checks of the stores."""

from __future__ import annotations

__all__: list[str] = []
