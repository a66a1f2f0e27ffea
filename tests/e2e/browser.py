"""Headless Chromium for the browser tests: Debian's /usr/bin/chromium driven by Playwright
(its own browser downloads are never used). `browser` is a module-scoped fixture, registered
for every e2e test by conftest.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import in_ci

__all__ = ["CHROMIUM", "LAUNCH_ARGS", "browser", "require_browser"]

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-quic", "--no-first-run", "--disable-component-update",
               "--disable-sync"]


def require_browser() -> Any:
    """The playwright module, with Chromium present; skip (fail under CI=true) otherwise."""
    problem = None
    try:
        from playwright import sync_api
    except ImportError as exc:
        problem = f"the playwright package is not installed ({exc}); pip install -e '.[dev]'"
    else:
        if not CHROMIUM.exists():
            problem = (f"{CHROMIUM} is missing; scripts/test.sh installs it (apt-get install "
                       "chromium)")
    if problem is not None:
        if in_ci():
            pytest.fail(problem, pytrace=False)
        pytest.skip(problem)
    return sync_api


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = require_browser()
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                      args=LAUNCH_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
