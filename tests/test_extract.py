"""Extraction and the generic structure parser on one file of each accepted format, and bad input."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import docs_factory as f
import pytest

from indexer.errors import (
    DocumentTooLarge,
    EmptyDocument,
    NoTextLayer,
    UnsafeArchive,
    UnsupportedFormat,
    UnsupportedLanguage,
)
from indexer.extract import decode_text, extract
from indexer.metadata import build_meta, kind_from_title, sha256_hex
from indexer.records import ParsedDocument
from indexer.structure import parse_structure


def parse(path: Path, doc_id: str = "doc", **fields: str) -> ParsedDocument:
    data = path.read_bytes()
    ex = extract(path.name, data)
    meta = build_meta(doc_id, path.name, data, ex, **fields)
    doc, _ = parse_structure(meta, ex.text, ex.reflow)
    for p in doc.passages:
        assert doc.text[p.start : p.end] == p.text
    return doc


def by_text(doc: ParsedDocument, start: str):  # type: ignore[no-untyped-def]
    return next(p for p in doc.passages if p.text.startswith(start))


def test_pdf_outline_headings_repairs_and_metadata(tmp_path: Path) -> None:
    doc = parse(f.make_pdf(tmp_path / "plan.pdf"), "straw")
    m = doc.meta
    assert (m.title, m.kind, m.format) == (f.PLAN_TITLE, "plan", "pdf")
    assert m.sha256 == sha256_hex((tmp_path / "plan.pdf").read_bytes())
    # A paragraph wrapped over three layout lines comes out whole, under its heading path.
    p = by_text(doc, "坚持农用优先")
    assert p.text.endswith("持续改善农村生态环境质量。")
    assert p.section == ("一、总体要求", "（一）指导思想")
    # Stray spaces around numbers are gone.
    assert by_text(doc, "到2025年").text.startswith("到2025年，全市秸秆综合利用率稳定在97%以上")
    assert by_text(doc, "在永清县").section == ("二、重点任务", "（一）推进秸秆肥料化利用", "1.推广秸秆还田")
    assert by_text(doc, "每个乡镇").section[-2:] == ("2.建设收储体系", "（1）乡镇收储站")
    box = by_text(doc, "收储工程：")
    assert box.kind == "box_item" and box.section == ("二、重点任务", "专栏 1 秸秆利用重点工程")
    assert by_text(doc, "各县（市、区）秸秆").section == ("附件",)
    # Running header and page numbers are not text.
    assert f.PDF_HEADER not in doc.text and "- 2 -" not in doc.text
    assert by_text(doc, "为加快推进").section == (f.PLAN_TITLE,)


def test_docx_articles_chapters_and_table(tmp_path: Path) -> None:
    doc = parse(f.make_docx(tmp_path / "dust.docx"), "dust")
    assert (doc.meta.title, doc.meta.kind, doc.meta.format) == (f.MEASURES_TITLE, "measures", "docx")
    ids = [p.id for p in doc.passages]
    assert ids == ["dust:a1", "dust:a2", "dust:a3", "dust:a4", "dust:a5"]
    a3 = doc.passages[2]
    assert a3.section == ("第二章 防治措施", "第三条") and a3.kind == "article"
    # Enumerations inside an article stay in it; they are not headings.
    assert "（一）施工工地周边设置不低于2.5米的硬质围挡；" in a3.text
    assert [h.title for h in doc.headings if h.level == 1] == [
        "第一章 总则",
        "第二章 防治措施",
        "第三章 法律责任",
    ]
    assert "未设置围挡\t一万元至十万元" in doc.passages[4].text


def test_markdown_headings_and_salutation(tmp_path: Path) -> None:
    doc = parse(f.make_md(tmp_path / "ozone.md"), "ozone")
    assert (doc.meta.title, doc.meta.kind, doc.meta.format) == (f.NOTICE_TITLE, "notice", "md")
    assert by_text(doc, "各县（市、区）生态环境分局：").section == (f.NOTICE_TITLE,)
    assert by_text(doc, "涂装、印刷").section == ("二、重点措施", "（一）加强VOCs源头治理")
    assert by_text(doc, "石化、化工").section == ("二、重点措施", "（二）错峰生产")


@pytest.mark.parametrize("encoding", ["gb18030", "gbk", "utf-8", "utf-8-sig"])
def test_plain_text_in_chinese_encodings(tmp_path: Path, encoding: str) -> None:
    doc = parse(f.make_txt(tmp_path / "waste.txt", encoding), "waste")
    assert (doc.meta.title, doc.meta.kind, doc.meta.format) == (f.TXT_TITLE, "plan", "txt")
    p = by_text(doc, "到2027年")
    assert (
        p.text
        == "到2027年，全市一般工业固体废物综合利用率达到85%以上，危险废物利用处置能力与产废情况总体匹配。"
    )
    assert p.section == ("一、发展目标",)
    assert by_text(doc, "建立危险废物").section == ("二、主要任务", "（一）强化危险废物监管")


def test_given_title_and_kind_win(tmp_path: Path) -> None:
    doc = parse(f.make_md(tmp_path / "n.md"), title="臭氧防控通知", kind="other", issuer="廊坊市生态环境局")
    assert (doc.meta.title, doc.meta.kind, doc.meta.issuer) == ("臭氧防控通知", "other", "廊坊市生态环境局")


def test_kind_from_title() -> None:
    assert kind_from_title("中华人民共和国大气污染防治法") == "law"
    assert kind_from_title("廊坊市大气污染防治条例") == "regulation"
    assert kind_from_title("廊坊市“十四五”生态环境保护规划") == "plan"
    assert kind_from_title("排污许可管理办法") == "measures"
    assert kind_from_title("环境空气质量标准") == "standard"
    assert kind_from_title("关于开展秋冬季攻坚的通知") == "notice"
    assert kind_from_title("工作要点") == "other"
    assert kind_from_title("中华人民共和国民法典") == "law"
    assert kind_from_title("中华人民共和国刑法修正案（十一）") == "law"
    assert kind_from_title("人民检察院刑事诉讼规则（试行）") == "regulation"


def test_gbk_detection_does_not_need_a_hint() -> None:
    assert decode_text("第一条 为了保护环境".encode("gbk")) == "第一条 为了保护环境"
    assert decode_text("环境".encode("utf-16")) == "环境"
    assert decode_text("环境".encode("gbk")) == "环境"
    traditional = "第一條 為保護和改善環境，防治污染和其他公害，保障公眾健康，制定本法。"
    assert decode_text(traditional.encode("big5")) == traditional


# ---- bad input: each a clear refusal -------------------------------------------------------


def test_unsupported_extension_and_content(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedFormat, match=r"unsupported file type '\.xlsx'") as exc:
        extract("table.xlsx", b"PK\x03\x04....")
    assert ".docx" in exc.value.allowed
    with pytest.raises(UnsupportedFormat, match="not a PDF"):
        extract("fake.pdf", "第一条 这是文本".encode())
    with pytest.raises(UnsupportedFormat, match="not a DOCX"):
        extract("fake.docx", "第一条 这是文本".encode())
    with pytest.raises(UnsupportedFormat, match=r"legacy \.doc"):
        extract("old.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    with pytest.raises(UnsupportedFormat, match="binary document"):
        extract("x.txt", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj")


def test_empty_files() -> None:
    with pytest.raises(EmptyDocument, match="is empty"):
        extract("a.txt", b"")
    with pytest.raises(EmptyDocument, match="is empty"):
        extract("a.md", b"  \n\n ")
    with pytest.raises(EmptyDocument, match="no words"):
        extract("a.txt", b"1234 5678 ---")


def test_scanned_pdf_without_text_layer(tmp_path: Path) -> None:
    with pytest.raises(NoTextLayer, match="no text layer; OCR is not supported"):
        extract("scan.pdf", f.make_pdf(tmp_path / "scan.pdf", text=False).read_bytes())


def test_zip_bomb_docx_is_refused_before_parsing(tmp_path: Path) -> None:
    real = f.make_docx(tmp_path / "real.docx").read_bytes()
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(real)) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        dst.writestr("word/media/padding.bin", b"\0" * (20 * 2**20))  # 20 MB of zeros, ~20 KB packed
    with pytest.raises(UnsafeArchive, match="zip bomb"):
        extract("bomb.docx", buf.getvalue())


def test_language_other_than_chinese_or_english() -> None:
    with pytest.raises(UnsupportedLanguage, match="neither Chinese nor English"):
        extract("ru.txt", "Статья 1. Настоящий закон регулирует охрану окружающей среды.".encode())
    with pytest.raises(UnsupportedLanguage):
        extract("ja.txt", "第一条　この法律は、環境の保全について、基本理念を定めるものである。".encode())
    with pytest.raises(UnsupportedLanguage):
        extract("fr.txt", b"Article premier. La presente loi vise la protection de nos rivieres.")
    english = extract("en.txt", b"Article 1. This law is formulated for the protection of the environment.")
    assert english.format == "txt"


def test_over_the_size_limit() -> None:
    with pytest.raises(DocumentTooLarge, match=r"limit is 0\.0 MB|PLANQA_MAX_UPLOAD_BYTES"):
        extract("big.txt", "环境".encode() * 1000, max_bytes=1000)


def test_a_law_as_pdf_parses_like_its_markdown(tmp_path: Path) -> None:
    """The same articles, ids and heading paths whether a law comes as Markdown or as a laid-out PDF."""
    from indexer.settings import REPO_ROOT

    src = REPO_ROOT / "corpus" / "laws" / "water-law.md"
    md = extract(src.name, src.read_bytes())
    lines = [line.lstrip("#").strip() for line in md.text.split("\n") if line.strip()]
    end = next(i for i, line in enumerate(lines) if line.startswith("第三章"))
    pdf = f.make_pdf(tmp_path / "water.pdf", [md.title, *lines[:end]])
    from_md = [
        p
        for p in parse(src, "w").passages
        if not p.section[0].startswith(("第三", "第四", "第五", "第六", "第七", "第八"))
    ]
    from_pdf = parse(pdf, "w").passages

    def squash(text: str) -> str:
        return "".join(text.split())

    assert len(from_pdf) == len(from_md) >= 20
    for a, b in zip(from_md, from_pdf, strict=True):
        assert (b.id, b.section, squash(b.text)) == (a.id, a.section, squash(a.text))


def test_wrapped_line_that_begins_like_an_article_continues_its_sentence() -> None:
    text = (
        "第一条 为了保护环境，制定本办法。\n第二条 违反本办法规定的，依照本办法\n"
        "第五条规定的程序处理。\n第三条 本办法自发布之日起施行。\n"
    )
    meta = build_meta("m", "m.txt", text.encode(), extract("m.txt", text.encode()))
    doc, _ = parse_structure(meta, text, reflow=True)
    assert [p.id for p in doc.passages] == ["m:a1", "m:a2", "m:a3"]
    assert doc.passages[1].text == "第二条 违反本办法规定的，依照本办法第五条规定的程序处理。"


def test_plain_text_salutation_stays_its_own_paragraph() -> None:
    text = "关于开展秋冬季大气污染防治的通知\n\n各县（市、区）人民政府：\n为做好秋冬季大气污染防治工作，\n现通知如下。\n"
    ex = extract("n.txt", text.encode())
    doc, _ = parse_structure(build_meta("n", "n.txt", text.encode(), ex), ex.text, ex.reflow)
    assert [p.text for p in doc.passages] == [
        "各县（市、区）人民政府：",
        "为做好秋冬季大气污染防治工作，现通知如下。",
    ]
    assert doc.meta.kind == "notice"


@pytest.mark.parametrize(
    "text",
    [
        "大气污染防治法",
        "ＡＢＣ日本語のテキスト한국어 abc ①② 3.5",
        "The river basin plan 流域",
        "",
        "12 …",
        "𠀀𠀁丛",
    ],
)
def test_letter_counts_weigh_each_distinct_character_as_counting_them_one_by_one(text: str) -> None:
    from indexer.extract import _letter_counts

    letters = [ch for ch in text if ch.isalpha()]
    han = sum("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in letters)
    kana = sum("\u3040" <= ch <= "\u30ff" or "\uac00" <= ch <= "\ud7af" for ch in letters)
    assert _letter_counts(text) == (len(letters), han, kana, sum(ch.isascii() for ch in letters))
