"""A multi-part answer names first the passage the whole question rests on. Tiny corpus,
deterministic fake embedder, real bm25s and FAISS: the pipeline end to end, without the model."""

from __future__ import annotations

import pytest

from indexer.records import Hit
from indexer.search import Searcher
from indexer.settings import Settings
from indexer.store import build_index, load_index
from service import wording
from service.draft import Draft, Line, Piece
from service.pipeline import QA
from tests.fake_embed import FakeEmbedder
from tests.test_channels import tiny_corpus


@pytest.fixture(scope="module")
def qa(tmp_path_factory: pytest.TempPathFactory) -> QA:
    data = tmp_path_factory.mktemp("data")
    settings = Settings(corpus_dir=data / "corpus", data_dir=data)
    corpus, emb = tiny_corpus(), FakeEmbedder()
    build_index(settings, emb, corpus)
    return QA(corpus, Searcher(load_index(settings, emb.model_id, corpus), emb), targets=())


def test_a_multipart_answer_names_its_main_source_first(qa: QA) -> None:
    answer, q = qa.ask("医疗卫生机构要不要对医疗废物进行登记？登记资料至少保存几年？")
    assert len(q.parts) == 2
    main = answer.citations[0].hit.passage
    assert main.section[-1] == "第三条"
    assert answer.text.startswith(wording.main_source("测试污染防治条例", "第三条") + "[1]")
    assert "（1）" in answer.text and "（2）" in answer.text


def test_a_single_question_has_no_main_source_line(qa: QA) -> None:
    answer, q = qa.ask("医疗废物登记资料至少保存几年？")
    assert not q.parts
    assert not answer.text.startswith("主要依据")


def test_a_later_part_leaves_out_lines_an_earlier_part_quoted(
    qa: QA, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each part's draft quotes the same shared sentence plus one of its own; the shared one is
    # written once, under the first part.
    passages = qa.corpus.passages
    shared = Line("sentence", (Piece("共同的一句", Hit(passages[0], 1.0, 1), "。", "共同的一句"),))

    def draft_for(q, doc_ids, top_k):  # type: ignore[no-untyped-def]
        own_text = "第一部分的答复" if "登记" in q.question and "几年" not in q.question else "第二部分的答复"
        own = Line("sentence", (Piece(own_text, Hit(passages[1], 1.0, 1), "。", own_text),))
        return Draft((own, shared)), [Hit(passages[0], 1.0, 1)], None

    monkeypatch.setattr(qa, "_draft", draft_for)
    answer, q = qa.ask("医疗卫生机构要不要对医疗废物进行登记？登记资料至少保存几年？")
    assert len(q.parts) == 2
    assert answer.text.count("共同的一句") == 1
    assert "第一部分的答复" in answer.text and "第二部分的答复" in answer.text


def test_a_part_the_shared_scene_drowned_is_asked_alone(qa: QA, monkeypatch: pytest.MonkeyPatch) -> None:
    # With the scene, both parts find the passage the scene speaks of; the second part's own
    # words, asked alone, find the one that answers it.
    passages = qa.corpus.passages

    def line(text: str, at: int) -> Line:
        return Line("sentence", (Piece(text, Hit(passages[at], 1.0, 1), "。", text),))

    scopes: dict[str, object] = {}

    def draft_for(q, doc_ids, top_k):  # type: ignore[no-untyped-def]
        scopes[q.question] = doc_ids
        text = "场景里的条文" if q.question.startswith("我们签了协议，") else "基金的条文"
        return Draft((line(text, 0 if text == "场景里的条文" else 1),)), [Hit(passages[0], 1.0, 1)], None

    monkeypatch.setattr(qa, "_draft", draft_for)
    answer, q = qa.ask("我们签了协议，改造政府给钱吗？有没有专门的基金可以申请？")
    assert [p.own for p in q.parts][1:] == ["有没有专门的基金可以申请？"]
    assert "基金的条文" in answer.text and "见（1）" not in answer.text
    # Asked alone, the part stays inside the documents it found with the scene.
    assert scopes["有没有专门的基金可以申请？"] == [passages[0].doc_id]


def test_a_part_still_repeating_without_the_scene_is_asked_as_its_bare_clause(
    qa: QA, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The second part keeps the first clause's subject; with it, even asked without the scene,
    # it finds what answered the first part. Its own clause alone finds the one that answers it.
    passages = qa.corpus.passages

    def draft_for(q, doc_ids, top_k):  # type: ignore[no-untyped-def]
        own = q.question == "配额是免费分配还是花钱买"
        text = "分配的条文" if own else "定义的条文"
        line = Line("sentence", (Piece(text, Hit(passages[1 if own else 0], 1.0, 1), "。", text),))
        return Draft((line,)), [Hit(passages[0], 1.0, 1)], None

    monkeypatch.setattr(qa, "_draft", draft_for)
    answer, q = qa.ask("按照条例，一个单位配额相当于多少排放量？配额是免费分配还是花钱买？")
    assert len(q.parts) == 2 and q.parts[1].own != q.parts[1].label
    assert "分配的条文" in answer.text and "见（1）" not in answer.text


def test_passages_the_whole_question_finds_are_listed_after_the_parts(
    qa: QA, monkeypatch: pytest.MonkeyPatch
) -> None:
    passages = qa.corpus.passages
    whole_only = Hit(passages[-1], 1.0, 1)
    question = "我们开了家诊所。医疗废物要不要登记？医疗废物集中处置单位的登记资料至少要保存几年？"

    def draft_for(q, doc_ids, top_k):  # type: ignore[no-untyped-def]
        own = Line("sentence", (Piece(q.question, Hit(passages[0], 1.0, 1), "。", q.question),))
        found = [whole_only] if q.question == question else [Hit(passages[0], 1.0, 1)]
        return Draft((own,)), found, None

    monkeypatch.setattr(qa, "_draft", draft_for)
    answer, q = qa.ask(question)
    assert len(q.parts) == 2 and all(p.question != question for p in q.parts)
    assert whole_only.passage.id in [c.hit.passage.id for c in answer.citations]


@pytest.mark.parametrize(
    ("source", "declined"),
    [("养殖场的规模标准由省级人民政府确定。", True), ("存栏五百头以上的为规模养殖场。", False)],
)
def test_a_missing_value_left_to_other_rules_declines_the_question(
    qa: QA, monkeypatch: pytest.MonkeyPatch, source: str, declined: bool
) -> None:
    # One part is answered by a passage, the other asks for a count it does not give. When that
    # passage leaves the detail to other rules, the documents do not answer the question.
    passages = qa.corpus.passages
    missing = wording.missing_value("数量")

    def draft_for(q, doc_ids, top_k):  # type: ignore[no-untyped-def]
        line = Line("sentence", (Piece(source, Hit(passages[0], 1.0, 1), "。", source),))
        reason = missing if "多少头" in q.question else None
        return Draft((line,)), [Hit(passages[0], 1.0, 1)], reason

    monkeypatch.setattr(qa, "_draft", draft_for)
    answer, q = qa.ask("我养了两百头猪，这算不算规模养殖场？具体养多少头以上才算？")
    assert len(q.parts) == 2
    assert answer.abstained is declined
    if declined:
        assert answer.text == wording.ABSTAIN + wording.deferred(missing)
        assert answer.related and not answer.citations
