"""Fixtures for the end-to-end tests (the harnesses live in harness.py and distributed_harness.py)."""

from tests.e2e.browser import browser
from tests.e2e.distributed_harness import distributed_factory
from tests.e2e.harness import platform_factory, running

__all__ = ["browser", "distributed_factory", "platform_factory", "running"]
