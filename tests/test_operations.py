"""Operating planqa as processes: workers, --build, reload across workers, SIGTERM, kill -9,
a full disk and concurrent builds. Every test runs the real CLI in subprocesses."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from indexer import generations
from indexer.cache import cache_key, cache_path
from indexer.settings import Settings
from tests.lifecycle_util import SMALL_DOCS, fingerprint, small_corpus
from tests.live import free_port

pytestmark = pytest.mark.slow
PLANQA = [sys.executable, "-m", "service.cli"]
SERVED_DOCS = ("langfang-eco-plan", *SMALL_DOCS)  # the engine needs the plan


def _env(corpus: Path, data: Path, index: Path, settings: Settings, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PLANQA_CORPUS_DIR": str(corpus),
        "PLANQA_DATA_DIR": str(data),
        "PLANQA_INDEX_DIR": str(index),
        "PLANQA_MODEL_CACHE_DIR": str(settings.resolved_model_cache),
        "PLANQA_EMBEDDING_MODEL": settings.embedding_model,
        "PLANQA_API_KEYS": "",
        **extra,
    }


def _data_dir(path: Path, index_settings: Settings, shared_cache: bool) -> Path:
    path.mkdir(parents=True)
    shared = index_settings.data_dir / "cache"
    if shared_cache and shared.exists():
        (path / "cache").symlink_to(shared.resolve(), target_is_directory=True)
    return path


def _index(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PLANQA, "index", *args], env=env, capture_output=True, text=True, timeout=600)


def _generation_of(out: subprocess.CompletedProcess[str]) -> str:
    assert out.returncode == 0, out.stderr
    found = re.search(r"index generation (\S+) ready", out.stdout)
    assert found, out.stdout
    return found.group(1)


@pytest.fixture
def server_log(tmp_path: Path) -> Iterator[Path]:
    log = tmp_path / "serve.log"
    yield log
    if log.exists():
        print(log.read_text(encoding="utf-8", errors="replace")[-3000:])


def _readyz(url: str) -> httpx.Response:
    # A fresh connection each time, so successive probes can land on different workers.
    return httpx.get(f"{url}/readyz", timeout=10, headers={"Connection": "close"})


def _until(what: str, check, timeout: float = 300):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_workers_build_reload_together_and_finish_requests_on_sigterm(
    tmp_path: Path, index_settings: Settings, server_log: Path
) -> None:
    corpus = small_corpus(tmp_path / "corpus", SERVED_DOCS)
    data = _data_dir(tmp_path / "data", index_settings, shared_cache=True)
    index = tmp_path / "index"
    env = _env(corpus, data, index, index_settings, PLANQA_RELOAD_INTERVAL="0.5")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [*PLANQA, "serve", "--port", str(port), "--workers", "2", "--build", "--shutdown-timeout", "30"]
    t0 = time.monotonic()
    with server_log.open("wb") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        # The port answers before any index exists: health yes, readiness "not yet".
        def first_answer() -> httpx.Response | None:
            assert proc.poll() is None, "serve exited"
            try:
                return _readyz(url)
            except httpx.TransportError:
                return None

        first = _until("the port to answer", first_answer, 120)
        answered = time.monotonic() - t0
        assert first.status_code == 503 and first.json()["status"] in ("loading", "building"), first.text
        assert httpx.get(f"{url}/healthz", timeout=10).status_code == 200

        ready = _until("readiness", lambda: (r := _readyz(url)).status_code == 200 and r, 600)
        ready_after = time.monotonic() - t0
        g1 = ready.json()["index"]["generation"]
        assert generations.list_generations(index) == [g1], "two workers, one build"

        pids: dict[int, str] = {}

        def both_workers_on(generation: str) -> bool:
            body = _readyz(url).json()
            if body.get("status") == "ready":
                pids[body["pid"]] = body["index"]["generation"]
            return len(pids) == 2 and set(pids.values()) == {generation}

        _until("answers from two worker processes", lambda: both_workers_on(g1), 120)
        print(
            f"\nport answered after {answered:.1f}s, ready after {ready_after:.1f}s, workers {sorted(pids)}"
        )

        # A new generation from the CLI reaches every worker by the pointer poll.
        g2 = _generation_of(_index(env))
        _until("both workers on the new generation", lambda: both_workers_on(g2), 120)

        # SIGTERM while a request is in flight: it is answered, then the server exits cleanly.
        body = json.dumps({"question": "2025年PM2.5浓度目标是多少？"}).encode()
        head = (
            f"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
            sock.sendall(head + body[:10])
            time.sleep(0.5)
            proc.send_signal(signal.SIGTERM)
            time.sleep(1.5)
            sock.sendall(body[10:])
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        response = b"".join(chunks)
        assert response.startswith(b"HTTP/1.1 200"), response[:300]
        assert json.loads(response.split(b"\r\n\r\n", 1)[1])["citations"]
        assert proc.wait(timeout=60) == 0
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{url}/healthz", timeout=2)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _cached_rows(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path, timeout=1) as db:
            return int(db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])
    except sqlite3.Error:
        return 0


def test_kill_9_during_index_keeps_live_index_serving_and_the_embeddings(
    tmp_path: Path, index_settings: Settings
) -> None:
    from indexer.corpus import index_text, load_corpus
    from indexer.embed import load_embedder
    from indexer.store import build_index
    from service.app import create_app
    from tests.live import serve, wait_settled

    corpus_dir = small_corpus(tmp_path / "corpus", SERVED_DOCS)
    index = tmp_path / "index"
    warm = index_settings.model_copy(
        update={
            "corpus_dir": corpus_dir,
            "data_dir": _data_dir(tmp_path / "warm", index_settings, shared_cache=True),
            "index_dir": index,
            "reload_interval": 0.5,
        }
    )
    embedder = load_embedder(warm)
    live = str(build_index(warm, embedder)["generation"])
    before = fingerprint(generations.generation_dir(index, live))

    # A second data dir whose cache knows only the plan: the laws must be embedded again.
    cold = tmp_path / "cold"
    cold.mkdir()
    corpus = load_corpus(corpus_dir)
    plan_keys = [cache_key(embedder.model_id, index_text(p)) for p in corpus.documents[0].passages]
    from indexer.cache import EmbeddingCache

    with (
        EmbeddingCache(cache_path(warm.data_dir, embedder.model_id)) as shared,
        EmbeddingCache(cache_path(cold, embedder.model_id)) as seeded,
    ):
        seeded.put(shared.get(plan_keys).items())
    seeded_rows = len(plan_keys)
    law_passages = len(corpus.passages) - seeded_rows
    env = _env(corpus_dir, cold, index, warm, PLANQA_EMBED_CHUNK="4")

    with serve(create_app(warm)) as url:
        assert wait_settled(url).json()["index"]["generation"] == live
        proc = subprocess.Popen([*PLANQA, "index"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        db = cache_path(cold, embedder.model_id)
        try:
            _until("some law passages embedded", lambda: _cached_rows(db) >= seeded_rows + 12, 300)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        kept = _cached_rows(db) - seeded_rows
        assert 12 <= kept < law_passages

        # The live generation is untouched and still served; nothing new was published.
        assert generations.read_pointer(index) == live
        assert generations.list_generations(index) == [live]
        assert fingerprint(generations.generation_dir(index, live)) == before
        r = httpx.post(f"{url}/api/search", json={"query": "环境保护税 纳税人"}, timeout=30)
        assert r.status_code == 200 and r.json()["results"]

        # The rerun embeds only what the killed build had not saved, then is picked up live.
        out = _index(env)
        g2 = _generation_of(out)
        computed = int(re.search(r"(\d+) embeddings computed", out.stdout).group(1))  # type: ignore[union-attr]
        print(f"\nkilled after {kept} of {law_passages} law passages; rerun computed {computed}")
        assert computed == law_passages - kept
        assert not [p for p in (index / generations.GENERATIONS).iterdir() if p.name.startswith(".")]
        _until("the server to switch", lambda: httpx.get(f"{url}/readyz").json()["index"]["generation"] == g2)


def test_full_disk_during_build_is_a_clear_error_and_the_live_index_survives(
    tmp_path: Path, index_settings: Settings
) -> None:
    from indexer.embed import load_embedder
    from indexer.store import build_index, load_index

    mount = tmp_path / "small-disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(
            f"cannot mount a small tmpfs to fill up (needs root and mount rights): {done.stderr.strip()}"
        )
    try:
        corpus = small_corpus(tmp_path / "corpus", SERVED_DOCS)
        data = _data_dir(tmp_path / "data", index_settings, shared_cache=True)
        index = mount / "index"
        settings = index_settings.model_copy(
            update={"corpus_dir": corpus, "data_dir": data, "index_dir": index}
        )
        live = str(build_index(settings, load_embedder(settings))["generation"])
        before = fingerprint(index)
        filler = mount / "filler"
        with filler.open("wb") as fh:  # leave 64 KB: far less than one generation needs
            fh.write(b"\0" * max(0, os.statvfs(mount).f_bavail * os.statvfs(mount).f_frsize - (64 << 10)))
        out = _index(_env(corpus, data, index, settings))
        assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
        last = [line for line in out.stderr.splitlines() if line.strip()][-1]
        assert last.startswith("error: no space left") and "live index is unchanged" in last, last
        assert generations.read_pointer(index) == live
        after = fingerprint(index)
        assert {k: v for k, v in after.items() if not k.startswith(".")} == {
            k: v for k, v in before.items() if not k.startswith(".")
        }
        assert not [p for p in (index / generations.GENERATIONS).iterdir() if p.name.startswith(".")]
        assert load_index(settings, load_embedder(settings).model_id).manifest["generation"] == live
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_concurrent_builds_are_serialised_by_the_lock(tmp_path: Path, index_settings: Settings) -> None:
    from indexer.embed import load_embedder
    from indexer.store import load_index

    corpus = small_corpus(tmp_path / "corpus", SERVED_DOCS)
    data = _data_dir(tmp_path / "data", index_settings, shared_cache=True)
    index = tmp_path / "index"
    env = _env(corpus, data, index, index_settings)
    logs = [tmp_path / "build-a.err", tmp_path / "build-b.err"]
    procs = []
    # Hold the lock first, so both builds are certainly running at once and contend for it.
    with generations.build_lock(index):
        for log in logs:
            with log.open("wb") as err:
                procs.append(
                    subprocess.Popen([*PLANQA, "index"], env=env, stdout=subprocess.PIPE, stderr=err)
                )
        _until(
            "both builds to wait for the lock",
            lambda: all("waiting for the index build" in p.read_text(errors="replace") for p in logs),
            300,
        )
    outs = [p.communicate(timeout=600)[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [log.read_text() for log in logs]
    built = [re.search(r"index generation (\S+) ready", out).group(1) for out in outs]  # type: ignore[union-attr]
    windows = []
    for generation in built:
        manifest = json.loads((generations.generation_dir(index, generation) / "manifest.json").read_text())
        generations.verify(generations.generation_dir(index, generation), manifest)
        windows.append(manifest["build_window"])
    first, second = sorted(windows)
    assert first[1] <= second[0], f"builds overlapped: {windows}"
    later = built[0] if windows[0][0] > windows[1][0] else built[1]
    assert generations.read_pointer(index) == later
    settings = index_settings.model_copy(update={"corpus_dir": corpus, "data_dir": data, "index_dir": index})
    assert load_index(settings, load_embedder(settings).model_id).manifest["generation"] == later
