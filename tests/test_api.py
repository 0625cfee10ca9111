"""Every endpoint and every error over real HTTP, against the real index and model."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from indexer.settings import Settings
from service.app import create_app
from tests.live import serve, wait_settled

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def url(index_settings: Settings, engine) -> Iterator[str]:  # type: ignore[no-untyped-def]
    with serve(create_app(index_settings, engine=engine)) as base:
        yield base


@pytest.fixture(scope="module")
def keyed_url(index_settings: Settings, engine) -> Iterator[str]:  # type: ignore[no-untyped-def]
    settings = index_settings.model_copy(update={"api_keys": "k-alpha,k-beta"})
    with serve(create_app(settings, engine=engine)) as base:
        yield base


def test_health_ready_docs(url: str) -> None:
    assert httpx.get(f"{url}/healthz").json()["status"] == "ok"
    ready = httpx.get(f"{url}/readyz").json()
    assert ready["status"] == "ready" and ready["passages"] > 2000
    assert httpx.get(f"{url}/docs").status_code == 200
    assert "/api/ask" in httpx.get(f"{url}/openapi.json").json()["paths"]


def test_readyz_reports_why_not_ready(index_settings: Settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    broken = index_settings.model_copy(update={"corpus_dir": tmp_path})
    with serve(create_app(broken)) as base:
        r = wait_settled(base)
        assert r.status_code == 503 and "manifest" in r.json()["detail"]
        assert r.json()["status"] == "unavailable"
        r = httpx.post(f"{base}/api/ask", json={"question": "PM2.5"})
        assert r.status_code == 503 and r.json()["error"] == "not_ready"


def test_ask_shape(url: str) -> None:
    r = httpx.post(
        f"{url}/api/ask", json={"question": "  2025年PM2.5浓度目标是多少？ ", "top_k": 3}, timeout=30
    )
    assert r.status_code == 200
    body = r.json()
    assert body["question"] == "2025年PM2.5浓度目标是多少？"
    assert set(body) >= {"question", "answer", "abstained", "citations", "related", "targets", "took_ms"}
    assert len(body["citations"]) >= 3
    first = body["citations"][0]
    assert set(first) >= {"n", "passage_id", "doc_id", "doc_title", "section", "text", "quote", "score"}
    assert [c["n"] for c in body["citations"]] == list(range(1, len(body["citations"]) + 1))
    for c in body["citations"]:
        assert c["quote"] in c["text"]


def test_ask_respects_doc_ids(url: str) -> None:
    r = httpx.post(
        f"{url}/api/ask",
        json={"question": "排污许可证有效期", "doc_ids": ["pollutant-discharge-permit-regulations"]},
        timeout=30,
    )
    assert r.status_code == 200
    assert {c["doc_id"] for c in r.json()["citations"]} == {"pollutant-discharge-permit-regulations"}


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"question": ""}, "question"),
        ({"question": "   "}, "empty"),
        ({"question": "问" * 501}, "501"),
        ({"question": "PM2.5", "top_k": 0}, "top_k"),
        ({"question": "PM2.5", "top_k": 21}, "top_k"),
        ({"question": 42}, "question"),
        ({}, "question"),
    ],
)
def test_ask_validation(url: str, body: dict, fragment: str) -> None:  # type: ignore[type-arg]
    r = httpx.post(f"{url}/api/ask", json=body)
    assert r.status_code == 422
    assert fragment in r.json()["detail"]


def test_unknown_doc_ids_listed(url: str) -> None:
    r = httpx.post(f"{url}/api/ask", json={"question": "PM2.5", "doc_ids": ["nope"]})
    assert r.status_code == 422
    assert "nope" in r.json()["detail"] and "water-law" in r.json()["allowed"]


def test_malformed_json(url: str) -> None:
    r = httpx.post(f"{url}/api/ask", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["request_id"]


def test_search_modes_and_errors(url: str) -> None:
    for mode in ("hybrid", "bm25", "dense"):
        r = httpx.post(f"{url}/api/search", json={"query": "餐饮油烟", "top_k": 4, "mode": mode}, timeout=30)
        assert r.status_code == 200
        results = r.json()["results"]
        assert len(results) == 4 and results[0]["section"] and results[0]["text"]
    bad = httpx.post(f"{url}/api/search", json={"query": "油烟", "mode": "magic"})
    assert bad.status_code == 422 and "hybrid" in bad.json()["detail"]


def test_targets_by_county_zone_sector(url: str) -> None:
    r = httpx.get(f"{url}/api/targets", params={"county": "三河"})
    assert r.status_code == 200
    body = r.json()
    assert body["county"] == "三河市" and body["zone"] == "北部协同发展区"
    kinds = {t["scope_kind"] for t in body["targets"]}
    assert {"city", "county"} <= kinds
    assert any("京B" in t["quote"] for t in body["targets"])
    binding = httpx.get(f"{url}/api/targets", params={"county": "大城县", "attribute": "约束性"}).json()
    assert binding["targets"] and all(t["attribute"] == "约束性" for t in binding["targets"])
    sector = httpx.get(f"{url}/api/targets", params={"sector": "畜禽养殖"}).json()
    assert any("粪污" in t["what"] or "粪污" in t["quote"] for t in sector["targets"])


def test_targets_unknown_names_404(url: str) -> None:
    r = httpx.get(f"{url}/api/targets", params={"county": "三合市"})
    assert r.status_code == 404
    assert "三河市" in r.json()["allowed"]
    r = httpx.get(f"{url}/api/targets", params={"sector": "航天"})
    assert r.status_code == 404 and r.json()["allowed"]
    r = httpx.get(f"{url}/api/targets", params={"attribute": "随便"})
    assert r.status_code == 422


def test_documents_and_passages(url: str) -> None:
    docs = httpx.get(f"{url}/api/documents").json()["documents"]
    assert len(docs) == 27 and {"id", "title", "kind", "issuer", "version_date"} <= set(docs[0])
    plan = httpx.get(f"{url}/api/documents/langfang-eco-plan").json()
    assert sum(1 for h in plan["headings"] if h["level"] == 1) == 11
    assert httpx.get(f"{url}/api/documents/nope").status_code == 404
    p = httpx.get(f"{url}/api/passages/air-pollution-prevention-law:a24").json()
    assert p["passage"]["section"].endswith("第二十四条")
    assert p["doc_title"] == "中华人民共和国大气污染防治法" and p["version_date"] == "2018-10-26"
    assert p["neighbours"]["before"] and p["neighbours"]["after"]
    missing = httpx.get(f"{url}/api/passages/nope:1")
    assert missing.status_code == 404 and "nope:1" in missing.json()["detail"]


def test_vocab(url: str) -> None:
    v = httpx.get(f"{url}/api/vocab").json()
    assert len(v["counties"]) == 11 and set(v["zones"]["北部协同发展区"]) == {
        "三河市",
        "大厂回族自治县",
        "香河县",
    }


def test_api_keys(keyed_url: str) -> None:
    assert httpx.get(f"{keyed_url}/healthz").status_code == 200
    assert httpx.get(f"{keyed_url}/readyz").status_code == 200
    assert httpx.get(f"{keyed_url}/").status_code == 200
    r = httpx.get(f"{keyed_url}/api/documents")
    assert r.status_code == 401 and "Bearer" in r.json()["detail"]
    bad = httpx.get(f"{keyed_url}/api/documents", headers={"Authorization": "Bearer wrong"})
    assert bad.status_code == 401
    for key in ("k-alpha", "k-beta"):
        ok = httpx.get(f"{keyed_url}/api/documents", headers={"Authorization": f"Bearer {key}"})
        assert ok.status_code == 200
    ask = httpx.post(
        f"{keyed_url}/api/ask",
        json={"question": "中水利用率"},
        headers={"Authorization": "Bearer k-beta"},
        timeout=30,
    )
    assert ask.status_code == 200


def test_request_id_and_cors_off(url: str) -> None:
    r = httpx.get(f"{url}/api/documents", headers={"Origin": "http://evil.example", "X-Request-ID": "abc123"})
    assert r.headers["x-request-id"] == "abc123"
    assert "access-control-allow-origin" not in r.headers


def test_cors_when_configured(index_settings: Settings, engine) -> None:  # type: ignore[no-untyped-def]
    settings = index_settings.model_copy(update={"cors_origins": "http://portal.example"})
    with serve(create_app(settings, engine=engine)) as base:
        r = httpx.get(f"{base}/api/documents", headers={"Origin": "http://portal.example"})
        assert r.headers["access-control-allow-origin"] == "http://portal.example"


@pytest.mark.parametrize("log_questions", [True, False])
def test_access_log_and_question_privacy(index_settings: Settings, engine, log_questions: bool) -> None:  # type: ignore[no-untyped-def]
    import io
    import json

    from service.logs import configure_logging

    settings = index_settings.model_copy(update={"log_questions": log_questions})
    secret = "机密问题：中水利用率要达到多少"
    stream = io.StringIO()
    with serve(create_app(settings, engine=engine)) as base:
        configure_logging(settings, stream=stream)  # start-up sent the lines to stderr
        assert httpx.post(f"{base}/api/ask", json={"question": secret}, timeout=30).status_code == 200
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    line = next(r for r in records if r["logger"] == "planqa.access" and r["path"] == "/api/ask")
    assert line["method"] == "POST" and line["status"] == 200 and line["ms"] >= 0 and line["request_id"]
    assert (secret in stream.getvalue()) is log_questions
