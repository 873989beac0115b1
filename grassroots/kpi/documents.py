"""The yearly report as files: DOCX (python-docx), XLSX (openpyxl) and PDF (WeasyPrint).

All three lay out the same parts (`parts()`): the heading of an administrative document
(Nghị định 30/2020/NĐ-CP: the issuing body and its number on the left, the national motto and
the place and date on the right), the title, the results by the plan's sections with their
tables, the closing parts, the signature block with "Nơi nhận", and the appendices. Fonts:
the PDF uses Noto Serif (Debian fonts-noto-core; DejaVu Serif as the fallback), both with
every Vietnamese glyph; the DOCX names Times New Roman, the font of Vietnamese official
documents, which Word and LibreOffice have or substitute.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable

from django.template.loader import render_to_string
from django.utils import timezone

from . import yearly
from .choices import ReportKind
from .querysets import number

MOTTO = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")
Progress = Callable[[int, str], None]


def cell(value) -> str:
    """A table cell as printed: 1.234 for whole numbers, 66,7 for decimals, '—' for none."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "Có" if value else "Không"
    if isinstance(value, int):
        return number(value, 0)
    if isinstance(value, float):
        return number(value, 2)
    return str(value)


def date_line(report) -> str:
    day = report.signed_on or timezone.localdate()
    return f"{report.place}, ngày {day:%d} tháng {day:%m} năm {day:%Y}"


def number_line(value: str) -> str:
    """'Số: 15/BC-UBND'; a number left blank until the document is signed ('/BC-UBND') keeps
    room for the clerk to write it in (non-breaking spaces survive HTML and Word)."""
    value = (value or "").strip()
    if not value or value.startswith("/"):
        return "Số:" + "\u00a0" * 10 + value
    return f"Số: {value}"


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in (text or "").splitlines() if p.strip()]


def parts(report) -> dict:
    """Everything a writer lays out, in order."""
    figures = report.figures or {}
    texts = report.texts or {}
    sections = figures.get("sections", {})
    year = report.year
    title = (
        f"Kết quả thực hiện Kế hoạch nâng cao hiệu quả hoạt động thông tin cơ sở dựa trên "
        f"ứng dụng công nghệ thông tin năm {year}"
    )
    if report.kind == ReportKind.PROVINCIAL:
        title = f"Tổng hợp k{title[1:]}"
    meta = figures.get("meta", {})
    period = meta.get("period", {})
    as_of = ""
    if period:
        end = dt.date.fromisoformat(period["end"])
        as_of = f"Số liệu do hệ thống thông tin nguồn tổng hợp từ 01/01/{year} đến {end:%d/%m/%Y}."
    who = report.reporter
    if report.kind == ReportKind.PROVINCIAL:
        from .actions import compiler

        body = compiler(report.unit)
        who = body.name if body else who
    intro = (
        f"Thực hiện {yearly.PLAN_TITLE} của UBND tỉnh, {who} báo cáo kết quả thực hiện năm "
        f"{year} như sau:"
    )
    results, closing = [], []
    for s in yearly.SECTIONS:
        block = {
            "id": s.id,
            "heading": s.heading,
            "paragraphs": paragraphs(texts.get(s.id, "")),
            "tables": sections.get(s.id, []) if s.part == "results" else [],
        }
        empty = not block["paragraphs"] and not block["tables"]
        if empty and report.kind == ReportKind.AGENCY and s.part == "results":
            continue  # an agency writes only what concerns it
        (results if s.part == "results" else closing).append(block)
    indicators = figures.get("indicators") or []
    return {
        "issuer_parent": report.issuer_parent,
        "issuer": [x for x in (report.issuer or "").splitlines() if x.strip()],
        "number": number_line(report.number),
        "motto": MOTTO,
        "date_line": date_line(report),
        "title": title,
        "intro": intro,
        "as_of": as_of,
        "indicator_table": yearly.indicator_table(indicators, year) if indicators else None,
        "results": results,
        "closing": closing,
        "recipients": paragraphs(report.recipients),
        "signer_title": [x for x in (report.signer_title or "").splitlines() if x.strip()],
        "signer_name": report.signer_name,
        "appendices": figures.get("appendices", []),
    }


def _printed(t: dict) -> dict:
    """A table as the PDF prints it: cells as text, and column widths in percent (the first
    column, the label, is the widest). Fixed widths spare WeasyPrint measuring every cell of
    a hundred-row appendix, which is most of the time it takes."""
    n = len(t["headers"])
    first = 100 if n == 1 else 70 if n == 2 else 34 if n <= 6 else 22
    rest = (100 - first) / (n - 1) if n > 1 else 0
    return {
        **t,
        "rows": [[cell(v) for v in row] for row in t["rows"]],
        "widths": t.get("widths") or [first] + [round(rest, 2)] * (n - 1),
    }


# --- PDF ---------------------------------------------------------------------------------


def pdf(report, progress: Progress | None = None) -> bytes:
    from PIL import ImageFile

    truncated = ImageFile.LOAD_TRUNCATED_IMAGES
    from weasyprint import HTML

    # WeasyPrint turns on Pillow's "load truncated images" for the whole process when it is
    # imported; the upload checks (content.media.image) must keep refusing truncated files.
    ImageFile.LOAD_TRUNCATED_IMAGES = truncated

    progress = progress or (lambda _p, _s: None)
    p = parts(report)
    if p["indicator_table"]:
        p["indicator_table"] = _printed(p["indicator_table"])
    for block in p["results"]:
        block["tables"] = [_printed(t) for t in block["tables"]]
    for a in p["appendices"]:
        a["tables"] = [_printed(t) for t in a["tables"]]
    html = render_to_string("kpi/report_document.html", {"p": p, "report": report})
    progress(60, "Dàn trang PDF")
    document = HTML(string=html).render()
    progress(85, f"Ghi {len(document.pages)} trang PDF")
    return document.write_pdf()


# --- DOCX --------------------------------------------------------------------------------


def docx(report, progress: Progress | None = None) -> bytes:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    progress = progress or (lambda _p, _s: None)
    p = parts(report)
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(13)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "Times New Roman")
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21)
    section.top_margin = section.bottom_margin = Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(1.5)

    def para(text="", *, bold=False, italic=False, align=None, size=None, space=6, indent=False):
        par = doc.add_paragraph()
        run = par.add_run(text)
        run.bold, run.italic = bold, italic
        if size:
            run.font.size = Pt(size)
        if align:
            par.alignment = align
        par.paragraph_format.space_after = Pt(space)
        if indent:
            par.paragraph_format.first_line_indent = Cm(1)
        return par

    def cell_lines(c, lines: list[tuple[str, bool, bool]], size=12):
        c.paragraphs[0].text = ""
        for i, (text, bold, italic) in enumerate(lines):
            par = c.paragraphs[0] if i == 0 else c.add_paragraph()
            par.alignment = WD_ALIGN_PARAGRAPH.CENTER
            par.paragraph_format.space_after = Pt(0)
            run = par.add_run(text)
            run.bold, run.italic = bold, italic
            run.font.size = Pt(size)

    head = doc.add_table(rows=1, cols=2)
    head.alignment = WD_TABLE_ALIGNMENT.CENTER
    left = []
    if p["issuer_parent"]:
        left.append((p["issuer_parent"].upper(), False, False))
    left += [(line.upper(), True, False) for line in p["issuer"]]
    left += [("———", False, False), (p["number"], False, False)]
    cell_lines(head.cell(0, 0), left)
    cell_lines(head.cell(0, 1), [(MOTTO[0], True, False), (MOTTO[1], True, False),
                                 ("———", False, False), (p["date_line"], False, True)])  # fmt: skip
    head.cell(0, 0).width, head.cell(0, 1).width = Cm(6.5), Cm(10)
    para()
    para("BÁO CÁO", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, size=14, space=0)
    para(p["title"], bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, size=14)
    para(p["intro"], indent=True)
    progress(40, "Viết phần kết quả thực hiện")

    def add_table(t: dict):
        if t["title"]:
            para(t["title"], italic=True, bold=True, size=12, space=2)
        tb = doc.add_table(rows=1, cols=len(t["headers"]))
        tb.style = "Table Grid"
        for i, h in enumerate(t["headers"]):
            c = tb.rows[0].cells[i]
            c.paragraphs[0].text = ""
            run = c.paragraphs[0].add_run(h)
            run.bold, run.font.size = True, Pt(11)
        for row in t["rows"]:
            cells = tb.add_row().cells
            for i, v in enumerate(row):
                cells[i].paragraphs[0].text = ""
                run = cells[i].paragraphs[0].add_run(cell(v))
                run.font.size = Pt(11)
                if not isinstance(v, str):
                    cells[i].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
        para(space=4)

    para("I. KẾT QUẢ THỰC HIỆN", bold=True)
    if p["as_of"]:
        para(p["as_of"], italic=True, indent=True)
    if p["indicator_table"]:
        add_table(p["indicator_table"])
    for block in p["results"]:
        para(block["heading"], bold=True)
        for text in block["paragraphs"]:
            para(text, indent=True, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
        for t in block["tables"]:
            add_table(t)
    for block in p["closing"]:
        para(block["heading"], bold=True)
        for text in block["paragraphs"] or ["(Không có.)"]:
            para(text, indent=True, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    progress(70, "Viết khối chữ ký")
    sign = doc.add_table(rows=1, cols=2)
    left = sign.cell(0, 0)
    left.paragraphs[0].text = ""
    run = left.paragraphs[0].add_run("Nơi nhận:")
    run.bold, run.italic, run.font.size = True, True, Pt(12)
    for line in p["recipients"]:
        r = left.add_paragraph().add_run(line)
        r.font.size = Pt(11)
    right = [(line, True, False) for line in p["signer_title"]]
    right += [("", False, False)] * 4 + [(p["signer_name"], True, False)]
    cell_lines(sign.cell(0, 1), right, size=13)
    for a in p["appendices"]:
        new = doc.add_section()
        if a.get("wide"):
            new.orientation = WD_ORIENT.LANDSCAPE
            new.page_width, new.page_height = Cm(29.7), Cm(21)
        para(a["title"].upper(), bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
        for t in a["tables"]:
            add_table(t)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


# --- XLSX --------------------------------------------------------------------------------


def xlsx(report, progress: Progress | None = None) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    from .export import _cell

    progress = progress or (lambda _p, _s: None)
    p = parts(report)
    wb = Workbook()
    bold = Font(bold=True)

    def put_table(ws, t: dict):
        if t["title"]:
            ws.append([t["title"]])
            ws.cell(ws.max_row, 1).font = bold
        ws.append(t["headers"])
        for c in ws[ws.max_row]:
            c.font = bold
        for row in t["rows"]:
            ws.append([_cell(v) for v in row])
        ws.append([])

    ws = wb.active
    ws.title = "Báo cáo"
    for line in [p["issuer_parent"], *p["issuer"], p["number"], *MOTTO, p["date_line"], "",
                 "BÁO CÁO", p["title"], p["intro"], p["as_of"]]:  # fmt: skip
        ws.append([line])
    ws.column_dimensions["A"].width = 60
    for block in [*p["results"], *p["closing"]]:
        ws.append([block["heading"]])
        ws.cell(ws.max_row, 1).font = bold
        for text in block["paragraphs"]:
            ws.append([text])
            ws.cell(ws.max_row, 1).alignment = Alignment(wrap_text=True, vertical="top")
    ws.append([])
    ws.append(["Nơi nhận:", *p["recipients"]])
    ws.append([" ".join(p["signer_title"]), p["signer_name"]])
    progress(40, "Ghi bảng chỉ tiêu")
    if p["indicator_table"]:
        ws = wb.create_sheet("Chỉ tiêu")
        put_table(ws, p["indicator_table"])
        ws.column_dimensions["A"].width = 48
    ws = wb.create_sheet("Số liệu")
    ws.column_dimensions["A"].width = 60
    for block in p["results"]:
        if block["tables"]:
            ws.append([block["heading"]])
            ws.cell(ws.max_row, 1).font = bold
        for t in block["tables"]:
            put_table(ws, t)
    progress(70, "Ghi các phụ lục")
    for n, a in enumerate(p["appendices"], start=2):
        ws = wb.create_sheet(f"Phụ lục {n}")
        ws.append([a["title"]])
        ws.cell(1, 1).font = bold
        ws.column_dimensions["A"].width = 40
        for t in a["tables"]:
            put_table(ws, t)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


WRITERS = {"pdf": pdf, "docx": docx, "xlsx": xlsx}
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
