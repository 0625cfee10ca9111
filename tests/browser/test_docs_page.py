"""/docs in the system Chromium with every request off this server refused: it must still render."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

LiveServer = Any
pytestmark = pytest.mark.browser
CSP_RECORDER = (
    "window.__csp = []; document.addEventListener('securitypolicyviolation',"
    " (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
)


def test_docs_render_offline_under_the_csp(browser: Any, live_server: LiveServer) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    outside: list[str] = []
    errors: list[str] = []

    def only_local(route: Any) -> None:
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.add_init_script(CSP_RECORDER)
    try:
        page.goto(live_server.url + "/docs")
        expect(page.locator(".opblock-summary-path", has_text="/api/ask").first).to_be_visible()
        assert page.locator(".opblock").count() >= 10
        # The error model and the bearer scheme are shown; an operation opens with its responses.
        expect(page.locator(".models")).to_contain_text("ErrorBody")
        expect(page.locator(".auth-wrapper .authorize")).to_be_visible()
        page.locator(".opblock-summary", has_text="/api/ask").first.click()
        expect(page.locator(".responses-table").first).to_contain_text("413")
        assert page.evaluate("window.__csp") == []
        # The recorder does see a violation when there is one: an inline style attribute.
        page.evaluate("document.body.setAttribute('style', 'color: red')")
        page.wait_for_function("window.__csp.length > 0")
    finally:
        context.close()
    assert outside == [], f"/docs fetched from elsewhere: {outside}"
    assert errors == [], errors
