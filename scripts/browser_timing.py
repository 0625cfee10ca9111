"""Time the chat page in the system Chromium: Enter → first citation card, and Enter → full answer.

Both times are taken inside the page with performance.now(): a keydown listener notes the moment
Enter is pressed in the question box and a MutationObserver notes when the new turn's first
citation card appears and when the turn is marked done. One warm-up question is not counted.

    python scripts/browser_timing.py                 # starts its own server on a free port
    python scripts/browser_timing.py --url http://127.0.0.1:8000
    python scripts/browser_timing.py --screenshot docs/screenshot.png   # also refresh the README image
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
QUESTIONS = [
    "到2025年廊坊市建成区PM2.5浓度要降到多少？",
    "城市空气质量优良天数比率的目标是多少？",
    "农村生活污水治理率要达到多少？",
    "涂装企业有哪些挥发性有机物治理要求？",
    "重污染天气应对有哪些措施？",
    "三河市要完成哪些目标任务？",
    "地表水质量达到或优于Ⅲ类水体比率的目标是多少？",
    "企业超标排放大气污染物会受到什么处罚？",
    "林木覆盖率有什么要求？",
    "建设用地土壤污染风险管控有哪些要求？",
]
WARM_UP = "非化石能源占能源消费总量比例的目标是多少？"
SHOWCASE = QUESTIONS[0]
SCREENSHOT_LIMIT = 300_000

# Installed before any page script runs; records one entry per question in window.__timings.
PROBE = """
(() => {
  window.__timings = [];
  let t0 = null, tCard = null, turns = 0;
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && ev.target && ev.target.id === 'question') {
      t0 = performance.now(); tCard = null;
      turns = document.querySelectorAll('#turns > .turn').length;
    }
  }, true);
  const watch = () => {
    if (t0 === null) return;
    const all = document.querySelectorAll('#turns > .turn');
    if (all.length <= turns) return;
    const turn = all[all.length - 1];
    if (tCard === null && turn.querySelector('.card')) tCard = performance.now();
    const status = turn.dataset.status;
    if (status === 'done' || status === 'error') {
      const end = performance.now();
      window.__timings.push({ card: tCard === null ? null : tCard - t0, done: end - t0, status });
      t0 = null;
    }
  };
  new MutationObserver(watch).observe(document, { subtree: true, childList: true, attributes: true });
})();
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(timeout: float) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", "service.app:create_app", "--factory", "--port", str(port)]
    proc = subprocess.Popen(
        [*cmd, "--log-level", "warning"], cwd=REPO, env={**os.environ, "PLANQA_LOG_QUESTIONS": "false"}
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return url, proc
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.terminate()
    raise SystemExit(f"the server was not ready after {timeout:.0f}s")


def summary(label: str, values: list[float]) -> str:
    return (
        f"{label:<28} median {statistics.median(values):7.0f} ms   "
        f"min {min(values):6.0f}   max {max(values):6.0f}   (n={len(values)})"
    )


def save_png(png: bytes, path: Path) -> None:
    """Write a screenshot, reduced to a 256-colour palette when it would exceed the size limit."""
    if len(png) > SCREENSHOT_LIMIT:
        try:
            from PIL import Image
        except ImportError:
            print(f"Pillow is not installed; {path} keeps the full {len(png) // 1000} KB PNG")
        else:
            img = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=256)
            out = io.BytesIO()
            img.save(out, format="PNG", optimize=True)
            png = out.getvalue()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png)
    print(f"screenshot: {path} ({len(png) // 1000} KB)")


def screenshot(browser: object, url: str, path: Path) -> None:
    """1440×900: a real answer with its citation cards and the source panel open on [1]."""
    page = browser.new_page(viewport={"width": 1440, "height": 900})  # type: ignore[attr-defined]
    page.goto(url + "/")
    page.fill("#question", SHOWCASE)
    page.press("#question", "Enter")
    page.wait_for_selector("#turns > .turn[data-status=done]", timeout=120_000)
    page.click("#turns .answer-text .marker")
    page.wait_for_selector("#source-panel mark.source-quote")
    page.wait_for_timeout(300)
    save_png(page.screenshot(), path)
    page.close()


def run(url: str, runs: int, width: int, height: int, shot: Path | None) -> int:
    from playwright.sync_api import sync_playwright

    questions = (QUESTIONS * (runs // len(QUESTIONS) + 1))[:runs]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": width, "height": height})
        page.add_init_script(PROBE)
        page.goto(url + "/")
        page.wait_for_selector("#question")
        timings = []
        for i, q in enumerate([WARM_UP, *questions]):
            page.fill("#question", q)
            page.press("#question", "Enter")
            page.wait_for_function("n => window.__timings.length > n", arg=i, timeout=120_000)
            t = page.evaluate(f"window.__timings[{i}]")
            if i:
                timings.append(t)
                card = "   -   " if t["card"] is None else f"{t['card']:7.0f}"
                print(f"{i:2d}. card {card} ms  done {t['done']:7.0f} ms  {t['status']:<5} {q}")
        if shot:
            screenshot(browser, url, shot)
        browser.close()
    cards = [t["card"] for t in timings if t["card"] is not None]
    done = [t["done"] for t in timings]
    print()
    if cards:
        print(summary("Enter → first citation card", cards))
    print(summary("Enter → full answer", done))
    failed = [t for t in timings if t["status"] != "done"]
    if failed:
        print(f"{len(failed)} of {len(timings)} asks ended in an error")
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="a running planqa server; by default one is started on a free port")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--ready-timeout", type=float, default=600.0)
    parser.add_argument("--screenshot", type=Path, help="also save a 1440×900 screenshot of an answer here")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} not found; install it: apt-get install -y chromium fonts-wqy-microhei")
    proc = None
    url = args.url
    if not url:
        url, proc = start_server(args.ready_timeout)
    try:
        return run(url.rstrip("/"), args.runs, args.width, args.height, args.screenshot)
    finally:
        if proc:
            proc.terminate()
            proc.wait(timeout=15)


if __name__ == "__main__":
    sys.exit(main())
