"""The domain vocabulary: counties, zones, sectors and everyday wording, checked against the corpus."""

from __future__ import annotations

import re
import tomllib
from importlib import resources

import pytest

from indexer.corpus import Corpus
from indexer.errors import NotFound
from indexer.tokenize import normalise
from service.vocab import (
    expand_query,
    find_counties,
    load_vocab,
    lookup_county,
    lookup_sector,
    lookup_zone,
    parse_vocab,
    resolve_county,
    resolve_sector,
    resolve_zone,
)

ZONES = {
    "北部协同发展区": ["三河市", "大厂回族自治县", "香河县"],
    "中部发展引领区": ["广阳区", "安次区", "廊坊开发区", "固安县", "永清县"],
    "南部优化发展区": ["霸州市", "文安县", "大城县"],
}

ALIASES = [
    ("三河市", "三河市"),
    ("三河", "三河市"),
    ("大厂回族自治县", "大厂回族自治县"),
    ("大厂", "大厂回族自治县"),
    ("大厂县", "大厂回族自治县"),
    ("香河县", "香河县"),
    ("香河", "香河县"),
    ("广阳区", "广阳区"),
    ("广阳", "广阳区"),
    ("安次区", "安次区"),
    ("安次", "安次区"),
    ("廊坊开发区", "廊坊开发区"),
    ("开发区", "廊坊开发区"),
    ("廊坊经济技术开发区", "廊坊开发区"),
    ("经开区", "廊坊开发区"),
    ("固安县", "固安县"),
    ("固安", "固安县"),
    ("永清县", "永清县"),
    ("永清", "永清县"),
    ("霸州市", "霸州市"),
    ("霸州", "霸州市"),
    ("文安县", "文安县"),
    ("文安", "文安县"),
    ("大城县", "大城县"),
    ("大城", "大城县"),
]

REQUIRED_SECTORS = [
    "化工", "涂装", "印刷", "家具", "电镀", "钢铁", "水泥", "玻璃", "陶瓷", "畜禽养殖", "医疗机构",
    "危险废物", "建筑施工", "餐饮", "加油站", "柴油货车", "非道路移动机械", "燃煤锅炉", "垃圾处理",
    "放射源", "化学品", "农业种植", "污水处理厂", "工业园区",
]  # fmt: skip


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", normalise(text))


@pytest.fixture(scope="module")
def corpus_text(corpus: Corpus) -> dict[str, str]:
    return {d.meta.id: _flat(d.text) for d in corpus.documents}


def test_zones_and_counties_follow_the_plan(corpus: Corpus) -> None:
    v = load_vocab()
    assert [c.name for c in v.counties] == [c for cs in ZONES.values() for c in cs]
    assert {z.name: list(z.counties) for z in v.zones} == ZONES
    plan = next(d for d in corpus.documents if d.meta.kind == "plan").text
    # The plan lists each zone's counties right after the zone's name, in this order.
    for zone, counties in ZONES.items():
        assert f"{zone}，" in plan
        listing = plan[plan.index(zone) :][:200]
        assert "覆盖" + "、".join(counties) in listing


@pytest.mark.parametrize(("alias", "county"), ALIASES)
def test_every_name_and_alias_resolves(alias: str, county: str) -> None:
    found = resolve_county(f"请问{alias}有哪些生态环境任务？")
    assert found is not None and found.name == county
    assert lookup_county(alias).name == county


@pytest.mark.parametrize(
    ("text", "county"),
    [
        ("大厂回族自治县的污水厂", "大厂回族自治县"),  # longest name wins over 大厂
        ("廊坊经济技术开发区的企业", "廊坊开发区"),
        ("我们厂在开发区", "廊坊开发区"),
        ("北京经济技术开发区的政策", None),  # 开发区 inside another name
        ("高新技术开发区", None),
        ("大城市的空气质量", None),  # an ordinary word, not 大城县
        ("巩固安全利用水平", None),
        ("香河和三河哪个目标高", "香河县"),  # first mention
        ("我在霸州开厂", "霸州市"),
    ],
)
def test_county_resolution_in_context(text: str, county: str | None) -> None:
    found = resolve_county(text)
    assert (found.name if found else None) == county


def test_passage_matching_ignores_the_loose_alias() -> None:
    assert find_counties("实施城市建成区、开发区裸露地面绿化", loose=False) == []
    assert [c.name for c in find_counties("三河、大厂、香河城镇污水厂", loose=False)] == [
        "三河市",
        "大厂回族自治县",
        "香河县",
    ]


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ("北三县要做什么", "北部协同发展区"),
        ("北部协同发展区的定位", "北部协同发展区"),
        ("中部发展引领区", "中部发展引领区"),
        ("南部优化发展区有哪些任务", "南部优化发展区"),
        ("三河市", None),  # a county does not name a zone
    ],
)
def test_zone_resolution(text: str, zone: str | None) -> None:
    found = resolve_zone(text)
    assert (found.name if found else None) == zone


def test_unknown_county_lists_close_matches() -> None:
    with pytest.raises(NotFound) as err:
        lookup_county("三和市")
    assert err.value.allowed == ["三河市"]
    with pytest.raises(NotFound) as err:
        lookup_county("石家庄")
    assert err.value.allowed == [c for cs in ZONES.values() for c in cs]


def test_unknown_zone_and_sector_raise_not_found() -> None:
    assert lookup_zone("北三县").name == "北部协同发展区"
    with pytest.raises(NotFound) as err:
        lookup_zone("西部")
    assert set(err.value.allowed) <= set(ZONES)
    with pytest.raises(NotFound) as err:
        lookup_sector("航天")
    names = {s.name for s in load_vocab().sectors}
    assert err.value.allowed and set(err.value.allowed) <= names


def test_required_sectors_exist() -> None:
    names = {s.name for s in load_vocab().sectors}
    assert set(REQUIRED_SECTORS) <= names


@pytest.mark.parametrize(
    ("text", "sector"),
    [
        ("我们是印刷厂，需要做什么", "印刷"),
        ("我家有个养猪场", "畜禽养殖"),
        ("村里的养鸡场", "畜禽养殖"),
        ("开饭店的要装什么设备", "餐饮"),
        ("我们是汽修厂，有喷漆房", "涂装"),
        ("诊所的针头怎么处理", "医疗机构"),
        ("物流公司的车队", "柴油货车"),
        ("工地上的挖掘机", "建筑施工"),  # first mention wins
        ("厂里有台燃气锅炉", "燃煤锅炉"),
        ("加油站油气回收", "加油站"),
        ("用X光机的牙科诊所", "放射源"),
        ("化工园区", "工业园区"),  # the longer name wins over 化工
        ("镀锌厂", "电镀"),
        ("种菜的大棚", "农业种植"),
        ("我们是做家具的，家具厂在香河", "家具"),
        ("今天天气不错", None),
    ],
)
def test_sector_from_everyday_phrasing(text: str, sector: str | None) -> None:
    found = resolve_sector(text)
    assert (found.name if found else None) == sector


def test_lookup_sector_accepts_synonyms_and_phrases() -> None:
    assert lookup_sector("养猪场").name == "畜禽养殖"
    assert lookup_sector("我们是印刷厂").name == "印刷"
    assert lookup_sector("餐饮").name == "餐饮"


def test_sector_laws_exist_and_concern_the_sector(corpus: Corpus, corpus_text: dict[str, str]) -> None:
    v = load_vocab()
    ids = {d.meta.id for d in corpus.documents}
    assert set(v.general_laws) <= ids
    for s in v.sectors:
        assert s.laws and set(s.laws) <= ids, s.name
        words = [_flat(w) for w in (*s.names, *s.plan_terms, *s.target_terms)]
        for law in s.specific_laws:
            assert any(w in corpus_text[law] for w in words), f"{law} never mentions {s.name}"
        if s.emitter:
            assert "pollutant-discharge-permit-regulations" in s.laws


def test_binding_laws_named_in_the_brief() -> None:
    v = load_vocab()
    assert "livestock-poultry-farming-pollution-regulations" in v.sector("畜禽养殖").laws
    assert "medical-waste-regulations" in v.sector("医疗机构").laws
    assert {"radioisotopes-radiation-devices-regulations", "radioactive-pollution-prevention-law"} <= set(
        v.sector("放射源").laws
    )
    assert "hazardous-chemicals-safety-regulations" in v.sector("化学品").laws
    assert "pollutant-discharge-permit-regulations" in v.sector("印刷").laws


def test_document_terms_occur_in_the_corpus(corpus_text: dict[str, str]) -> None:
    everything = "".join(corpus_text.values())
    v = load_vocab()
    assert 60 <= len(v.everyday) <= 150
    missing = [t for e in v.everyday for t in e.means if _flat(t) not in everything]
    sector_terms = [t for s in v.sectors for t in (*s.plan_terms, *s.target_terms, *s.related)]
    missing += [t for t in sector_terms if _flat(t) not in everything]
    assert missing == []


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("路边大货车冒黑烟谁来管", {"柴油货车", "重型柴油车", "高排放"}),
        ("地里烧麦秸被抓到怎么办", {"秸秆焚烧", "秸秆禁烧"}),
        ("小区旁边饭馆味道大", {"恶臭", "异味", "餐饮油烟"}),
        ("村东头的臭水沟有人管吗", {"黑臭水体"}),
        ("冬天雾霾严重", {"重污染天气", "PM2.5", "细颗粒物"}),
        ("楼下半夜施工太吵", {"噪声", "建筑施工", "扬尘"}),
        ("想在村里打机井", {"地下水", "自备水井"}),
        ("我们县种树有没有指标", {"造林绿化", "林木覆盖率"}),
        ("工厂减碳怎么做", {"二氧化碳", "碳达峰", "碳排放"}),
        ("大厂有啥新要求", {"大厂回族自治县", "北部协同发展区"}),
        ("北三县的生态定位", {"北部协同发展区", "三河市", "香河县"}),
        ("网上有人造谣说水厂出事了", {"编造、散布", "虚假信息"}),
        ("院子里堆的玉米秆能烧吗", {"秸秆"}),
        ("羊群跑进林子里啃了树苗", {"放牧", "毁苗", "幼林地"}),
        ("村里的井抽不上水了", {"地下水水位"}),
        ("卫生室用过的棉签往哪扔", {"医疗卫生机构", "医疗废物"}),
    ],
)
def test_expand_query_adds_document_terms(question: str, expected: set[str]) -> None:
    terms = expand_query(question)
    assert expected <= set(terms)
    assert len(terms) == len(set(terms))
    assert not [t for t in terms if normalise(t) in normalise(question)]


def test_expand_query_leaves_plain_document_wording_alone() -> None:
    assert expand_query("第四十三条的内容") == []


def test_vocab_file_is_checked_when_parsed() -> None:
    raw = tomllib.loads(resources.files("service").joinpath("data", "vocab.toml").read_text(encoding="utf-8"))
    assert parse_vocab(raw) == load_vocab()
    raw["counties"][1]["aliases"] = ["三河"]  # an alias of 三河市 given to 大厂
    with pytest.raises(ValueError, match="三河"):
        parse_vocab(raw)
    raw = tomllib.loads(resources.files("service").joinpath("data", "vocab.toml").read_text(encoding="utf-8"))
    raw["counties"][0]["zone"] = "东部"
    with pytest.raises(ValueError, match="东部"):
        parse_vocab(raw)


def test_everyday_index_finds_what_a_scan_of_the_table_finds() -> None:
    from service.analyze import _normalised_everyday

    vocab = load_vocab()
    index = _normalised_everyday(vocab)
    says = [normalise(s) for e in vocab.everyday for s in e.say]
    # Terms of every relation to the wordings: whole, a piece, a wording inside a longer term.
    probes = set(says) | {s[1:] for s in says if len(s) > 2} | {"我家" + s + "了" for s in says[::7]}
    probes |= {"排污许可", "臭", "x"}
    for term in sorted(probes):
        scanned = [
            k
            for k, e in enumerate(vocab.everyday)
            if any(s in term or term in s for s in map(normalise, e.say))
        ]
        assert index.entries(term) == scanned, term


def test_vocab_hash_is_stable_and_equal_vocabs_hash_alike() -> None:
    import dataclasses

    vocab = load_vocab()
    copy = dataclasses.replace(vocab)
    assert hash(vocab) == hash(vocab) == hash(copy) and vocab == copy
    assert hash(dataclasses.replace(vocab, ignore=(*vocab.ignore, "另一个词"))) != hash(vocab)
