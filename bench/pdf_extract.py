"""pypdf against pdfplumber on a generated Chinese PDF: speed and recovered text.

Builds a PDF of the plan's prose (about 31k characters, 21 pages, WenQuanYi Micro Hei via fpdf2),
extracts it with both libraries and compares the characters (whitespace ignored) with the
source. Prints a Markdown table; `python bench/pdf_extract.py > bench/results/pdf_extract.md`.
"""

from __future__ import annotations

import difflib
import io
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def make_pdf() -> tuple[bytes, str]:
    from docs_factory import cjk_font
    from fpdf import FPDF

    raw = (ROOT / "corpus" / "langfang-14th-fyp-eco-plan.txt").read_text(encoding="utf-8")
    paras = [line.strip() for line in raw.split("\n") if line.strip() and "\t" not in line]
    pdf = FPDF()
    pdf.add_font("cjk", fname=str(cjk_font()))
    pdf.set_font("cjk", size=11)
    pdf.add_page()
    for p in paras:
        pdf.multi_cell(0, 7, p, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output()), "".join(paras)


def with_pypdf(data: bytes) -> str:
    import pypdf

    return "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def with_pdfplumber(data: bytes) -> str:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def main() -> None:
    data, source = make_pdf()
    want = re.sub(r"\s", "", source)
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print("# PDF text extraction: pypdf vs pdfplumber\n")
    machine = f"{platform.machine()}, {len(os.sched_getaffinity(0))} CPUs, Python {platform.python_version()}"
    print(f"Machine: {machine}; `{uptime}`\n")
    print(f"Input: {len(data) // 1024} KB PDF, {len(want)} characters of Chinese prose.\n")
    print("| library | seconds (best of 3) | characters out | similarity to source | exact |")
    print("|---|---|---|---|---|")
    for name, fn in (("pypdf", with_pypdf), ("pdfplumber", with_pdfplumber)):
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            text = fn(data)
            times.append(time.perf_counter() - t0)
        got = re.sub(r"\s", "", text)
        ratio = difflib.SequenceMatcher(None, got, want, autojunk=False).ratio()
        print(f"| {name} | {min(times):.2f} | {len(got)} | {ratio:.4f} | {got == want} |")


if __name__ == "__main__":
    main()
