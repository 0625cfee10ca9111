"""Shared fixtures: the real corpus parse, and (for slow tests) a real index in a temp dir."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from indexer.corpus import Corpus, load_corpus
from indexer.settings import REPO_ROOT, Settings

CORPUS_DIR = REPO_ROOT / "corpus"


def pytest_configure(config: pytest.Config) -> None:
    from indexer.embed import prefer_passive_openmp

    prefer_passive_openmp()


@pytest.fixture(scope="session")
def corpus() -> Corpus:
    return load_corpus(CORPUS_DIR)


def shared_model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Converting the default model takes ~30 s; CI and developers share one cache dir."""
    env = os.environ.get("PLANQA_MODEL_CACHE_DIR")
    if env:
        return Path(env)
    default = REPO_ROOT / "var" / "models"
    default.mkdir(parents=True, exist_ok=True)
    return default


@pytest.fixture(scope="session")
def index_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings with a real index over the real corpus, built once per test session."""
    from indexer.embed import load_embedder
    from indexer.store import build_index

    data = tmp_path_factory.mktemp("data")
    cache = REPO_ROOT / "var" / "cache"
    settings = Settings(
        corpus_dir=CORPUS_DIR, data_dir=data, model_cache_dir=shared_model_cache(tmp_path_factory)
    )
    # One embedding cache per checkout: the suite fills it on a fresh machine, and `planqa index`
    # and `planqa eval` afterwards (CI runs them next) find every passage embedded already.
    cache.mkdir(parents=True, exist_ok=True)
    (data / "cache").symlink_to(cache, target_is_directory=True)
    build_index(settings, load_embedder(settings))
    yield settings


@pytest.fixture(scope="session")
def engine(index_settings: Settings):  # type: ignore[no-untyped-def]
    from service.engine import load_engine

    return load_engine(index_settings, build_if_missing=False)
