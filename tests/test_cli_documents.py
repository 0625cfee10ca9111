"""`planqa add / documents / remove` with the real model and index: only new passages are embedded."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import docs_factory as f
import pytest
from test_cli import run

from indexer.settings import REPO_ROOT, Settings


@pytest.fixture
def fresh(index_settings: Settings, tmp_path: Path) -> Settings:
    """A fresh install: no document store yet, and a copy of the warm embedding cache."""
    data = tmp_path / "data"
    shutil.copytree(index_settings.data_dir / "cache", data / "cache", symlinks=False)
    return Settings(
        corpus_dir=REPO_ROOT / "corpus", data_dir=data, model_cache_dir=index_settings.resolved_model_cache
    )


def _computed(stdout: str) -> int:
    line = next(line for line in stdout.splitlines() if line.startswith("index rebuilt"))
    return int(line.split(" embeddings computed")[0].rsplit(" ", 1)[-1])


@pytest.mark.slow
def test_add_search_remove(fresh: Settings, tmp_path: Path) -> None:
    md = f.make_md(tmp_path / "ozone-notice.md")
    out = run(["add", str(md), "--title", "臭氧防控通知"], fresh)
    assert out.returncode == 0, out.stderr
    assert "added ozone-notice" in out.stdout
    # Seeding the store rebuilds the whole index, yet only the new notice's 5 passages are embedded.
    assert _computed(out.stdout) == 5

    folder = tmp_path / "inbox"
    folder.mkdir()
    txt = f.make_txt(folder / "waste-plan.txt")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "notes.xlsx").write_bytes(b"PK\x03\x04")  # not a document type: not picked up
    out = run(["add", str(folder), "--tier", "reference"], fresh)
    assert out.returncode == 0, out.stderr
    assert "skipped" in out.stderr and "empty.txt" in out.stderr and "notes.xlsx" not in out.stderr
    assert _computed(out.stdout) == 3

    listed = {d["id"]: d for d in json.loads(run(["documents", "--json"], fresh).stdout)}
    assert len(listed) == 29
    assert listed["waste-plan"]["status"] == "ready" and listed["waste-plan"]["title"] == f.TXT_TITLE
    assert listed["waste-plan"]["tier"] == "reference" and listed["ozone-notice"]["tier"] == "core"
    assert listed["ozone-notice"]["title"] == "臭氧防控通知" and listed["ozone-notice"]["kind"] == "notice"
    assert listed["ozone-notice"]["format"] == "md" and len(listed["ozone-notice"]["sha256"]) == 64

    hits = json.loads(run(["search", "臭氧超标天数", "--mode", "bm25", "--json"], fresh).stdout)["results"]
    assert hits[0]["doc_id"] == "ozone-notice" and hits[0]["section"] == "一、工作目标"

    dup = run(["add", str(txt)], fresh)
    assert dup.returncode == 1 and "waste-plan" in dup.stderr and "Traceback" not in dup.stderr

    out = run(["remove", "ozone-notice"], fresh)
    assert out.returncode == 0, out.stderr
    assert _computed(out.stdout) == 0
    for mode in ("bm25", "dense"):  # hybrid fuses these two; the HTTP test checks it
        res = json.loads(run(["search", "臭氧超标天数", "--mode", mode, "--k", "50", "--json"], fresh).stdout)
        assert "ozone-notice" not in {r["doc_id"] for r in res["results"]}, mode


def test_bad_file_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "x.xlsx").write_bytes(b"PK\x03\x04")
    out = run(["add", str(tmp_path / "x.xlsx")], PLANQA_DATA_DIR=str(tmp_path / "data"))
    assert out.returncode == 1 and "unsupported file type" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "data" / "documents" / "documents.json").exists()


@pytest.mark.slow
def test_rerunning_an_add_that_was_killed_finishes_its_documents(fresh: Settings, tmp_path: Path) -> None:
    """An add killed after storing its files leaves them stored, marked indexing, and the old
    index serving; the same command again skips them as duplicates yet indexes them."""
    from indexer.docstore import open_store

    folder = tmp_path / "inbox"
    folder.mkdir()
    f.make_txt(folder / "waste-plan.txt")
    f.make_md(folder / "ozone-notice.md")
    store = open_store(fresh)
    store.add("waste-plan.txt", (folder / "waste-plan.txt").read_bytes())  # what the kill left
    assert {d.meta.id: d.status for d in store.documents()}["waste-plan"] == "indexing"

    out = run(["add", str(folder)], fresh)
    assert out.returncode == 0, out.stderr
    assert "added ozone-notice" in out.stdout and "waste-plan" in out.stderr  # skipped: stored
    assert "resuming: 1 documents" in out.stdout
    listed = {d["id"]: d["status"] for d in json.loads(run(["documents", "--json"], fresh).stdout)}
    assert listed["waste-plan"] == listed["ozone-notice"] == "ready"
    hits = json.loads(run(["search", f.TXT_TITLE, "--mode", "bm25", "--json"], fresh).stdout)["results"]
    assert hits[0]["doc_id"] == "waste-plan"

    again = run(["add", str(folder)], fresh)  # nothing new, nothing pending: no rebuild
    assert again.returncode == 0 and "index rebuilt" not in again.stdout and "resuming" not in again.stdout
