"""LangChain adapters over planqa's own components."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever

if TYPE_CHECKING:
    from indexer.embed import Embedder

# --------------------------------------------------------------------------- embeddings


class PlanqaEmbeddings(Embeddings):
    """A planqa Embedder seen as LangChain ``Embeddings``; documents get the passage prompt,
    queries the query prompt, exactly as planqa's own index and search do."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    @property
    def model_id(self) -> str:
        return self.embedder.model_id

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed(list(texts), kind="passage").tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed([text], kind="query")[0].tolist()


# --------------------------------------------------------------------------- retriever


class PlanqaRetriever(BaseRetriever):
    """planqa's hybrid search as a LangChain retriever; metadata carries the citation fields."""

    searcher: Any
    k: int = 5
    mode: str = "hybrid"
    doc_ids: list[str] | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        hits = self.searcher.search(query, k=self.k, doc_ids=self.doc_ids, mode=self.mode)
        return [
            Document(
                page_content=h.passage.text,
                metadata={
                    "passage_id": h.passage.id,
                    "doc_id": h.passage.doc_id,
                    "doc_title": h.doc_title,
                    "section": h.passage.section_path,
                    "score": h.score,
                    "rank": h.rank,
                },
            )
            for h in hits
        ]
