"""planqa indexer: corpus → cleaned text → structure → passages → BM25 + FAISS index."""

__version__ = "0.1.0"
