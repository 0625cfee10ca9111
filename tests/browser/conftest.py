"""Browser fixtures: a real uvicorn server over a real index, and the system Chromium via Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from indexer.settings import REPO_ROOT, Settings

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = REPO_ROOT / "tests" / "artifacts"
READY_TIMEOUT_S = float(os.environ.get("PLANQA_TEST_READY_TIMEOUT", "600"))
TEST_API_KEY = "browser-test-key-7d1f"
# Listing feedback is an operator action; both servers have this admin key.
TEST_ADMIN_KEY = "browser-admin-key-3c9a"
ADMIN_HEADERS = {"Authorization": f"Bearer {TEST_ADMIN_KEY}"}


def require_chromium() -> None:
    """In CI a missing browser is a failure, never a silent skip."""
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return
    message = (
        f"{CHROMIUM} is missing: the browser tests drive the system Chromium. "
        "Install it with: apt-get install -y chromium fonts-wqy-microhei"
    )
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    api_key: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return "(no server log)"


def start_server(settings: Settings, workdir: Path, api_key: str = "") -> LiveServer:
    """uvicorn running create_app() in a child process, configured only through PLANQA_* variables."""
    port = free_port()
    env = {
        **os.environ,
        "PLANQA_CORPUS_DIR": str(settings.corpus_dir),
        "PLANQA_DATA_DIR": str(settings.data_dir),
        "PLANQA_INDEX_DIR": str(settings.resolved_index_dir),
        "PLANQA_MODEL_CACHE_DIR": str(settings.resolved_model_cache),
        "PLANQA_EMBEDDING_MODEL": settings.embedding_model,
        "PLANQA_API_KEYS": api_key,
        "PLANQA_ADMIN_KEYS": TEST_ADMIN_KEY,
        "PLANQA_CORS_ORIGINS": "",
    }
    log_path = workdir / f"uvicorn-{port}.log"
    cmd = [sys.executable, "-m", "uvicorn", "service.app:create_app", "--factory"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = LiveServer(f"http://127.0.0.1:{port}", process, log_path, api_key)
    if api_key:
        server.headers = {"Authorization": f"Bearer {api_key}"}
    deadline = time.monotonic() + READY_TIMEOUT_S
    last = ""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{server.log_tail()}")
        try:
            res = httpx.get(f"{server.url}/readyz", timeout=2)
            if res.status_code == 200:
                return server
            last = res.text
        except httpx.HTTPError as exc:
            last = str(exc)
        time.sleep(0.5)
    stop_server(server)
    waited = f"{READY_TIMEOUT_S:.0f}s"
    raise RuntimeError(f"the server was not ready after {waited} ({last}):\n{server.log_tail()}")


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=5)


@pytest.fixture(scope="session")
def live_server(index_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    require_chromium()
    server = start_server(index_settings, tmp_path_factory.mktemp("server"))
    yield server
    stop_server(server)


@pytest.fixture(scope="session")
def keyed_server(index_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A second server over the same index with API keys switched on."""
    require_chromium()
    server = start_server(index_settings, tmp_path_factory.mktemp("keyed"), api_key=TEST_API_KEY)
    yield server
    stop_server(server)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    # The first answer after start-up includes model warm-up; later ones are far quicker.
    expect.set_options(timeout=60_000)
    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield instance
        instance.close()


@dataclass
class PageProbe:
    """What the page did besides rendering: script errors and any alert/confirm/prompt."""

    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


@pytest.fixture
def probe() -> PageProbe:
    return PageProbe()


@pytest.fixture
def page(browser: Any, live_server: LiveServer, probe: PageProbe) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    pg.on("pageerror", lambda exc: probe.errors.append(str(exc)))

    def on_dialog(dialog: Any) -> None:
        probe.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    pg.on("dialog", on_dialog)
    pg.goto(live_server.url + "/")
    yield pg
    context.close()
    assert probe.errors == [], f"script errors on the page: {probe.errors}"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
