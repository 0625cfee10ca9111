"""The planqa command line: output shapes and one-line errors with a non-zero exit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from indexer.settings import Settings

PLANQA = [sys.executable, "-m", "service.cli"]


def run(args: list[str], settings: Settings | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **env}
    if settings is not None:
        full_env.update(
            PLANQA_CORPUS_DIR=str(settings.corpus_dir),
            PLANQA_DATA_DIR=str(settings.data_dir),
            PLANQA_MODEL_CACHE_DIR=str(settings.resolved_model_cache),
        )
    return subprocess.run([*PLANQA, *args], capture_output=True, text=True, env=full_env, timeout=300)


def test_version() -> None:
    out = run(["version"])
    assert out.returncode == 0 and out.stdout.startswith("planqa ")


def test_missing_index_is_one_clear_line(tmp_path: Path) -> None:
    out = run(["search", "PM2.5"], PLANQA_DATA_DIR=str(tmp_path), PLANQA_MODEL_CACHE_DIR=str(tmp_path / "m"))
    assert out.returncode == 1
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert lines[-1].startswith("error:") and "planqa index" in lines[-1]
    assert "Traceback" not in out.stderr


def test_bad_corpus_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "manifest.toml").write_text('[[documents]]\nid = "x"\n', encoding="utf-8")
    out = run(["index"], PLANQA_CORPUS_DIR=str(tmp_path), PLANQA_DATA_DIR=str(tmp_path))
    assert out.returncode == 1 and "error:" in out.stderr and "lacks" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.slow
def test_search_json_and_index_reuse(index_settings: Settings) -> None:
    out = run(["search", "秸秆禁烧", "--k", "3", "--mode", "bm25", "--json"], index_settings)
    assert out.returncode == 0, out.stderr
    results = json.loads(out.stdout)["results"]
    assert len(results) == 3
    assert set(results[0]) == {"passage_id", "doc_id", "doc_title", "section", "text", "score"}
    assert "秸秆" in results[0]["text"]
    bad = run(["search", "秸秆", "--mode", "fuzzy"], index_settings)
    assert bad.returncode == 1 and "hybrid" in bad.stderr
    again = run(["index"], index_settings)
    assert again.returncode == 0 and "0 embeddings computed" in again.stdout


@pytest.mark.parametrize(("workers", "preset", "expected"), [(2, "", "split"), (2, "3", "3"), (1, "", "")])
def test_serve_splits_embedding_threads_between_workers(
    monkeypatch: pytest.MonkeyPatch, workers: int, preset: str, expected: str
) -> None:
    import uvicorn
    from typer.testing import CliRunner

    from indexer.embed import usable_cpus
    from service.cli import app

    monkeypatch.setenv("PLANQA_EMBED_THREADS", preset or "1")  # whatever serve writes is undone after
    if not preset:
        monkeypatch.delenv("PLANQA_EMBED_THREADS")
    seen: dict[str, str] = {}
    monkeypatch.setattr(
        uvicorn, "run", lambda *a, **k: seen.update(env=os.environ.get("PLANQA_EMBED_THREADS", ""))
    )
    result = CliRunner().invoke(app, ["serve", "--workers", str(workers), "--port", "8999"])
    assert result.exit_code == 0, result.output
    want = str(max(1, usable_cpus() // workers)) if expected == "split" else expected
    assert seen["env"] == want


def test_worker_embed_threads_shares_the_cpus() -> None:
    from indexer.embed import worker_embed_threads

    assert worker_embed_threads(1, cpus=2) == 2
    assert worker_embed_threads(2, cpus=2) == 1
    assert worker_embed_threads(3, cpus=2) == 1
    assert worker_embed_threads(4, cpus=8) == 2
