"""Statutes a question names: a short form finds its document, a statute the corpus lacks is
declined by name. No model and no index."""

from __future__ import annotations

from indexer.records import Hit, Passage
from service import decide, wording
from service.analyze import abbreviated_doc, analyse

TITLES = {
    "epl": "中华人民共和国环境保护法",
    "tax": "中华人民共和国环境保护税法",
    "eia": "中华人民共和国环境影响评价法",
    "water": "中华人民共和国水法",
    "chem": "危险化学品安全管理条例",
}


def test_a_short_form_stands_for_the_shortest_title_it_abbreviates() -> None:
    assert abbreviated_doc("环评法", TITLES) == "eia"
    assert abbreviated_doc("环保法", TITLES) == "epl"  # not the longer 环境保护税法
    assert abbreviated_doc("环保税法", TITLES) == "tax"
    assert abbreviated_doc("危化品条例", TITLES) == "chem"
    assert abbreviated_doc("水土保持法", TITLES) is None


def test_a_statute_named_by_its_short_form_scopes_the_search() -> None:
    assert analyse("按环评法，没做环评就开工罚多少？", TITLES).doc_ids == ("eia",)
    assert analyse("按照环保法，企业要公开哪些信息？", TITLES).doc_ids == ("epl",)
    # Named in full, a title is found as before, and nothing else is added.
    assert analyse("按照环境保护税法，煤矸石交多少税？", TITLES).doc_ids == ("tax",)


def test_statutes_the_corpus_lacks_are_listed() -> None:
    q = analyse("按照水土保持法，修路要交水土保持补偿费吗？", TITLES)
    assert q.other_statutes == ("水土保持法",)
    assert analyse("《城镇排水与污水处理条例》规定排水许可证怎么办？", TITLES).other_statutes == (
        "城镇排水与污水处理条例",
    )
    assert analyse("根据河北省大气污染防治条例，烧烤罚多少？", TITLES).other_statutes == (
        "河北省大气污染防治条例",
    )
    for held in (
        "按照《水法》，设排污口会怎样？",
        "按环评法要做什么？",
        "按本法规定罚多少？",
        "按村里的办法行不行？",
    ):
        assert analyse(held, TITLES).other_statutes == (), held


def test_a_statute_the_corpus_lacks_is_declined_by_name() -> None:
    text = "第十七条 国家确定的重要江河、湖泊的流域综合规划，由国务院水行政主管部门编制。"
    hit = Hit(Passage("w:17", "water", ("第十七条",), text, 0, len(text)), 1.0, 1, TITLES["water"])
    q = analyse("按照水土保持法，修路要交水土保持补偿费吗？", TITLES)
    assert decide.screen(q, [hit], {"水土保持": 5.0}) == wording.unknown_statute("水土保持法")
    assert decide.screen(analyse("按照水法，流域规划由谁编制？", TITLES), [hit], {"流域": 4.0}) is None


def test_a_trade_in_the_scene_is_the_subject_only_when_its_rules_are_asked() -> None:
    assert analyse("我们是做家具喷漆的，有什么要求？", TITLES).asks_rules
    assert analyse("养猪场要注意什么？", TITLES).asks_rules
    # The trade named in the asking clause itself is the subject, whatever is asked about it.
    assert analyse("我想问问，加油站夏天能不能白天卸油？", TITLES).asks_rules
    # The trade only sets the scene; the question asks one specific thing.
    q = analyse("我家鱼塘的鱼被上游化工厂排的污水毒死了，我能找这家厂赔吗？", TITLES)
    assert q.sector is not None and not q.asks_rules
