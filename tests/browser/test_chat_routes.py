"""Fast checks of the chat routes (no browser): the page's files, SSE framing and error events.

The engine here is a stand-in that returns a fixed, schema-valid payload: these tests are about
how service/chat.py frames and reports what the engine gives it, not about answer quality.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from indexer.errors import InvalidRequest
from indexer.settings import Settings
from service.app import create_app
from service.chat import STATIC_DIR, answer_chunks

ANSWER = (
    "到2025年，廊坊市建成区细颗粒物浓度目标为35微克/立方米[1]。"
    "该指标为约束性指标[1]；优良天数比率目标为74%[2]。"
)
CITATION = {
    "n": 1,
    "passage_id": "langfang-eco-plan:0040",
    "doc_id": "langfang-eco-plan",
    "doc_title": "廊坊市“十四五”生态环境保护规划",
    "section": "二、锚定目标 > （三）主要目标",
    "text": "廊坊市建成区细颗粒物（PM2.5）浓度（微克/立方米） 42 35 约束性",
    "quote": "廊坊市建成区细颗粒物（PM2.5）浓度（微克/立方米） 42 35 约束性",
    "score": 0.9,
}


class StubEngine:
    def __init__(self, fail: BaseException | None = None) -> None:
        self.manifest: dict[str, object] = {"passages": 1}
        self.fail = fail
        self.calls: list[tuple[str, int, Any]] = []

    def ask_payload(self, question: str, top_k: int = 5, doc_ids: list[str] | None = None) -> dict[str, Any]:
        self.calls.append((question, top_k, doc_ids))
        if self.fail:
            raise self.fail
        return {
            "question": question,
            "answer": ANSWER,
            "abstained": False,
            "citations": [CITATION, {**CITATION, "n": 2, "passage_id": "langfang-eco-plan:0041"}],
            "related": [],
            "targets": [],
            "took_ms": 3.5,
            "county": None,
            "zone": None,
            "sector": None,
        }


def parse_sse(body: str) -> list[tuple[str, Any]]:
    events = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        lines = [ln for ln in block.split("\n") if ln and not ln.startswith(":")]
        if not lines:
            continue
        name = next(ln[6:].strip() for ln in lines if ln.startswith("event:"))
        data = "\n".join(ln[5:].strip() for ln in lines if ln.startswith("data:"))
        events.append((name, json.loads(data)))
    return events


def client_for(tmp_path: Path, engine: StubEngine, api_keys: str = "") -> TestClient:
    return TestClient(create_app(Settings(data_dir=tmp_path, api_keys=api_keys), engine=engine))


def test_answer_chunks_rejoin_and_keep_markers_whole() -> None:
    chunks = answer_chunks(ANSWER)
    assert "".join(chunks) == ANSWER
    assert 2 <= len(chunks) <= 4
    for c in chunks:
        assert c.count("[") == c.count("]")
    assert answer_chunks("") == [""]
    assert answer_chunks("没有句号的一句话") == ["没有句号的一句话"]


def test_stream_sends_citations_then_answer_then_done(tmp_path: Path) -> None:
    engine = StubEngine()
    with client_for(tmp_path, engine) as client:
        res = client.post("/api/ask/stream", json={"question": "  PM2.5浓度目标是多少？ ", "top_k": 3})
    assert res.status_code == 200
    assert res.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(res.text)
    names = [e for e, _ in events]
    assert names[0] == "citations" and names[-1] == "done"
    assert set(names[1:-1]) == {"answer"} and len(names) >= 3
    head = events[0][1]
    assert "answer" not in head and [c["n"] for c in head["citations"]] == [1, 2]
    assert head["abstained"] is False
    done = events[-1][1]
    assert "".join(d["text"] for e, d in events if e == "answer") == done["answer"] == ANSWER
    assert engine.calls == [("PM2.5浓度目标是多少？", 3, None)]


def test_stream_rejects_bad_body_with_422_words(tmp_path: Path) -> None:
    engine = StubEngine()
    with client_for(tmp_path, engine) as client:
        empty = client.post("/api/ask/stream", json={"question": "   "})
        too_many = client.post("/api/ask/stream", json={"question": "q", "top_k": 99})
    assert empty.status_code == 422 and "question" in empty.json()["detail"]
    assert too_many.status_code == 422 and "top_k" in too_many.json()["detail"]
    assert engine.calls == []


@pytest.mark.parametrize(
    ("exc", "code", "words"),
    [
        (InvalidRequest("unknown doc id 'nope'", allowed=["langfang-eco-plan"]), "invalid_request", "nope"),
        (RuntimeError("secret internals at line 42"), "internal", "服务器内部错误"),
    ],
)
def test_stream_reports_engine_failures_as_error_events(
    tmp_path: Path, exc: BaseException, code: str, words: str
) -> None:
    with client_for(tmp_path, StubEngine(fail=exc)) as client:
        res = client.post("/api/ask/stream", json={"question": "q", "doc_ids": ["nope"]})
    events = parse_sse(res.text)
    assert [e for e, _ in events] == ["error"]
    body = events[0][1]
    assert body["error"] == code and words in body["detail"]
    assert body["request_id"] == res.headers["x-request-id"]
    assert "line 42" not in res.text and "Traceback" not in res.text
    if isinstance(exc, InvalidRequest):
        assert body["allowed"] == ["langfang-eco-plan"]


def test_stream_needs_the_key_when_keys_are_configured(tmp_path: Path) -> None:
    with client_for(tmp_path, StubEngine(), api_keys="k") as client:
        assert client.post("/api/ask/stream", json={"question": "q"}).status_code == 401
        ok = client.post("/api/ask/stream", json={"question": "q"}, headers={"Authorization": "Bearer k"})
        assert ok.status_code == 200 and parse_sse(ok.text)[-1][0] == "done"
        # The page itself stays public: it is what asks for the key.
        assert client.get("/").status_code == 200


def test_page_and_static_files(tmp_path: Path) -> None:
    with client_for(tmp_path, StubEngine()) as client:
        page = client.get("/")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert '<html lang="zh-CN">' in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
        for name in re.findall(r'(?:href|src)="/static/([^"]+)"', page.text):
            res = client.get(f"/static/{name}")
            assert res.status_code == 200, name
        js = client.get("/static/app.js")
        assert js.headers["content-type"].startswith("text/javascript")
        for bad in ("chat.py", "..%2Fchat.py", "missing.js", ".hidden.js"):
            assert client.get(f"/static/{bad}").status_code == 404, bad


def test_static_scripts_never_insert_markup() -> None:
    """Server text must only ever become text nodes; no API in the page parses strings as HTML."""
    scripts = sorted(STATIC_DIR.glob("*.js"))
    assert scripts
    forbidden = re.compile(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function")
    for path in scripts:
        hits = forbidden.findall(path.read_text(encoding="utf-8"))
        assert hits == [], f"{path.name} uses {hits}"
