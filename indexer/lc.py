"""LangChain adapters over planqa's own components."""

from __future__ import annotations

from typing import TYPE_CHECKING

from langchain_core.embeddings import Embeddings

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
