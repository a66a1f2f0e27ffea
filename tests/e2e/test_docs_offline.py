"""`/docs` renders Swagger UI from the platform's own files: in headless Chromium with every
request off the host aborted (as on a host without internet), the operations are drawn."""

from __future__ import annotations

from typing import Any

from tests.e2e.harness import RunningPlatform


def test_docs_render_without_internet(running: RunningPlatform, browser: Any) -> None:
    base = running.url("trading-engine")
    context = browser.new_context()
    offsite: list[str] = []

    def only_local(route: Any) -> None:
        url = route.request.url
        if url.startswith(base):
            route.continue_()
        else:
            offsite.append(url)
            route.abort()

    context.route("**/*", only_local)
    try:
        page = context.new_page()
        response = page.goto(f"{base}/docs")
        assert response is not None and response.status == 200
        page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        assert any(p.replace("\u200b", "") == "/orders" for p in paths), paths
        assert offsite == [], offsite  # nothing fetched from a CDN
    finally:
        context.close()
