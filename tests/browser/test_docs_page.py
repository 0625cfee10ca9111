"""/docs in the system Chromium with every request off this server refused: it must still render."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

LiveServer = Any
pytestmark = pytest.mark.browser


def test_docs_render_offline_under_the_csp(browser: Any, live_server: LiveServer) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    outside: list[str] = []
    problems: list[str] = []

    def only_local(route: Any) -> None:
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    # A CSP violation is reported on the console; none may occur.
    page.on(
        "console", lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None
    )
    try:
        page.goto(live_server.url + "/docs")
        expect(page.locator(".opblock-summary-path", has_text="/api/ask").first).to_be_visible()
        assert page.locator(".opblock").count() >= 10
        # The error model and the bearer scheme are shown.
        expect(page.locator(".models")).to_contain_text("ErrorBody")
        expect(page.locator(".auth-wrapper .authorize")).to_be_visible()
    finally:
        context.close()
    assert outside == [], f"/docs fetched from elsewhere: {outside}"
    assert problems == [], problems
