"""The province's compiled yearly report for the demo province (104 communes).

Every commune writes and sends its report (through the actions, as the console does; their
figures come from the dashboard's functions), then the province compiles its report from
them and writes it as PDF, DOCX and XLSX. The year is the KPI benchmark's (`bench/kpi.py`):
when that benchmark ran before in the same database, the figures are a full year of facts.

Reports: the time for the communes' reports (per report), the compile, each file, and the
compiled report end to end (compile + PDF), goal < 30 s.
"""

from __future__ import annotations

import time

from .kpi import YEAR

TEXT = {
    "radio": "Đài truyền thanh hoạt động ổn định, tiếp sóng đúng khung giờ quy định.",
    "assessment": "Cơ bản hoàn thành các nhiệm vụ của Kế hoạch năm.",
    "next_year": "Tiếp tục chuyển đổi cụm loa, lắp bảng tin điện tử.",
    "proposals": "Đề nghị tỉnh hỗ trợ kinh phí chuyển đổi đài truyền thanh.",
}


def run() -> dict:
    from grassroots.accounts.models import User
    from grassroots.kpi import actions, documents
    from grassroots.kpi.choices import ReportKind, ReportState
    from grassroots.kpi.models import ReportingBody, YearlyReport
    from grassroots.kpi.tasks import compile_report
    from grassroots.kpi.yearly import reporting_units
    from grassroots.units.models import Unit

    from .fleet import _prepare_db

    _prepare_db()
    admin = User.objects.get(username="admin")
    province = Unit.objects.get(code="33", valid_to__isnull=True)
    ReportingBody.objects.get_or_create(
        unit=province, name="Sở Văn hóa, Thể thao và Du lịch", defaults={"compiles": True}
    )
    YearlyReport.objects.filter(year=YEAR).delete()
    units = list(reporting_units(province))
    out: dict = {"year": YEAR, "communes": len(units)}

    t0 = time.perf_counter()
    for unit in units:
        report = actions.open_report(user=admin, year=YEAR, unit=unit)
        report = actions.save(user=admin, report=report, texts=TEXT)
        actions.submit(user=admin, report=report)
    each = (time.perf_counter() - t0) / max(len(units), 1)
    out["unit_report_open_save_submit_s"] = round(each, 3)
    assert YearlyReport.objects.filter(year=YEAR, state=ReportState.SUBMITTED).count() == len(units)

    provincial = actions.open_provincial(user=admin, province=province, year=YEAR)
    t0 = time.perf_counter()
    compile_report(provincial, lambda _p, _s: None)
    out["compile_s"] = round(time.perf_counter() - t0, 2)
    provincial = YearlyReport.objects.get(pk=provincial.pk, kind=ReportKind.PROVINCIAL)
    sizes = {}
    for fmt in ("pdf", "docx", "xlsx"):
        t0 = time.perf_counter()
        data = documents.WRITERS[fmt](provincial)
        out[f"{fmt}_s"] = round(time.perf_counter() - t0, 2)
        sizes[fmt] = len(data)
    out["bytes"] = sizes
    out["compiled_pdf_end_to_end_s"] = round(out["compile_s"] + out["pdf_s"], 2)
    out["goals"] = {"compiled_pdf_end_to_end_s": 30}
    return out
