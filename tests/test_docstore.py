"""The document store: seeding, add / replace / remove, duplicates, status, and no half-writes."""

from __future__ import annotations

import threading
from pathlib import Path

import docs_factory as f
import pytest

from indexer.corpus import Corpus, load_corpus
from indexer.docstore import STORE_MANIFEST, DocumentStore, corpus_source, open_store, store_dir
from indexer.errors import DuplicateDocument, EmptyDocument, NotFound, UnsupportedFormat
from indexer.settings import REPO_ROOT, Settings

CORPUS = REPO_ROOT / "corpus"


@pytest.fixture
def store(tmp_path: Path) -> DocumentStore:
    return open_store(Settings(data_dir=tmp_path / "data", corpus_dir=CORPUS))


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file() and p.name != "documents.lock"}


def test_fresh_install_lists_the_shipped_corpus_without_writing(store: DocumentStore) -> None:
    docs = store.documents()
    assert len(docs) == 27 and {d.status for d in docs} == {"ready"} and {d.origin for d in docs} == {"seed"}
    assert not store.exists and not store.root.exists()
    settings = Settings(data_dir=store.root.parent, corpus_dir=CORPUS)
    assert corpus_source(settings) == CORPUS


def test_add_seeds_then_indexes_from_the_store(store: DocumentStore, tmp_path: Path, corpus: Corpus) -> None:
    md = f.make_md(tmp_path / "ozone-notice.md")
    doc_id = store.add(md.name, md.read_bytes())
    assert doc_id == "ozone-notice"
    docs = {d.meta.id: d for d in store.documents()}
    assert len(docs) == 28 and docs[doc_id].status == "indexing" and docs[doc_id].version == 1
    assert docs[doc_id].meta.title == f.NOTICE_TITLE and docs[doc_id].meta.kind == "notice"
    assert (store.root / docs[doc_id].meta.file).read_bytes() == md.read_bytes()
    assert corpus_source(Settings(data_dir=store.root.parent, corpus_dir=CORPUS)) == store.root
    # The seeded documents parse exactly as the shipped corpus does, from their copied originals.
    from_store = load_corpus(store.root)
    shipped = {p.id: (p.section, p.text) for p in corpus.passages}
    stored = {p.id: (p.section, p.text) for p in from_store.passages if p.doc_id != doc_id}
    assert stored == shipped
    assert from_store.indicators == corpus.indicators
    assert [p.id for p in from_store.passages if p.doc_id == doc_id] == [f"{doc_id}:000{i}" for i in range(5)]


def test_duplicate_names_the_existing_document(store: DocumentStore, tmp_path: Path) -> None:
    txt = f.make_txt(tmp_path / "waste.txt")
    doc_id = store.add(txt.name, txt.read_bytes())
    with pytest.raises(DuplicateDocument, match=doc_id) as exc:
        store.add("copy.txt", txt.read_bytes(), title="另一个标题")
    assert exc.value.existing_id == doc_id
    law = CORPUS / "laws" / "water-law.md"
    with pytest.raises(DuplicateDocument, match="water-law"):
        store.add("water.md", law.read_bytes())


def test_rejected_files_leave_nothing_behind(store: DocumentStore, tmp_path: Path) -> None:
    store.add("a.md", f.make_md(tmp_path / "a.md").read_bytes())
    before = {p: p.read_bytes() for p in _files(store.root)}
    for name, data, error in [
        ("empty.txt", b"", EmptyDocument),
        ("x.xlsx", b"PK\x03\x04", UnsupportedFormat),
        ("scan.pdf", f.make_pdf(tmp_path / "s.pdf", text=False).read_bytes(), EmptyDocument),
    ]:
        with pytest.raises(error):
            store.add(name, data)
    assert {p: p.read_bytes() for p in _files(store.root)} == before
    assert not list(store.root.rglob("*.tmp"))


def test_replace_makes_a_new_version(store: DocumentStore, tmp_path: Path) -> None:
    md = f.make_md(tmp_path / "notice.md")
    doc_id = store.add(md.name, md.read_bytes(), title="臭氧通知")
    old = next(d for d in store.documents() if d.meta.id == doc_id)
    new_text = md.read_text(encoding="utf-8").replace("减少3天以上", "减少5天以上")
    assert store.replace(doc_id, "notice.md", new_text.encode()) == 2
    new = next(d for d in store.documents() if d.meta.id == doc_id)
    assert new.version == 2 and new.status == "indexing" and new.meta.title == "臭氧通知"
    assert new.meta.sha256 != old.meta.sha256
    assert not (store.root / old.meta.file).exists() and (store.root / new.meta.file).exists()
    texts = [p.text for p in load_corpus(store.root).passages if p.doc_id == doc_id]
    assert any("减少5天以上" in t for t in texts) and not any("减少3天以上" in t for t in texts)
    with pytest.raises(DuplicateDocument):
        store.replace(doc_id, "notice.md", new_text.encode())
    with pytest.raises(NotFound):
        store.replace("no-such-doc", "notice.md", b"x")


def test_remove_takes_every_file_and_passage(store: DocumentStore, tmp_path: Path) -> None:
    pdf = f.make_pdf(tmp_path / "straw-plan.pdf")
    doc_id = store.add(pdf.name, pdf.read_bytes())
    store.remove(doc_id)
    assert doc_id not in {d.meta.id for d in store.documents()}
    assert not (store.root / "files" / doc_id).exists()
    assert not [p for p in load_corpus(store.root).passages if p.doc_id == doc_id]
    store.remove("water-law")  # a shipped document can be removed too
    assert "water-law" not in {d.doc_id for d in load_corpus(store.root).passages}
    with pytest.raises(NotFound):
        store.remove(doc_id)


def test_status_and_failed_documents_are_not_indexed(store: DocumentStore, tmp_path: Path) -> None:
    doc_id = store.add("n.md", f.make_md(tmp_path / "n.md").read_bytes())
    store.set_status([doc_id], "failed", "index build failed: disk full")
    d = next(d for d in store.documents() if d.meta.id == doc_id)
    assert (d.status, d.reason) == ("failed", "index build failed: disk full")
    assert doc_id not in {p.doc_id for p in load_corpus(store.root).passages}
    store.set_status([doc_id], "ready")
    assert doc_id in {p.doc_id for p in load_corpus(store.root).passages}


def test_concurrent_adds_are_serialised(store: DocumentStore, tmp_path: Path) -> None:
    files = [f.make_md(tmp_path / "n.md"), f.make_txt(tmp_path / "w.txt"), f.make_docx(tmp_path / "d.docx")]
    errors: list[Exception] = []

    def add(p: Path) -> None:
        try:
            store.add(p.name, p.read_bytes())
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(p,)) for p in files]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(store.documents()) == 30
    assert (store_dir(store.root.parent) / STORE_MANIFEST).is_file()


def test_tier_is_kept_checked_and_defaults_to_core(store: DocumentStore, tmp_path: Path) -> None:
    import json

    from indexer.errors import InvalidRequest

    md = f.make_md(tmp_path / "ozone-notice.md")
    with pytest.raises(InvalidRequest, match="tier"):
        store.add(md.name, md.read_bytes(), tier="archive")
    doc_id = store.add(md.name, md.read_bytes(), tier="reference")
    docs = {d.meta.id: d for d in store.documents()}
    assert docs[doc_id].meta.tier == "reference" and docs["langfang-eco-plan"].meta.tier == "core"
    assert load_corpus(store.root).meta(doc_id).tier == "reference"
    txt = f.make_txt(tmp_path / "waste.txt")
    store.replace(doc_id, txt.name, txt.read_bytes())
    assert {d.meta.id: d for d in store.documents()}[doc_id].meta.tier == "reference"
    # A store written before tiers existed reads every document as core.
    path = store.root / STORE_MANIFEST
    raw = json.loads(path.read_text(encoding="utf-8"))
    for entry in raw["documents"]:
        entry.pop("tier")
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    assert {d.meta.tier for d in store.documents()} == {"core"}
