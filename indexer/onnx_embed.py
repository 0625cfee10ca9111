"""ONNX Runtime embedder: the same sentence-transformers model, exported once, optionally int8.

A local sentence-transformers directory (BERT-style encoder, mean or CLS pooling, normalised) is
exported with ``torch.onnx`` into a graph that includes the pooling and the normalisation, then
quantised with ONNX Runtime's dynamic int8 quantisation. Both files are built on first use under
the model cache dir, in a temporary directory renamed into place, so a crash never leaves a
half-written model; later processes only load them. Tokenisation uses the model's own
``tokenizer.json`` through the ``tokenizers`` library, configured once and never mutated, so
concurrent calls need no lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from indexer.errors import ModelError

Variant = Literal["fp32", "int8"]
VARIANTS: tuple[Variant, ...] = ("fp32", "int8")
# Bump whenever the exported graphs change, so old caches are rebuilt.
EXPORT_VERSION = 2
MARKER_FILE = "planqa_onnx.json"
_OPSET = 17
_TMP_PREFIX = ".onnx-tmp-"
_OLD_PREFIX = ".onnx-old-"
# Tokens per run: small runs keep the attention activations in cache. On 2 cores 1,024 embeds corpus
# passages at 14 per second, 8,192 (sixteen 512-token passages) at 10 (both measured, fp32).
_MAX_BATCH_TOKENS = 1024


@dataclass(frozen=True)
class StModelInfo:
    """What the exporter and the runtime need from a sentence-transformers directory."""

    path: Path
    pooling: Literal["mean", "cls"]
    normalize: bool
    max_length: int
    prompts: dict[str, str]
    pad_id: int


def read_st_model(path: Path) -> StModelInfo:
    """Reads the module layout of a sentence-transformers directory; refuses what we cannot export."""
    try:
        modules = json.loads((path / "modules.json").read_text(encoding="utf-8"))
        types = [m["type"].rsplit(".", 1)[-1] for m in modules]
        if types[:2] != ["Transformer", "Pooling"] or any(t != "Normalize" for t in types[2:]):
            raise ModelError(f"cannot export {path} to ONNX: modules {types} (needs Transformer, Pooling)")
        pool_dir = next(m["path"] for m in modules if m["type"].endswith("Pooling"))
        pool = json.loads((path / pool_dir / "config.json").read_text(encoding="utf-8"))
        # sentence-transformers 6 writes "pooling_mode"; earlier releases one flag per mode.
        mode = pool.get("pooling_mode")
        if mode == "mean" or (mode is None and pool.get("pooling_mode_mean_tokens")):
            pooling: Literal["mean", "cls"] = "mean"
        elif mode == "cls" or (mode is None and pool.get("pooling_mode_cls_token")):
            pooling = "cls"
        else:
            raise ModelError(f"cannot export {path} to ONNX: only mean or CLS pooling is supported")
        st_cfg = _read_json(path / "sentence_bert_config.json")
        prompts = _read_json(path / "config_sentence_transformers.json").get("prompts") or {}
        model_cfg = _read_json(path / "config.json")
    except (OSError, ValueError, KeyError, StopIteration) as exc:
        raise ModelError(f"cannot read the sentence-transformers model at {path}: {exc}") from exc
    max_len = int(st_cfg.get("max_seq_length") or 512)
    max_len = min(max_len, int(model_cfg.get("max_position_embeddings") or max_len))
    return StModelInfo(
        path=path,
        pooling=pooling,
        normalize="Normalize" in types,
        max_length=max_len,
        prompts={str(k): str(v) for k, v in prompts.items()},
        pad_id=int(model_cfg.get("pad_token_id") or 0),
    )


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


# --------------------------------------------------------------------------- export


def _source_fingerprint(src: Path) -> str:
    """Cheap identity of the source model: names, sizes and mtimes of its files."""
    h = hashlib.sha256()
    for p in sorted(src.rglob("*")):
        if p.is_file() and not p.name.startswith("."):
            st = p.stat()
            h.update(f"{p.relative_to(src).as_posix()}\0{st.st_size}\0{int(st.st_mtime)}\n".encode())
    return h.hexdigest()[:24]


def _export_fp32(info: StModelInfo, out: Path) -> None:
    import torch
    from transformers import AutoModel

    kwargs: dict[str, Any] = {}
    if _read_json(info.path / "config.json").get("model_type") == "bert":
        kwargs["add_pooling_layer"] = False  # the converted checkpoint has no pooler
    encoder = AutoModel.from_pretrained(str(info.path), local_files_only=True, **kwargs).float().eval()

    class Pooled(torch.nn.Module):
        """Encoder + pooling + normalisation: what sentence-transformers' encode returns."""

        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.encoder(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=torch.zeros_like(input_ids),
            ).last_hidden_state
            if info.pooling == "cls":
                pooled = hidden[:, 0]
            else:
                mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            if info.normalize:
                pooled = torch.nn.functional.normalize(pooled, p=2.0, dim=1)
            return pooled

    pad = info.pad_id
    ids = torch.tensor([[2, 3, 4, 5, 2], [2, 3, 2, pad, pad]], dtype=torch.long)
    mask = (ids != pad).long()
    # The tracer warns about shape-dependent Python branches in transformers' mask helpers; they
    # take the same branch for every input we feed (padding mask given, not causal).
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Pooled().eval(),
            (ids, mask),
            str(out),
            input_names=["input_ids", "attention_mask"],
            output_names=["embedding"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "seq"},
                "attention_mask": {0: "batch", 1: "seq"},
                "embedding": {0: "batch"},
            },
            opset_version=_OPSET,
            dynamo=False,  # the TorchScript exporter needs no extra packages and handles BERT well
        )


def _quantize_int8(src: Path, out: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.getLogger().setLevel(max(logging.getLogger().level, logging.ERROR))  # "consider pre-processing"

    # Per-channel int8 weights keep the vectors closest to fp32 (per-tensor: min cosine 0.98 on
    # the agreement texts, per-channel 0.994). reduce_range (7-bit weights) avoids the int16
    # saturation of AVX2 kernels without VNNI and measured slightly closer still. Activations are
    # quantised per run (dynamic), so no calibration data is needed.
    quantize_dynamic(str(src), str(out), weight_type=QuantType.QInt8, per_channel=True, reduce_range=True)


def onnx_dir(cache_dir: Path, info: StModelInfo) -> Path:
    slug = hashlib.sha256(str(info.path.resolve()).encode()).hexdigest()[:10]
    return Path(cache_dir) / f"onnx-{info.path.name}-{slug}"


def _is_valid(target: Path, fingerprint: str) -> bool:
    try:
        marker = json.loads((target / MARKER_FILE).read_text(encoding="utf-8"))
        if marker.get("export_version") != EXPORT_VERSION or marker.get("source") != fingerprint:
            return False
        return all((target / name).stat().st_size == size for name, size in marker["files"].items())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


@contextlib.contextmanager
def _lock(cache_dir: Path) -> Iterator[None]:
    """Serialise exports between processes sharing one cache dir (workers starting together)."""
    import fcntl

    with open(cache_dir / ".onnx.lock", "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_onnx_model(info: StModelInfo, cache_dir: Path, variant: Variant) -> Path:
    """Path of the ONNX file for ``variant``, exporting (and quantising) on first use."""
    if variant not in VARIANTS:
        raise ModelError(f"unknown ONNX variant {variant!r}; choose one of {VARIANTS}")
    cache_dir = Path(cache_dir).expanduser()
    target = onnx_dir(cache_dir, info)
    fingerprint = _source_fingerprint(info.path)
    if _is_valid(target, fingerprint):
        return target / f"model-{variant}.onnx"
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with _lock(cache_dir):
            if not _is_valid(target, fingerprint):  # another process may have finished meanwhile
                _build(info, cache_dir, target, fingerprint)
    except ModelError:
        raise
    except Exception as exc:  # exporters raise many unrelated types; all mean "no ONNX model"
        raise ModelError(
            f"could not export {info.path} to ONNX in {target}: {type(exc).__name__}: {exc}. "
            "Check the model cache dir is writable, or set PLANQA_EMBEDDING_BACKEND=torch."
        ) from exc
    return target / f"model-{variant}.onnx"


def _build(info: StModelInfo, cache_dir: Path, target: Path, fingerprint: str) -> None:
    for p in cache_dir.iterdir():  # under the lock, so leftovers belong to an interrupted run
        if p.is_dir() and p.name.startswith((_TMP_PREFIX, _OLD_PREFIX)):
            shutil.rmtree(p, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=_TMP_PREFIX, dir=cache_dir))
    try:
        _export_fp32(info, tmp / "model-fp32.onnx")
        _quantize_int8(tmp / "model-fp32.onnx", tmp / "model-int8.onnx")
        files = {p.name: p.stat().st_size for p in sorted(tmp.iterdir()) if p.is_file()}
        marker = {"export_version": EXPORT_VERSION, "source": fingerprint, "opset": _OPSET, "files": files}
        (tmp / MARKER_FILE).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
        os.chmod(tmp, 0o755)  # mkdtemp makes 0700; the service may run as another user
        for p in tmp.iterdir():
            os.chmod(p, 0o644)
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=_OLD_PREFIX, dir=cache_dir))
            os.replace(target, old / "model")
            shutil.rmtree(old, ignore_errors=True)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------- runtime


class OnnxEmbedder:
    """Embedder over an exported model; ``model_id`` is the torch model's for fp32, its own for int8."""

    def __init__(self, session: Any, tokenizer: Any, info: StModelInfo, model_id: str, dim: int) -> None:
        self.model_id = model_id
        self.dim = dim
        self._session = session
        self._tokenizer = tokenizer
        self._info = info

    def _prefix(self, kind: str) -> str:
        names = ("query",) if kind == "query" else ("passage", "document")
        return next((self._info.prompts[n] for n in names if n in self._info.prompts), "")

    def embed(self, texts: Sequence[str], kind: Literal["query", "passage"] = "passage") -> np.ndarray:
        from indexer.embed import _check_input, _unit_rows

        items = _check_input(texts, kind)
        out = np.zeros((len(items), self.dim), dtype=np.float32)
        if not items:
            return out
        prefix = self._prefix(kind)
        encs = self._tokenizer.encode_batch([prefix + t for t in items])
        lengths = np.array([len(e.ids) for e in encs])
        # Similar lengths run together, so little of each batch is padding.
        order = np.argsort(-lengths, kind="stable")
        start = 0
        while start < len(order):
            longest = int(lengths[order[start]])
            n = max(1, min(len(order) - start, _MAX_BATCH_TOKENS // max(1, longest)))
            rows = order[start : start + n]
            ids = np.full((len(rows), longest), self._info.pad_id, dtype=np.int64)
            mask = np.zeros((len(rows), longest), dtype=np.int64)
            for j, r in enumerate(rows):
                seq = encs[int(r)].ids
                ids[j, : len(seq)] = seq
                mask[j, : len(seq)] = 1
            (vecs,) = self._session.run(None, {"input_ids": ids, "attention_mask": mask})
            out[rows] = vecs
            start += n
        return _unit_rows(out, self.dim)


def load_onnx_embedder(
    model_dir: Path, cache_dir: Path, variant: Variant, model_id: str, threads: int
) -> OnnxEmbedder:
    """Exports on first use, then opens an ONNX Runtime session with ``threads`` intra-op threads."""
    info = read_st_model(model_dir)
    path = ensure_onnx_model(info, cache_dir, variant)
    try:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, threads)
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle pool threads spinning for work steal the cores the request threads need.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=info.max_length)
        dim = int(session.run(None, _PROBE)[0].shape[-1])
    except ImportError as exc:
        raise ModelError(
            f"PLANQA_EMBEDDING_BACKEND=onnx needs onnxruntime ({exc}); install it or use the torch backend"
        ) from exc
    except Exception as exc:  # a damaged file or a runtime mismatch: same fix
        raise ModelError(
            f"cannot open the ONNX model {path}: {type(exc).__name__}: {exc}. "
            "Delete that directory so it is exported again, or set PLANQA_EMBEDDING_BACKEND=torch."
        ) from exc
    return OnnxEmbedder(session, tokenizer, info, model_id, dim)


_PROBE = {
    "input_ids": np.array([[0, 10, 2]], dtype=np.int64),
    "attention_mask": np.ones((1, 3), dtype=np.int64),
}
