"""Fixtures for the end-to-end tests (the harness lives in harness.py)."""

from tests.e2e.harness import platform_factory, running

__all__ = ["platform_factory", "running"]
