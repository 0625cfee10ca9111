"""Reference retrievers built with LangChain itself, over the raw corpus files.

They answer the question "is planqa better than what one gets from the usual recipes?":
  - lc-tutorial: the LangChain tutorial recipe — 500-character recursive chunks, FAISS.
  - lc-chatchat: the Langchain-Chatchat recipe — 250-character chunks cut at Chinese sentence
    punctuation, BM25 (jieba tokens) and FAISS fused 50/50 by EnsembleRetriever.
Both use the same embedding model as planqa, so the comparison isolates chunking and retrieval.
Neither sees planqa's cleaning or heading structure: laws only lose their YAML front matter.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from langchain_core.documents import Document
    from langchain_core.embeddings import Embeddings

    from indexer.settings import Settings

BASELINES = ("lc-tutorial", "lc-chatchat")
CHATCHAT_SEPARATORS = ["\n\n", "\n", "。", "！", "？", "；", "，", ""]
_FRONT_MATTER = re.compile(r"\A---\r?\n.*?\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)


def strip_front_matter(text: str) -> str:
    return _FRONT_MATTER.sub("", text, count=1)


@dataclass(frozen=True)
class RawDocument:
    doc_id: str
    title: str
    text: str


def read_raw_corpus(corpus_dir: Path) -> list[RawDocument]:
    from indexer.manifest import read_manifest

    docs = []
    for meta in read_manifest(corpus_dir):
        text = (corpus_dir / meta.file).read_text(encoding="utf-8")
        if meta.kind != "plan":
            text = strip_front_matter(text)
        docs.append(RawDocument(meta.id, meta.title, text))
    return docs


def _splitter(name: str) -> Any:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    if name == "lc-tutorial":
        return RecursiveCharacterTextSplitter(chunk_size=500, chunk_overlap=50)
    if name == "lc-chatchat":
        # Chinese punctuation ends a sentence, so it stays with the text before it.
        return RecursiveCharacterTextSplitter(
            separators=CHATCHAT_SEPARATORS, keep_separator="end", chunk_size=250, chunk_overlap=50
        )
    raise ValueError(f"unknown baseline {name!r}; known: {', '.join(BASELINES)}")


def split_corpus(name: str, docs: Sequence[RawDocument]) -> list[Document]:
    splitter = _splitter(name)
    chunks: list[Document] = []
    for doc in docs:
        parts = splitter.create_documents(
            [doc.text], metadatas=[{"doc_id": doc.doc_id, "doc_title": doc.title}]
        )
        for i, part in enumerate(parts):
            part.metadata["passage_id"] = f"{name}:{doc.doc_id}:{i}"
        chunks.extend(parts)
    return chunks


class EmbeddingCache:
    """Chunk vectors on disk, keyed by model id and the hash of the chunk text.

    One .npz file per model; a run embeds only the chunks it has not seen and rewrites the file
    through a temporary name, so an interrupted run never leaves a half-written cache.
    """

    def __init__(self, cache_dir: Path, model_id: str) -> None:
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", model_id)[:60]
        digest = hashlib.sha256(model_id.encode("utf-8")).hexdigest()[:12]
        self.path = cache_dir / f"{slug}-{digest}.npz"
        self.model_id = model_id

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def _load(self) -> dict[str, Any]:
        import numpy as np

        if not self.path.is_file():
            return {}
        try:
            with np.load(self.path, allow_pickle=False) as data:
                if str(data["model"]) != self.model_id:
                    return {}
                return dict(zip(data["keys"].tolist(), data["vectors"], strict=True))
        except (OSError, ValueError, KeyError):
            return {}  # an unreadable cache is only a slow run, not an error

    def _save(self, table: dict[str, Any]) -> None:
        import numpy as np

        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(list(table), dtype="<U64")
        vectors = np.stack([np.asarray(v, dtype=np.float32) for v in table.values()])
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".tmp-", suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, keys=keys, vectors=vectors, model=np.array(self.model_id))
            os.chmod(tmp, 0o644)  # mkstemp makes 0600; these are ordinary shared files
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def embed(self, texts: Sequence[str], embeddings: Embeddings) -> list[list[float]]:
        table = self._load()
        keys = [self.key(t) for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in table))
        if missing:
            by_key = {k: t for k, t in zip(keys, texts, strict=True)}
            fresh = embeddings.embed_documents([by_key[k] for k in missing])
            table.update(zip(missing, fresh, strict=True))
            self._save(table)
        return [[float(x) for x in table[k]] for k in keys]


def load_embeddings(settings: Settings) -> Embeddings:
    """planqa's own embedding model behind LangChain's Embeddings interface."""
    from indexer.embed import load_embedder
    from indexer.lc import PlanqaEmbeddings

    embeddings: Embeddings = PlanqaEmbeddings(load_embedder(settings))
    return embeddings


def _as_result(doc: Document, rank: int) -> dict[str, Any]:
    return {
        "n": rank,
        "passage_id": doc.metadata.get("passage_id", ""),
        "doc_id": doc.metadata.get("doc_id", ""),
        "doc_title": doc.metadata.get("doc_title", ""),
        "section": "",  # raw chunks know nothing of headings
        "text": doc.page_content,
    }


class LangChainBaseline:
    """One baseline recipe, ready to answer `search(query, top_k)`."""

    def __init__(self, name: str, chunks: list[Document], vectors: list[list[float]], embeddings: Embeddings):
        from langchain_community.vectorstores import FAISS

        self.name = name
        self.n_chunks = len(chunks)
        self.store = FAISS.from_embeddings(
            [(c.page_content, v) for c, v in zip(chunks, vectors, strict=True)],
            embedding=embeddings,
            metadatas=[c.metadata for c in chunks],
        )
        self._ensemble: Any = None
        if name == "lc-chatchat":
            import jieba
            from langchain_classic.retrievers import EnsembleRetriever
            from langchain_community.retrievers import BM25Retriever

            jieba.setLogLevel(60)  # the dictionary-loading chatter is noise in a progress bar
            self._bm25 = BM25Retriever.from_documents(chunks, preprocess_func=jieba.lcut_for_search)
            self._dense = self.store.as_retriever(search_kwargs={"k": 10})
            self._ensemble = EnsembleRetriever(retrievers=[self._bm25, self._dense], weights=[0.5, 0.5])

    def search(self, query: str, top_k: int) -> list[dict[str, Any]]:
        if self._ensemble is None:
            docs = self.store.similarity_search(query, k=top_k)
        else:
            self._bm25.k = top_k
            self._dense.search_kwargs["k"] = top_k
            # The fused list can hold up to 2·k distinct chunks; a caller asked for k.
            docs = self._ensemble.invoke(query)[:top_k]
        return [_as_result(d, i) for i, d in enumerate(docs, start=1)]


def build_baseline(
    name: str, settings: Settings, embeddings: Embeddings, docs: Sequence[RawDocument] | None = None
) -> LangChainBaseline:
    chunks = split_corpus(name, docs if docs is not None else read_raw_corpus(settings.corpus_dir))
    cache = EmbeddingCache(settings.data_dir / "eval-cache", settings.embedding_model)
    vectors = cache.embed([c.page_content for c in chunks], embeddings)
    return LangChainBaseline(name, chunks, vectors, embeddings)
