"""A multi-part answer names first the passage the whole question rests on. Tiny corpus,
deterministic fake embedder, real bm25s and FAISS: the pipeline end to end, without the model."""

from __future__ import annotations

import pytest

from indexer.search import Searcher
from indexer.settings import Settings
from indexer.store import build_index, load_index
from service import wording
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
