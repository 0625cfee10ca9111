"""The chat page in the system Chromium against a real server, real index and real model."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

# Fixture types live in conftest.py; pytest cannot import it as a module, so `Any` stands in.
ADMIN_HEADERS = {"Authorization": "Bearer browser-admin-key-3c9a"}  # TEST_ADMIN_KEY in conftest.py
LiveServer = Any
PageProbe = Any
pytestmark = pytest.mark.browser

INDICATOR_QUESTION = "到2025年廊坊市建成区PM2.5浓度要降到多少？"
UNANSWERABLE_QUESTION = "廊坊市2030年的细颗粒物浓度目标是多少？"
HOSTILE = "<img src=x onerror=alert(1)>"


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def ask(page: Page, question: str, *, expect_status: str = "done") -> Locator:
    """Type a question, press Enter, wait for its turn to finish and return that turn."""
    before = page.locator("#turns > .turn").count()
    box = page.locator("#question")
    box.fill(question)
    box.press("Enter")
    turn = page.locator("#turns > .turn").nth(before)
    expect(turn.locator(".question-text")).to_have_text(question.strip())
    expect(turn).to_have_attribute("data-status", re.compile("^(done|error)$"))
    if expect_status:
        assert turn.get_attribute("data-status") == expect_status, turn.inner_text()
    return turn


# Notes every state a turn is drawn in (each redraw adds a new node), and whether a loading line showed.
STATE_RECORDER = """
window.__states = [];
new MutationObserver((records) => {
  for (const r of records) for (const n of r.addedNodes) {
    if (n.classList && n.classList.contains('turn')) {
      window.__states.push(n.dataset.status + (n.querySelector('.loading') ? '+loading' : ''));
    }
  }
}).observe(document, { childList: true, subtree: true });
"""


def test_indicator_question_streams_number_and_citations(page: Page) -> None:
    page.add_init_script(STATE_RECORDER)
    page.reload()
    with page.expect_response("**/api/ask/stream") as streamed:
        turn = ask(page, INDICATOR_QUESTION)
    assert streamed.value.status == 200
    assert streamed.value.headers["content-type"].startswith("text/event-stream")
    states = page.evaluate("window.__states")
    # A loading line first, the citations before the answer text, and a finished turn last.
    assert states[0] == "pending+loading"
    assert "streaming+loading" in states
    assert states[-1] == "done"
    expect(turn).to_have_attribute("data-abstained", "false")
    expect(turn.locator(".answer-text")).to_contain_text("35")
    cards = turn.locator(".cards-cite .card")
    assert cards.count() >= 1
    expect(cards.first.locator(".card-doc")).not_to_be_empty()
    expect(cards.first.locator(".card-section")).not_to_be_empty()
    # The cited sentence is highlighted inside the passage text of at least one card.
    assert turn.locator(".cards-cite mark.quote").count() >= 1
    markers = turn.locator(".answer-text .marker")
    assert markers.count() >= 1
    expect(page.locator("#empty-state")).to_be_hidden()


def test_shift_enter_is_a_newline_and_does_not_send(page: Page) -> None:
    box = page.locator("#question")
    box.fill("第一行")
    box.press("Shift+Enter")
    box.type("第二行")
    expect(box).to_have_value("第一行\n第二行")
    assert page.locator("#turns > .turn").count() == 0


def test_marker_opens_side_panel_with_highlighted_quote(page: Page) -> None:
    turn = ask(page, INDICATOR_QUESTION)
    marker = turn.locator(".answer-text .marker").first
    n = int(marker.get_attribute("data-n") or "0")
    card = turn.locator(f'.cards-cite .card[data-n="{n}"]')
    doc_title = card.locator(".card-doc").inner_text()
    pid = card.get_attribute("data-pid")
    marker.click()
    panel = page.locator("#source-panel")
    expect(panel).to_be_visible()
    expect(page.locator("#source-title")).to_have_text(doc_title)
    expect(page.locator("#source-meta")).to_contain_text("版本日期")
    target = panel.locator(f'.src-p.is-target[data-pid="{pid}"]')
    expect(target).to_be_visible()
    quote = target.locator("mark.source-quote").first
    expect(quote).to_be_in_viewport()
    # The card may show only part of a long quote; compare without layout whitespace.
    card_quote = squeeze(card.locator("mark.quote").first.text_content() or "")
    panel_quote = squeeze(quote.text_content() or "")
    assert card_quote and (card_quote[:8] in panel_quote or panel_quote[:8] in card_quote)
    # Escape closes the panel and gives focus back to the marker.
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(marker).to_be_focused()
    # A card opens the same panel.
    card.click()
    expect(target).to_be_visible()


def test_unanswerable_question_shows_abstained_state(page: Page) -> None:
    turn = ask(page, UNANSWERABLE_QUESTION)
    expect(turn).to_have_attribute("data-abstained", "true")
    expect(turn.locator(".abstain-title")).to_have_text(re.compile("文件中未找到"))
    assert turn.locator(".answer-text").count() == 0
    assert turn.locator(".cards-cite").count() == 0
    # Passages near the question are offered as related reading, not as an answer.
    expect(turn.locator(".related-title")).to_contain_text("相关内容")
    assert turn.locator(".cards-related .card").count() >= 1


def test_county_picker_fills_question_and_gets_targets_table(page: Page) -> None:
    picker = page.locator("#county-picker")
    expect(picker).to_be_enabled()
    counties = [o for o in picker.locator("option").all_inner_texts() if not o.startswith("选择")]
    assert len(counties) == 11 and "三河市" in counties
    picker.select_option("三河市")
    box = page.locator("#question")
    expect(box).to_have_value("三河市要完成哪些目标任务？")
    expect(box).to_be_focused()
    box.press("Enter")
    turn = page.locator("#turns > .turn").first
    expect(turn).to_have_attribute("data-status", "done")
    table = turn.locator(".targets table")
    expect(table).to_be_visible()
    assert table.locator("thead th").all_inner_texts() == ["指标", "目标值", "年份", "属性", "出处"]
    assert table.locator("tbody tr").count() >= 1
    expect(table.locator("caption")).to_contain_text("三河市")


def test_sector_picker_fills_a_question(page: Page) -> None:
    picker = page.locator("#sector-picker")
    expect(picker).to_be_enabled()
    sectors = [o for o in picker.locator("option").all_inner_texts() if not o.startswith("选择")]
    assert sectors, "GET /api/vocab gave no sectors"
    picker.select_option(sectors[0])
    expect(page.locator("#question")).to_have_value(re.compile(f"^{re.escape(sectors[0])}.*有哪些要求？$"))


def test_history_survives_reload_and_can_be_cleared(page: Page) -> None:
    turn = ask(page, INDICATOR_QUESTION)
    cards_before = turn.locator(".cards-cite .card").count()
    page.reload()
    restored = page.locator("#turns > .turn")
    expect(restored).to_have_count(1)
    expect(restored.first.locator(".question-text")).to_have_text(INDICATOR_QUESTION)
    expect(restored.first.locator(".cards-cite .card")).to_have_count(cards_before)
    clear = page.locator("#clear-history")
    clear.click()
    expect(clear).to_have_text("确认清空？")
    clear.click()
    expect(restored).to_have_count(0)
    expect(page.locator("#empty-state")).to_be_visible()
    page.reload()
    expect(page.locator("#empty-state")).to_be_visible()
    assert page.locator("#turns > .turn").count() == 0


def test_copy_turn_as_text_with_citations(page: Page) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    turn = ask(page, INDICATOR_QUESTION)
    turn.locator(".copy-turn").click()
    expect(page.locator("#global-status")).to_contain_text("已复制")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(f"问：{INDICATOR_QUESTION}\n答：")
    assert "出处：" in copied
    first_doc = turn.locator(".cards-cite .card-doc").first.inner_text()
    assert f"[1] 《{first_doc}》" in copied


def test_feedback_is_stored_and_listed(page: Page, live_server: LiveServer) -> None:
    token = f"评论-{uuid.uuid4().hex[:8]}"
    turn = ask(page, INDICATOR_QUESTION)
    turn.locator(".thumb-down").click()
    comment = turn.locator(".feedback-comment")
    expect(comment).to_be_focused()
    comment.fill(f"引用的条文不够具体 {token}")
    turn.locator(".feedback-form button[type=submit]").click()
    expect(turn.locator(".feedback-status")).to_contain_text("已记录")
    expect(turn.locator(".thumb-down")).to_have_attribute("aria-pressed", "true")
    listing = httpx.get(
        f"{live_server.url}/api/feedback", params={"limit": 50}, headers=ADMIN_HEADERS, timeout=10
    ).json()
    mine = [i for i in listing["items"] if token in i["comment"]]
    assert len(mine) == 1
    assert mine[0]["rating"] == "down"
    assert mine[0]["question"] == INDICATOR_QUESTION
    cited = turn.locator(".cards-cite .card").evaluate_all("cards => cards.map(c => c.dataset.pid)")
    assert set(cited) <= set(mine[0]["passage_ids"])
    # The recorded state survives a reload.
    page.reload()
    expect(page.locator("#turns > .turn .feedback-status").first).to_contain_text("已记录")


def test_markup_in_a_question_renders_inert(page: Page, probe: PageProbe) -> None:
    question = f"{HOSTILE}<script>window.__pwned = 1</script> PM2.5浓度目标是多少？"
    turn = ask(page, question, expect_status="")
    expect(turn.locator(".question-text")).to_have_text(question)
    page.wait_for_timeout(300)
    assert page.locator("#turns img, #turns script").count() == 0
    assert page.evaluate("window.__pwned === undefined")
    page.reload()
    expect(page.locator("#turns .question-text").last).to_have_text(question)
    assert page.locator("#turns img, #turns script").count() == 0
    assert probe.dialogs == []


def test_server_down_and_4xx_errors_are_shown_in_words(page: Page) -> None:
    page.route("**/api/ask/stream", lambda route: route.abort("connectionrefused"))
    turn = ask(page, INDICATOR_QUESTION, expect_status="error")
    expect(turn.locator(".error-box")).to_contain_text("无法连接服务器")
    page.unroute("**/api/ask/stream")
    # A real 4xx from the real server, worded by the same code path the page uses for every call.
    page.evaluate(
        "() => import('/static/api.js').then(m => m.getJSON('/api/passages/no-such-passage'))"
        ".catch(e => { window.__err = e.message; })"
    )
    message = page.evaluate("window.__err")
    assert message.startswith("未找到："), message
    assert "Traceback" not in message and "no-such-passage" in message
    # Retrying after the connection returns gives the answer.
    turn.locator(".error-box button").click()
    expect(turn).to_have_attribute("data-status", "done")
    expect(turn.locator(".answer-text")).to_contain_text("35")


def test_busy_server_is_retried_after_its_retry_after(page: Page) -> None:
    refused: list[float] = []

    def busy_once(route: Any) -> None:
        if refused:
            route.continue_()
            return
        refused.append(time.monotonic())
        route.fulfill(
            status=503,
            headers={"Retry-After": "1", "Content-Type": "application/json"},
            body='{"error": "busy", "detail": "the server is busy; retry shortly"}',
        )

    page.route("**/api/ask/stream", busy_once)
    turn = ask(page, INDICATOR_QUESTION)
    waited = time.monotonic() - refused[0]
    expect(turn.locator(".answer-text")).to_contain_text("35")
    assert waited >= 1.0, waited  # the second try came no sooner than the server asked
    page.unroute("**/api/ask/stream")


def test_a_server_that_stays_busy_is_reported_in_words(page: Page) -> None:
    tries: list[int] = []

    def always_busy(route: Any) -> None:
        tries.append(1)
        route.fulfill(
            status=503,
            headers={"Retry-After": "0", "Content-Type": "application/json"},
            body='{"error": "busy", "detail": "the server is busy; retry shortly"}',
        )

    page.route("**/api/ask/stream", always_busy)
    turn = ask(page, INDICATOR_QUESTION, expect_status="error")
    expect(turn.locator(".error-box")).to_contain_text("busy")
    assert len(tries) == 3  # the first try and two quiet retries, then the words
    page.unroute("**/api/ask/stream")


def test_a_503_without_retry_after_is_reported_at_once(page: Page) -> None:
    tries: list[int] = []

    def not_ready(route: Any) -> None:
        tries.append(1)
        route.fulfill(
            status=503,
            headers={"Content-Type": "application/json"},
            body='{"error": "not_ready", "detail": "the index is loading"}',
        )

    page.route("**/api/ask/stream", not_ready)
    turn = ask(page, INDICATOR_QUESTION, expect_status="error")
    expect(turn.locator(".error-box")).to_contain_text("the index is loading")
    assert len(tries) == 1  # no Retry-After: nothing says when to come back, so no quiet retry
    page.unroute("**/api/ask/stream")


def test_api_key_is_asked_once_and_kept_for_the_tab(
    browser: Any, keyed_server: LiveServer, probe: PageProbe
) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.on("dialog", lambda d: (probe.dialogs.append(d.message), d.dismiss()))
    try:
        page.goto(keyed_server.url + "/")
        dialog = page.locator("#key-dialog")
        expect(dialog).to_be_visible()
        page.locator("#key-input").fill("wrong-key")
        page.locator("#key-input").press("Enter")
        expect(page.locator("#key-reason")).to_contain_text("密钥无效")
        page.locator("#key-input").fill(keyed_server.api_key)
        page.locator("#key-input").press("Enter")
        expect(dialog).to_be_hidden()
        expect(page.locator("#county-picker")).to_be_enabled()
        turn = ask(page, INDICATOR_QUESTION)
        expect(turn.locator(".answer-text")).to_contain_text("35")
        page.reload()
        expect(page.locator("#county-picker")).to_be_enabled()
        expect(dialog).to_be_hidden()
        assert page.evaluate("sessionStorage.getItem('planqa.apiKey')") == keyed_server.api_key
        assert httpx.get(f"{keyed_server.url}/api/feedback", timeout=10).status_code == 401
        # The page's read key may post feedback but never list it: that needs an admin key.
        listing = httpx.get(f"{keyed_server.url}/api/feedback", headers=keyed_server.headers, timeout=10)
        assert listing.status_code == 401
        admin = httpx.get(f"{keyed_server.url}/api/feedback", headers=ADMIN_HEADERS, timeout=10)
        assert admin.status_code == 200
    finally:
        context.close()
    assert probe.dialogs == []


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (375, 812)])
def test_layout_and_screenshots(
    browser: Any, live_server: LiveServer, artifacts: Path, width: int, height: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(live_server.url + "/")
        expect(page.locator("#examples .example")).to_have_count(8)
        page.screenshot(path=str(artifacts / f"empty-{width}x{height}.png"))
        turn = ask(page, INDICATOR_QUESTION)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page scrolls sideways by {overflow}px at {width}px"
        font = page.evaluate("getComputedStyle(document.body).fontFamily")
        assert font.startswith('"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "WenQuanYi Micro Hei"')
        turn.scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts / f"answer-{width}x{height}.png"))
        turn.locator(".answer-text .marker").first.click()
        panel = page.locator("#source-panel")
        expect(panel.locator("mark.source-quote").first).to_be_in_viewport()
        box = panel.bounding_box()
        assert box is not None
        if width < 600:
            assert box["width"] >= width - 1, "on a phone the source opens as a full-width drawer"
            expect(page.locator("#panel-backdrop")).to_be_visible()
            for _ in range(4):  # the drawer is modal: Tab stays inside it
                page.keyboard.press("Tab")
                assert page.evaluate(
                    "document.getElementById('source-panel').contains(document.activeElement)"
                )
        else:
            assert box["x"] + box["width"] <= width + 1 and box["width"] < width / 2
            expect(turn.locator(".answer-text")).to_be_in_viewport()
        page.screenshot(path=str(artifacts / f"source-{width}x{height}.png"))
    finally:
        context.close()


def test_keyboard_reaches_composer_examples_and_cards(page: Page) -> None:
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#question")).to_be_focused()
    example = page.locator("#examples .example").first
    example.focus()
    page.keyboard.press("Enter")
    turn = page.locator("#turns > .turn").first
    expect(turn).to_have_attribute("data-status", "done")
    card = turn.locator(".card").first
    card.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#source-panel")).to_be_visible()
    expect(page.locator("#source-title")).to_be_focused()
