"""The chat page's admin view in the system Chromium: key, upload, cited answer, replace, removal.

The server runs over a copy of the session index, so the upload's rebuild embeds only the new
passages and the other browser tests keep their unchanged corpus.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

# Fixture types live in conftest.py; pytest cannot import it as a module, so `Any` stands in.
LiveServer = Any
pytestmark = [pytest.mark.browser, pytest.mark.slow]

ADMIN_KEY = "browser-admin-key-3c9a"  # conftest.TEST_ADMIN_KEY, the servers' PLANQA_ADMIN_KEYS
DOC_ID = "wetland-birds"
TITLE = "廊坊市潮白河湿地候鸟保护工作方案"
SECTION = "二、保护措施 > （一）候鸟保护期管控"
DOC_MD = f"""# {TITLE}

为保护潮白河湿地越冬和迁徙候鸟，制定本方案。

## 一、保护范围

大厂回族自治县境内潮白河湿地核心区及其外围五百米缓冲带。

## 二、保护措施

### （一）候鸟保护期管控

每年三月一日至五月十日为潮白河湿地候鸟保护期，保护期内禁止在湿地核心区放飞无人机和燃放烟花爆竹。

### （二）巡护

湿地巡护员每日巡查两次，发现捕猎候鸟的行为立即报告县林业部门。
"""
QUESTION = "潮白河湿地候鸟保护期内禁止做什么？"
OLD_PERIOD, NEW_PERIOD = "三月一日至五月十日", "三月十五日至五月三十一日"


@pytest.fixture
def admin_page(browser: Any, admin_server: LiveServer) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("dialog", lambda d: errors.append(f"unexpected {d.type}: {d.message}"))
    pg.goto(admin_server.url + "/")
    yield pg
    context.close()
    assert errors == [], errors


def enter_key(page: Page, key: str) -> None:
    page.locator("#admin-toggle").click()
    expect(page.locator("#admin-view")).to_be_visible()
    page.locator("#admin-key-input").fill(key)
    page.locator("#admin-key-form button[type=submit]").click()


def stored_keys(page: Page) -> dict[str, Any]:
    return page.evaluate(
        "() => ({session: sessionStorage.getItem('planqa.adminKey'),"
        " local: JSON.stringify(localStorage), cookie: document.cookie})"
    )


def served(url: str, query: str) -> list[dict[str, Any]]:
    r = httpx.post(f"{url}/api/search", json={"query": query, "top_k": 20}, timeout=30)
    assert r.status_code == 200, r.text
    hits: list[dict[str, Any]] = r.json()["results"]
    return hits


def served_docs(url: str, query: str) -> set[str]:
    return {hit["doc_id"] for hit in served(url, query)}


def served_text(url: str, query: str) -> str:
    return "\n".join(hit["text"] for hit in served(url, query))


def cited_card(page: Page, question: str) -> Any:
    """Asks on the page; the citation card of the uploaded document in the finished answer."""
    page.locator("#question").fill(question)
    page.locator("#question").press("Enter")
    turn = page.locator("#turns > .turn").last
    expect(turn).to_have_attribute("data-status", "done")
    return turn.locator(".cards-cite .card", has_text=TITLE).first


def test_wrong_key_is_refused_in_words(admin_page: Page) -> None:
    enter_key(admin_page, "not-the-key")
    expect(admin_page.locator("#admin-error")).to_have_text("管理员密钥无效，请重新输入。")
    expect(admin_page.locator("#admin-manage")).to_be_hidden()
    expect(admin_page.locator("#admin-key-form")).to_be_visible()
    assert stored_keys(admin_page)["session"] is None


def test_upload_ask_cite_replace_remove(admin_page: Page, admin_server: LiveServer, tmp_path: Path) -> None:
    page = admin_page
    enter_key(page, ADMIN_KEY)
    expect(page.locator("#admin-manage")).to_be_visible()
    keys = stored_keys(page)
    assert keys["session"] == ADMIN_KEY
    assert ADMIN_KEY not in keys["local"] and ADMIN_KEY not in keys["cookie"]
    assert ADMIN_KEY not in page.content()  # the field is cleared once the key is accepted
    # The shipped corpus is listed (the seed of the data directory) before anything is uploaded.
    expect(page.locator("#doc-rows tr[data-doc-id='water-law']")).to_be_visible()

    # An API refusal is shown in words: an empty file is a 422 from the store.
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    page.locator("#upload-file").set_input_files(str(empty))
    page.locator("#upload-button").click()
    expect(page.locator("#admin-error")).to_contain_text("输入不符合要求")

    doc = tmp_path / f"{DOC_ID}.md"
    doc.write_text(DOC_MD, encoding="utf-8")
    page.locator("#upload-file").set_input_files(str(doc))
    page.locator("#upload-kind").select_option("plan")
    started = time.monotonic()
    page.locator("#upload-button").click()
    expect(page.locator("#admin-error")).to_be_hidden()
    expect(page.locator("#admin-status")).to_contain_text(DOC_ID)
    row = page.locator(f"#doc-rows tr[data-doc-id='{DOC_ID}']")
    expect(row).to_be_visible()
    # The list refreshes by itself while indexing; the rebuild embeds only the new passages.
    expect(row.locator(".doc-status")).to_have_attribute("data-status", "ready", timeout=300_000)
    print(f"upload to ready: {time.monotonic() - started:.1f}s")
    expect(row.locator(".doc-title")).to_contain_text(TITLE)
    expect(row.locator(".doc-tier")).to_have_text("核心")  # the tier left at its default

    card = cited_card(page, QUESTION)
    expect(card.locator(".card-doc")).to_have_text(TITLE)
    expect(card.locator(".card-section")).to_have_text(SECTION)
    expect(card.locator(".card-text")).to_contain_text("放飞无人机")

    # Replace: a new version with another protection period is cited instead of the old one.
    v2 = tmp_path / f"{DOC_ID}-v2.md"
    v2.write_text(DOC_MD.replace(OLD_PERIOD, NEW_PERIOD), encoding="utf-8")
    with page.expect_file_chooser() as chooser:
        row.locator(".doc-replace").click()
    chooser.value.set_files(str(v2))
    expect(page.locator("#admin-status")).to_contain_text("第 2 版")
    expect(row.locator("td").nth(3)).to_have_text("2")
    expect(row.locator(".doc-status")).to_have_attribute("data-status", "ready", timeout=300_000)
    deadline = time.monotonic() + 180
    while NEW_PERIOD not in served_text(admin_server.url, "潮白河湿地 候鸟保护期"):
        assert time.monotonic() < deadline, "the new version is not served"
        time.sleep(1)
    card = cited_card(page, QUESTION)
    expect(card.locator(".card-text")).to_contain_text(NEW_PERIOD)
    expect(card.locator(".card-text")).not_to_contain_text(OLD_PERIOD)
    assert OLD_PERIOD not in served_text(admin_server.url, "潮白河湿地 候鸟保护期")

    remove = row.locator(".doc-remove")
    remove.click()
    expect(remove).to_have_text("确认删除？")
    assert DOC_ID in served_docs(admin_server.url, "潮白河湿地 候鸟保护期 无人机")  # not yet removed
    remove.click()
    expect(row).to_have_count(0)
    expect(page.locator("#admin-status")).to_contain_text("已删除")
    # Gone from the list at once; gone from answers once the rebuilt index is swapped in.
    deadline = time.monotonic() + 180
    while DOC_ID in served_docs(admin_server.url, "潮白河湿地 候鸟保护期 无人机"):
        assert time.monotonic() < deadline, "the removed document is still served"
        time.sleep(1)
    page.reload()
    page.locator("#admin-toggle").click()  # the key is still in this tab's sessionStorage
    expect(page.locator("#admin-manage")).to_be_visible()
    expect(page.locator("#doc-rows tr[data-doc-id='water-law']")).to_be_visible()
    expect(page.locator(f"#doc-rows tr[data-doc-id='{DOC_ID}']")).to_have_count(0)


def test_an_upload_can_join_the_reference_tier(
    admin_page: Page, admin_server: LiveServer, tmp_path: Path
) -> None:
    page = admin_page
    enter_key(page, ADMIN_KEY)
    doc = tmp_path / "reference-note.md"
    doc.write_text(
        "# 湿地巡护参考资料\n\n## 一、巡护\n\n巡护人员每周记录一次芦苇长势和鸟类数量。\n", encoding="utf-8"
    )
    page.locator("#upload-file").set_input_files(str(doc))
    page.locator("#upload-tier").select_option("reference")
    page.locator("#upload-button").click()
    expect(page.locator("#admin-status")).to_contain_text("reference-note")
    row = page.locator("#doc-rows tr[data-doc-id='reference-note']")
    expect(row.locator(".doc-tier")).to_have_text("参考")
    listed = httpx.get(
        f"{admin_server.url}/api/documents", headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=30
    ).json()["documents"]
    assert {d["id"]: d["tier"] for d in listed}["reference-note"] == "reference"
    expect(row.locator(".doc-status")).to_have_attribute("data-status", "ready", timeout=300_000)
    row.locator(".doc-remove").click()
    row.locator(".doc-remove").click()
    expect(row).to_have_count(0)
