"""The edge over the real index and model: what used to be 500s, and the metrics of real answers."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from indexer.settings import Settings
from service.app import create_app
from service.protocol import uvicorn_options
from tests.edge import connect, read_response, request_bytes
from tests.live import serve

pytestmark = pytest.mark.slow
ADMIN = {"Authorization": "Bearer admin-9"}
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def url(index_settings: Settings, engine) -> Iterator[str]:  # type: ignore[no-untyped-def]
    settings = index_settings.model_copy(update={"admin_keys": "admin-9"})
    with serve(create_app(settings, engine=engine), **uvicorn_options(settings)) as base:
        yield base


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/ask", {"question": "\ud800abc"}),
        ("/api/ask", {"question": "PM2.5", "doc_ids": ["water-law\udfff"]}),
        ("/api/search", {"query": "油烟\udc00"}),
        ("/api/ask/stream", {"question": "\ud83d 三河市"}),
        ("/api/feedback", {"question": "\ud800", "answer": "a", "rating": "up"}),
        ("/api/feedback", {"question": "q", "answer": "a", "rating": "up", "comment": "x\ud800"}),
    ],
)
def test_lone_surrogates_are_422_and_the_connection_stays_open(url: str, path: str, body: dict) -> None:  # type: ignore[type-arg]
    sock = connect(url, timeout=30)
    # json.dumps escapes the surrogate as \\ud800, which is how it reaches a server.
    sock.sendall(request_bytes("POST", path, json.dumps(body).encode(), JSON))
    status, headers, raw = read_response(sock)
    assert status == 422, raw
    err = json.loads(raw)
    assert err["error"] == "validation_error" and ("surrogate" in err["detail"] or "unicode" in err["detail"])
    assert headers.get("connection") != "close"
    # The same connection answers the next request.
    good = json.dumps({"question": "2025年PM2.5浓度目标是多少？"}).encode()
    sock.sendall(request_bytes("POST", "/api/ask", good, JSON))
    status, _, raw = read_response(sock)
    assert status == 200 and "35" in json.loads(raw)["answer"]
    sock.close()


def test_huge_feedback_offset_is_422(url: str) -> None:
    r = httpx.get(f"{url}/api/feedback", params={"offset": 10**20}, headers=ADMIN)
    assert r.status_code == 422 and "offset" in r.json()["detail"]
    assert httpx.get(f"{url}/api/feedback", params={"offset": 10**9}, headers=ADMIN).json()["items"] == []


def test_metrics_report_the_index_and_abstentions(url: str) -> None:
    def answers() -> dict[str, float]:
        out = {}
        for family in text_string_to_metric_families(httpx.get(f"{url}/metrics").text):
            for s in family.samples:
                if s.name == "planqa_answers_total":
                    out[s.labels["abstained"]] = s.value
                if s.name == "planqa_index_passages":
                    out["passages"] = s.value
        return out

    before = answers()
    asked = [
        httpx.post(f"{url}/api/ask", json={"question": q}, timeout=30).json()
        for q in ("2025年PM2.5浓度目标是多少？", "廊坊市的地铁票价是多少钱？")
    ]
    after = answers()
    assert after["passages"] > 2000
    abstained = sum(1 for a in asked if a["abstained"])
    assert after.get("true", 0) - before.get("true", 0) == abstained
    assert after.get("false", 0) - before.get("false", 0) == len(asked) - abstained
    assert not asked[0]["abstained"]
