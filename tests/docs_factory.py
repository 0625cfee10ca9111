"""Builds test documents in the four accepted formats, with the libraries a bureau's files come from.

Each has Chinese official-document structure: a 实施方案 as PDF (一、/（一）/1./（1）, 专栏, 附件,
running header and page-number footer, lines wrapped by the layout), a 办法 as DOCX (Word
heading styles, 第X章 / 第X条, a table), a 通知 as Markdown and a 规划 as GB18030 plain text.
"""

from __future__ import annotations

from pathlib import Path

CJK_FONTS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
)

PLAN_TITLE = "廊坊市秸秆综合利用实施方案"
PLAN_LINES = [
    "为加快推进秸秆综合利用，减少秸秆露天焚烧带来的大气污染，结合本市实际，制定本方案。",
    "一、总体要求",
    "（一）指导思想",
    "坚持农用优先、多元利用，以就地就近利用为主，统筹推进秸秆肥料化、饲料化、燃料化、基料化和原料化利用，"
    "构建政府引导、市场运作、农民参与的秸秆综合利用长效机制，持续改善农村生态环境质量。",
    "（二）主要目标",
    "到 2025 年，全市秸秆综合利用率稳定在 97% 以上，秸秆露天焚烧火点数量持续保持为零。",
    "二、重点任务",
    "（一）推进秸秆肥料化利用",
    "1.推广秸秆还田",
    "在永清县、固安县开展秸秆深翻还田试点，每年还田面积不少于20万亩，并对实施还田作业的农机服务组织给予作业补贴。",
    "2.建设收储体系",
    "（1）乡镇收储站",
    "每个乡镇建设1个标准化秸秆收储站，收储能力不低于3000吨。",
    "专栏 1 秸秆利用重点工程",
    "还田工程：实施秸秆机械化还田50万亩。收储工程：新建标准化收储站30个。",
    "附件",
    "各县（市、区）秸秆综合利用工作由农业农村部门牵头，生态环境部门配合开展露天焚烧巡查。",
]
PDF_HEADER = "廊坊市人民政府办公室文件"

MEASURES_TITLE = "廊坊市建筑工地扬尘污染防治办法"
NOTICE_TITLE = "关于做好2025年夏季臭氧污染防控工作的通知"
TXT_TITLE = "廊坊市固体废物污染防治规划"


def cjk_font() -> Path:
    for path in CJK_FONTS:
        if path.is_file():
            return path
    raise RuntimeError(
        "no CJK font for the test PDF: install fonts-wqy-microhei (`make browser-deps` does, as root)"
    )


def make_pdf(path: Path, lines: list[str] | None = None, text: bool = True) -> Path:
    """A three-page PDF with a running header and "- n -" page numbers; ``text=False`` draws only shapes."""
    from fpdf import FPDF

    class Doc(FPDF):
        def header(self) -> None:
            if text:
                self.set_font("cjk", size=9)
                self.cell(0, 8, PDF_HEADER, align="C", new_x="LMARGIN", new_y="NEXT")

        def footer(self) -> None:
            if text:
                self.set_y(-15)
                self.set_font("cjk", size=9)
                self.cell(0, 8, f"- {self.page_no()} -", align="C")

    pdf = Doc()
    pdf.add_font("cjk", fname=str(cjk_font()))
    pdf.set_auto_page_break(True, margin=20)
    body = [PLAN_TITLE, *PLAN_LINES] if lines is None else lines
    pdf.add_page()
    if not text:
        for _ in range(3):
            pdf.rect(20, 20, 100, 60, style="F")  # a scanned page: pixels, no text
            pdf.add_page()
        pdf.output(str(path))
        return path
    pdf.set_font("cjk", size=12)
    for i, line in enumerate(body):
        if line.startswith("二、") or line.startswith("专栏"):
            pdf.add_page()  # three pages, so the header and footer repeat
        pdf.multi_cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
        if i == 0:
            pdf.ln(4)
    pdf.output(str(path))
    return path


def make_docx(path: Path) -> Path:
    import docx

    d = docx.Document()
    d.add_paragraph(MEASURES_TITLE, style="Title")
    d.add_paragraph("第一章 总则", style="Heading 1")
    d.add_paragraph("第一条 为了防治建筑工地扬尘污染，保护和改善大气环境，根据有关法律法规，制定本办法。")
    d.add_paragraph("第二条 本办法适用于本市行政区域内房屋建筑、市政基础设施等工地的扬尘污染防治。")
    d.add_paragraph("第二章 防治措施", style="Heading 1")
    d.add_paragraph("第三条 施工单位应当遵守下列规定：")
    d.add_paragraph("（一）施工工地周边设置不低于2.5米的硬质围挡；")
    d.add_paragraph("（二）裸露地面、土方堆放采用防尘网全部覆盖。")
    d.add_paragraph("第四条 重污染天气预警期间，工地应当停止土石方作业和拆除作业。")
    d.add_paragraph("第三章 法律责任", style="Heading 1")
    d.add_paragraph(
        "第五条 违反本办法第三条规定的，由住房城乡建设部门责令改正，处一万元以上十万元以下的罚款。"
    )
    table = d.add_table(rows=3, cols=2)
    for r, (a, b) in enumerate(
        [("违法行为", "罚款"), ("未设置围挡", "一万元至十万元"), ("未覆盖", "一万元至五万元")]
    ):
        table.cell(r, 0).text = a
        table.cell(r, 1).text = b
    d.save(str(path))
    return path


NOTICE_MD = f"""# {NOTICE_TITLE}

各县（市、区）生态环境分局：

为有效应对夏季臭氧污染，现将有关事项通知如下。

## 一、工作目标

6月至9月全市臭氧超标天数较上年减少3天以上。

## 二、重点措施

### （一）加强VOCs源头治理

涂装、印刷、家具制造企业全面使用低VOCs含量原辅材料，7月1日前完成替代。

### （二）错峰生产

石化、化工企业的检维修作业安排在夜间进行，避开午后臭氧高值时段。
"""

TXT_PLAN = f"""{TXT_TITLE}

为提升固体废物污染防治水平，推进无废城市建设，
制定本规划。

一、发展目标

到2027年，全市一般工业固体废物综合利用率达到
85%以上，危险废物利用处置能力与产废情况总体匹配。

二、主要任务

（一）强化危险废物监管

建立危险废物产生单位清单，重点单位全部纳入信息化
管理平台，实现转移联单电子化。
"""


def make_md(path: Path) -> Path:
    path.write_text(NOTICE_MD, encoding="utf-8")
    return path


def make_txt(path: Path, encoding: str = "gb18030") -> Path:
    path.write_bytes(TXT_PLAN.encode(encoding))
    return path
