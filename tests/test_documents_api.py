"""POST / PUT / DELETE /api/documents over real HTTP with the real model and index, and each 4xx."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import docs_factory as f
import httpx
import pytest

from indexer.settings import REPO_ROOT, Settings
from service.app import create_app
from tests.live import serve

pytestmark = pytest.mark.slow
ADMIN = {"Authorization": "Bearer adm-1"}


@pytest.fixture(scope="module")
def settings(index_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data = tmp_path_factory.mktemp("api-data")
    shutil.copytree(index_settings.data_dir / "cache", data / "cache")
    shutil.copytree(index_settings.resolved_index_dir, data / "index")
    return Settings(
        corpus_dir=REPO_ROOT / "corpus",
        data_dir=data,
        model_cache_dir=index_settings.resolved_model_cache,
        admin_keys="adm-1",
        max_upload_bytes=400_000,
    )


@pytest.fixture(scope="module")
def url(settings: Settings) -> Iterator[str]:
    with serve(create_app(settings), timeout=120) as base:
        deadline = time.monotonic() + 120
        while httpx.get(f"{base}/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.5)
        yield base


def _status(url: str, doc_id: str) -> dict | None:  # type: ignore[type-arg]
    docs = httpx.get(f"{url}/api/documents").json()["documents"]
    return next((d for d in docs if d["id"] == doc_id), None)


def _wait_ready(url: str, doc_id: str) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        d = _status(url, doc_id)
        assert d is not None
        if d["status"] != "indexing":
            assert d["status"] == "ready", d
            return d
        time.sleep(0.5)
    raise AssertionError(f"{doc_id} still indexing")


def _served_search(url: str, query: str) -> set[str]:
    """Documents the running service returns for ``query``, over HTTP."""
    r = httpx.post(f"{url}/api/search", json={"query": query, "top_k": 20, "mode": "hybrid"}, timeout=30)
    assert r.status_code == 200, r.text
    return {hit["doc_id"] for hit in r.json()["results"]}


def test_upload_replace_delete(url: str, tmp_path: Path) -> None:
    pdf = f.make_pdf(tmp_path / "straw-plan.pdf")
    r = httpx.post(f"{url}/api/documents", headers=ADMIN, files={"file": (pdf.name, pdf.read_bytes())})
    assert r.status_code == 201, r.text
    doc_id = r.json()["id"]
    assert doc_id == "straw-plan" and r.json()["status"] == "indexing"
    d = _wait_ready(url, doc_id)
    assert (d["title"], d["kind"], d["format"], d["version"]) == (f.PLAN_TITLE, "plan", "pdf", 1)
    assert d["passages"] == 8
    # The running service answers from the uploaded document at once, citing its heading path.
    r = httpx.post(f"{url}/api/ask", json={"question": "永清县每年秸秆还田面积不少于多少？"}, timeout=60)
    cited = [c for c in r.json()["citations"] if c["doc_id"] == doc_id]
    assert cited, r.json()
    assert cited[0]["section"] == "二、重点任务 > （一）推进秸秆肥料化利用 > 1.推广秸秆还田"
    assert cited[0]["doc_title"] == f.PLAN_TITLE and "20万亩" in cited[0]["text"]

    docx = f.make_docx(tmp_path / "dust.docx")
    r = httpx.put(
        f"{url}/api/documents/{doc_id}",
        headers=ADMIN,
        files={"file": (docx.name, docx.read_bytes())},
        data={"title": "扬尘办法（替换）"},
    )
    assert r.status_code == 200 and r.json()["version"] == 2, r.text
    d = _wait_ready(url, doc_id)
    assert d["title"] == "扬尘办法（替换）" and d["format"] == "docx" and d["passages"] == 5
    found = httpx.post(f"{url}/api/search", json={"query": "硬质围挡", "top_k": 5}, timeout=30).json()[
        "results"
    ]
    assert found[0]["doc_id"] == doc_id and found[0]["section"] == "第二章 防治措施 > 第三条"
    # The replaced version is gone: nothing of the straw plan is found any more.
    assert doc_id not in _served_search(url, "秸秆深翻还田试点 永清县")

    r = httpx.delete(f"{url}/api/documents/{doc_id}", headers=ADMIN)
    assert r.status_code == 200
    assert _status(url, doc_id) is None
    # No status is left to poll once a document is gone: wait for the swap, then search.
    deadline = time.monotonic() + 180
    while doc_id in _served_search(url, "硬质围挡 扬尘 施工工地"):
        assert time.monotonic() < deadline, "the removed document is still served"
        time.sleep(1)
    for query in ("硬质围挡", "施工单位应当遵守下列规定", "防尘网"):
        assert doc_id not in _served_search(url, query)
    assert httpx.get(f"{url}/api/passages/{doc_id}:a3").status_code == 404


def test_errors_are_clear_4xx(url: str, tmp_path: Path) -> None:
    md = f.make_md(tmp_path / "ozone.md").read_bytes()
    r = httpx.post(f"{url}/api/documents", files={"file": ("ozone.md", md)})
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"
    cases = [
        (("t.xlsx", b"PK\x03\x04"), 415, "unsupported file type"),
        (("empty.txt", b""), 422, "empty"),
        (("scan.pdf", f.make_pdf(tmp_path / "s.pdf", text=False).read_bytes()), 422, "no text layer"),
        # The HTTP edge refuses an over-size body before the store sees it.
        (("big.txt", "环境保护。".encode() * 30_000), 413, "larger than 400000 bytes"),
        (("ru.txt", "Статья 1. Закон об охране окружающей среды.".encode()), 422, "neither Chinese"),
        (("water.md", (REPO_ROOT / "corpus/laws/water-law.md").read_bytes()), 409, "water-law"),
    ]
    for upload, status, words in cases:
        r = httpx.post(f"{url}/api/documents", headers=ADMIN, files={"file": upload})
        body = r.json()
        assert r.status_code == status, (upload[0], r.text)
        assert words in body["detail"] and body["request_id"], upload[0]
    r = httpx.post(
        f"{url}/api/documents", headers=ADMIN, files={"file": ("ozone.md", md)}, data={"tier": "archive"}
    )
    assert r.status_code == 422 and "unknown document tier" in r.json()["detail"], r.text
    assert _status(url, "ozone") is None
    assert httpx.delete(f"{url}/api/documents/nope", headers=ADMIN).status_code == 404
    assert httpx.post(f"{url}/api/documents", headers=ADMIN).status_code == 422
