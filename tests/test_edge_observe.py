"""Request ids, security headers, 405s, keep-alive after errors, JSON logs, metrics, OpenAPI, /docs."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from indexer.settings import REPO_ROOT, Settings
from service import logs
from service.chat import STATIC_DIR
from tests.edge import StubEngine, connect, read_response, request_bytes, stub_server


def test_request_id_is_kept_only_when_short_and_safe(tmp_path: Path) -> None:
    with stub_server(tmp_path) as url:
        ok = httpx.get(f"{url}/healthz", headers={"X-Request-ID": "Trace-42.a_b"})
        assert ok.headers["x-request-id"] == "Trace-42.a_b"
        for bad in ("x" * 65, "a b", "<script>", "id\\n2", "x" * 5000):
            r = httpx.get(f"{url}/api/documents/nope", headers={"X-Request-ID": bad})
            rid = r.headers["x-request-id"]
            assert rid != bad and re.fullmatch(r"[0-9a-f]{16}", rid)
            assert r.json()["request_id"] == rid
        fresh = httpx.get(f"{url}/healthz").headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{16}", fresh)


def test_security_headers_on_api_and_page(tmp_path: Path) -> None:
    with stub_server(tmp_path) as url:
        for path in ("/api/documents", "/api/documents/nope", "/healthz"):
            h = httpx.get(f"{url}{path}").headers
            assert h["x-content-type-options"] == "nosniff"
            assert h["referrer-policy"] == "no-referrer"
            assert "frame-ancestors 'none'" in h["content-security-policy"]
        page = httpx.get(f"{url}/")
        csp = page.headers["content-security-policy"]
        script_src = next(p for p in csp.split(";") if p.strip().startswith("script-src"))
        assert "'self'" in script_src and "unsafe" not in script_src
        assert "frame-ancestors 'none'" in csp and page.headers["x-content-type-options"] == "nosniff"
        # CORS stays off unless origins are configured.
        cross = httpx.get(f"{url}/api/documents", headers={"Origin": "http://elsewhere.example"})
        assert "access-control-allow-origin" not in cross.headers


def test_page_has_no_inline_script_or_style() -> None:
    html = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script> would be blocked by the CSP"
    assert "<style" not in html and " style=" not in html and not re.search(r"\son[a-z]+=", html)


def test_405_names_every_allowed_method(tmp_path: Path) -> None:
    with stub_server(tmp_path) as url:
        r = httpx.delete(f"{url}/api/feedback")
        assert r.status_code == 405
        assert {"GET", "POST"} <= {m.strip() for m in r.headers["allow"].split(",")}
        assert r.json()["error"] == "method_not_allowed" and "GET" in r.json()["allowed"]
        assert "POST" in httpx.get(f"{url}/api/ask").headers["allow"]


def test_keep_alive_survives_error_responses(tmp_path: Path) -> None:
    with stub_server(tmp_path, max_body_bytes=10_000) as url:
        sock = connect(url)
        json_type = {"Content-Type": "application/json"}
        for req, expected in [
            (request_bytes("POST", "/api/ask", b"{not json", json_type), 422),
            (request_bytes("POST", "/api/ask", b'{"question": "\\ud800abc"}', json_type), 422),
            (request_bytes("GET", "/api/feedback?offset=100000000000000000000"), 403),
            (request_bytes("GET", "/api/documents/nope"), 404),
            (request_bytes("PUT", "/api/ask", b"{}"), 405),
            (request_bytes("GET", "/healthz"), 200),
        ]:
            sock.sendall(req)
            status, headers, _ = read_response(sock)
            assert status == expected and headers.get("connection") != "close"
        sock.close()


def test_access_log_lines_are_json_with_key_hash_and_no_question(tmp_path: Path) -> None:
    secret = "机密问题：中水利用率要达到多少"
    for log_questions in (False, True):
        stream = io.StringIO()
        settings = {"api_keys": "enterprise-key-1", "log_questions": log_questions}
        with stub_server(tmp_path, **settings) as url:
            logs.configure_logging(Settings(), stream=stream)  # after start-up configured stderr
            headers = {"Authorization": "Bearer enterprise-key-1", "X-Request-ID": "req-7"}
            assert httpx.post(f"{url}/api/ask", json={"question": secret}, headers=headers).status_code == 200
        lines = [json.loads(line) for line in stream.getvalue().splitlines()]
        access = next(x for x in lines if x["logger"] == "planqa.access" and x["path"] == "/api/ask")
        assert access["method"] == "POST" and access["status"] == 200 and access["ms"] >= 0
        assert access["request_id"] == "req-7" and access["client"] == "127.0.0.1"
        assert re.fullmatch(r"[0-9a-f]{12}", access["key_id"])
        text = stream.getvalue()
        assert "enterprise-key-1" not in text
        assert (secret in text) is log_questions
        # Every planqa line of the request carries its id, the question line included.
        assert all(x.get("request_id") == "req-7" for x in lines if x["logger"] != "planqa.access")


def test_logging_is_configured_at_start_not_import() -> None:
    code = "import logging, service.app; print(len(logging.getLogger('planqa').handlers))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "0"


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


def test_metrics_count_requests_latency_index_and_abstentions(tmp_path: Path) -> None:
    with stub_server(tmp_path, StubEngine(abstain=True)) as url:
        before = _samples(httpx.get(f"{url}/metrics").text)
        for _ in range(3):
            assert httpx.get(f"{url}/api/documents/nope").status_code == 404
        assert httpx.post(f"{url}/api/ask", json={"question": "月球上的排放标准？"}).status_code == 200
        r = httpx.get(f"{url}/metrics")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
        after = _samples(r.text)

    def delta(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    route = "/api/documents/{doc_id}"
    assert delta("planqa_http_requests_total", method="GET", route=route, status="404") == 3
    assert delta("planqa_http_request_duration_seconds_count", method="GET", route=route) == 3
    assert delta("planqa_http_request_duration_seconds_bucket", method="GET", route=route, le="+Inf") == 3
    assert delta("planqa_answers_total", abstained="true") == 1
    assert after[("planqa_index_passages", ())] == 3


def test_openapi_documents_errors_limits_and_security(tmp_path: Path) -> None:
    with stub_server(tmp_path, api_keys="k") as url:
        spec = httpx.get(f"{url}/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert set(schemas["ErrorBody"]["properties"]) == {"error", "detail", "allowed", "request_id"}
    assert "HTTPValidationError" not in schemas
    assert spec["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["bearer"]["description"],
    }
    ask = spec["paths"]["/api/ask"]["post"]
    assert {"401", "408", "413", "422", "429", "503"} <= set(ask["responses"])
    for status in ("401", "413", "422", "429", "503"):
        ref = ask["responses"][status]["content"]["application/json"]["schema"]["$ref"]
        assert ref.endswith("/ErrorBody")
    assert "Retry-After" in ask["responses"]["429"]["headers"]
    assert ask["security"] == [{"bearer": []}]
    question = schemas["AskRequest"]["properties"]["question"]
    assert question["minLength"] == 1 and question["maxLength"] == 500
    assert "404" in spec["paths"]["/api/documents/{doc_id}"]["get"]["responses"]
    for method, path in (("post", "/api/documents"), ("put", "/api/documents/{doc_id}")):
        documented = set(spec["paths"][path][method]["responses"])
        assert {"400", "403", "409", "413", "415", "422"} <= documented, path
    assert "415" not in ask["responses"]
    listing = spec["paths"]["/api/feedback"]["get"]
    assert "403" in listing["responses"] and listing["security"] == [{"bearer": []}]
    stream = spec["paths"]["/api/ask/stream"]["post"]["responses"]["200"]["content"]
    assert list(stream) == ["text/event-stream"]
    assert "security" not in spec["paths"]["/healthz"]["get"]


def test_docs_are_served_from_local_files(tmp_path: Path) -> None:
    with stub_server(tmp_path) as url:
        page = httpx.get(f"{url}/docs")
        assert page.status_code == 200
        sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert sources and all(s.startswith("/") and not s.startswith("//") for s in sources)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text)
        csp = page.headers["content-security-policy"]
        assert "script-src 'self';" in csp
        for src in sources:
            asset = httpx.get(f"{url}{src}")
            assert asset.status_code == 200 and len(asset.content) > 50, src
        js = httpx.get(f"{url}/docs/assets/swagger-ui-bundle.js")
        assert js.headers["content-type"].startswith("text/javascript")
        assert httpx.get(f"{url}/docs/assets/..%2Fcore.py").status_code == 404
        assert httpx.get(f"{url}/redoc").status_code == 404


@pytest.mark.slow
def test_metrics_add_up_across_worker_processes(tmp_path: Path) -> None:
    """Two uvicorn workers; whichever answers /metrics reports the requests both served."""
    from tests.live import free_port

    port = free_port()
    prom = tmp_path / "prom"
    prom.mkdir()
    env = {
        **__import__("os").environ,
        "PROMETHEUS_MULTIPROC_DIR": str(prom),
        # An empty corpus: the workers start fast and answer /healthz; the index is not needed.
        "PLANQA_CORPUS_DIR": str(tmp_path),
        "PLANQA_DATA_DIR": str(tmp_path / "data"),
    }
    cmd = [sys.executable, "-m", "uvicorn", "service.app:create_app", "--factory", "--workers", "2"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        import time

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        time.sleep(3)  # let the second worker come up too
        pids = set()
        for _ in range(40):
            # A new connection each time, so the kernel spreads them over both workers.
            with httpx.Client() as c:
                c.get(f"{url}/healthz")
        for f in prom.glob("*.db"):
            pids.add(f.stem.rsplit("_", 1)[-1])
        assert len(pids) >= 2, "both workers should have written metrics"
        samples = _samples(httpx.get(f"{url}/metrics").text)
        total = samples[
            ("planqa_http_requests_total", (("method", "GET"), ("route", "/healthz"), ("status", "200")))
        ]
        assert total >= 41  # the 40 above plus the start-up probe(s), summed over both workers
    finally:
        proc.terminate()
        proc.wait(timeout=30)
