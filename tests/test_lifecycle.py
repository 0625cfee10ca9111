"""The running service and its index: start-up states, damaged and stale indexes, hot reload.

Real index, real model, real uvicorn over HTTP; builds run in-process with the shared
embedding cache, so a rebuild costs seconds.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from indexer import generations
from indexer.settings import REPO_ROOT, Settings
from service.app import create_app
from tests.lifecycle_util import fingerprint
from tests.live import serve, wait_settled

pytestmark = pytest.mark.slow
ADMIN = {"Authorization": "Bearer adm-1"}


@pytest.fixture
def settings(index_settings: Settings, tmp_path: Path) -> Settings:
    """A private copy of the session index, so builds and damage here touch nothing else."""
    data = tmp_path / "data"
    data.mkdir()
    shared = index_settings.data_dir / "cache"
    if shared.exists():
        (data / "cache").symlink_to(shared.resolve(), target_is_directory=True)
    shutil.copytree(index_settings.resolved_index_dir, tmp_path / "index")
    return index_settings.model_copy(
        update={
            "data_dir": data,
            "index_dir": tmp_path / "index",
            "admin_keys": "adm-1",
            "reload_interval": 0.3,
        }
    )


def _rebuild(settings: Settings) -> str:
    from indexer.embed import load_embedder
    from indexer.store import build_index

    return str(build_index(settings, load_embedder(settings))["generation"])


def _wait_generation(url: str, generation: str, timeout: float = 60) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = httpx.get(f"{url}/readyz", timeout=5)
        if r.status_code == 200 and r.json()["index"]["generation"] == generation:
            return dict(r.json())
        time.sleep(0.1)
    raise AssertionError(f"{url} did not switch to {generation}: {r.text}")


def test_ready_reports_version_and_index_manifest(settings: Settings) -> None:
    with serve(create_app(settings)) as url:
        r = wait_settled(url)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["status"] == "ready" and body["version"]
        index = body["index"]
        assert index["generation"] == generations.read_pointer(settings.resolved_index_dir)
        assert index["passages"] > 2000 and index["documents"] == 27
        assert index["model"] == settings.embedding_model and index["built_at"]


def test_damaged_index_is_reported_then_a_new_build_is_picked_up(settings: Settings) -> None:
    root = settings.resolved_index_dir
    dense = generations.live_dir(root) / "dense.faiss"
    with dense.open("r+b") as fh:
        fh.truncate(dense.stat().st_size - 4096)
    before = fingerprint(root / generations.GENERATIONS)
    with serve(create_app(settings)) as url:
        r = wait_settled(url)
        assert r.status_code == 503 and r.json()["status"] == "unavailable"
        assert str(dense) in r.json()["detail"] and "planqa index" in r.json()["detail"]
        ask = httpx.post(f"{url}/api/ask", json={"question": "PM2.5浓度目标"}, timeout=30)
        assert ask.status_code == 503 and "dense.faiss is damaged" in ask.json()["detail"]
        time.sleep(1)  # several poll intervals: nothing may be rebuilt behind the operator's back
        assert fingerprint(root / generations.GENERATIONS) == before

        generation = _rebuild(settings)  # what `planqa index` does
        _wait_generation(url, generation)
        ask = httpx.post(f"{url}/api/ask", json={"question": "PM2.5浓度目标"}, timeout=30)
        assert ask.status_code == 200 and ask.json()["citations"]


def test_stale_index_is_reported_not_rebuilt(settings: Settings, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(REPO_ROOT / "corpus", corpus)
    law = corpus / "laws" / "water-law.md"
    law.write_text(law.read_text(encoding="utf-8") + "\n第九十九条 本条为测试新增。\n", encoding="utf-8")
    stale = settings.model_copy(update={"corpus_dir": corpus})
    before = generations.list_generations(stale.resolved_index_dir)
    with serve(create_app(stale)) as url:
        r = wait_settled(url)
        assert r.status_code == 503 and "another version of the corpus" in r.json()["detail"]
        assert "planqa serve --build" in r.json()["detail"]
        search = httpx.post(f"{url}/api/search", json={"query": "取水许可"}, timeout=30)
        assert search.status_code == 503 and search.json()["error"] == "not_ready"
    assert generations.list_generations(stale.resolved_index_dir) == before


def test_reload_needs_an_admin_key(settings: Settings) -> None:
    keyless = settings.model_copy(update={"admin_keys": ""})
    with serve(create_app(keyless)) as url:
        assert httpx.post(f"{url}/api/admin/reload", headers=ADMIN).status_code == 403
    with serve(create_app(settings)) as url:
        wait_settled(url)
        assert httpx.post(f"{url}/api/admin/reload").status_code == 401
        bad = {"Authorization": "Bearer adm-2"}
        assert httpx.post(f"{url}/api/admin/reload", headers=bad).status_code == 401
        r = httpx.post(f"{url}/api/admin/reload", headers=ADMIN, timeout=60)
        assert r.status_code == 200 and r.json()["status"] == "unchanged"


def test_reload_of_a_damaged_generation_keeps_serving_the_old_one(settings: Settings) -> None:
    root = settings.resolved_index_dir
    no_poll = settings.model_copy(update={"reload_interval": 0})
    with serve(create_app(no_poll)) as url:
        old = wait_settled(url).json()["index"]["generation"]
        new = _rebuild(settings)
        (generations.generation_dir(root, new) / "passage_ids.json").write_text("[]", encoding="utf-8")
        r = httpx.post(f"{url}/api/admin/reload", headers=ADMIN, timeout=60)
        assert r.status_code == 503 and "passage_ids.json is damaged" in r.json()["detail"]
        ready = httpx.get(f"{url}/readyz").json()
        assert ready["index"]["generation"] == old and "damaged" in ready["reload_error"]
        ask = httpx.post(f"{url}/api/ask", json={"question": "秸秆禁烧"}, timeout=30)
        assert ask.status_code == 200


QUESTIONS = [
    "2025年PM2.5浓度目标是多少？",
    "排污许可证有效期多久？",
    "三河市的空气质量目标",
    "涂装企业VOCs治理有什么要求？",
    "秸秆禁烧",
    "地下水污染防治",
    "冒黑烟的大货车怎么管？",
    "噪声扰民怎么处罚？",
]


def test_zero_failed_requests_across_three_swaps_under_load(settings: Settings) -> None:
    """8 clients ask without pause while the index is rebuilt and swapped in three times."""
    statuses: Counter[int | str] = Counter()
    stop = threading.Event()
    lock = threading.Lock()

    def client(n: int, url: str) -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            i = n
            while not stop.is_set():
                try:
                    code: int | str = http.post("/api/ask", json={"question": QUESTIONS[i % 8]}).status_code
                except httpx.HTTPError as exc:
                    code = type(exc).__name__
                with lock:
                    statuses[code] += 1
                i += 1

    with serve(create_app(settings)) as url:
        first = wait_settled(url).json()["index"]["generation"]
        threads = [threading.Thread(target=client, args=(n, url)) for n in range(8)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        seen = [first]
        try:
            for cycle in range(3):
                time.sleep(2)
                generation = _rebuild(settings)
                if cycle < 2:  # twice by the admin endpoint, once by the pointer poll
                    r = httpx.post(f"{url}/api/admin/reload", headers=ADMIN, timeout=60)
                    assert r.status_code == 200 and r.json()["generation"] == generation, r.text
                _wait_generation(url, generation)
                seen.append(generation)
            while time.monotonic() - t0 < 20:
                time.sleep(0.5)
        finally:
            stop.set()
            for t in threads:
                t.join(60)
    total = sum(statuses.values())
    print(f"\n{total} requests in {time.monotonic() - t0:.1f}s across 3 swaps: {dict(statuses)}")
    assert len(set(seen)) == 4
    assert statuses[200] == total and total > 50, statuses
