"""Run the providers service, or restart it where a platform already runs it (see _service.py)."""

from __future__ import annotations

import sys

from _service import main

__all__: list[str] = []

if __name__ == "__main__":
    sys.exit(main("providers"))
