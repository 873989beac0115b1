"""The yearly report on the hand-made province of dataset.py: its figures are the dashboard's
indicators (and they are what the PDF, DOCX and XLSX say), the draft → submitted → returned →
submitted → accepted workflow with its permissions, the province's compiled report, the
reminders, and the console pages with the worker's job and its file."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from grassroots.feedback.models import Notification
from grassroots.kpi import actions, documents, querysets, reminders
from grassroots.kpi.choices import JobKind, JobStatus, ReportKind, ReportState
from grassroots.kpi.indicators import BY_ID
from grassroots.kpi.models import ReportingBody, ReportJob, YearlyReport
from grassroots.kpi.tasks import compile_report, run_report_job

from .conftest import CLOSING, YEAR, pdf_text
from .dataset import at

pytestmark = pytest.mark.django_db


def year_value(unit, indicator: str) -> float | None:
    t = querysets.totals(unit, dt.date(YEAR, 1, 1), dt.date(YEAR, 12, 31))
    return BY_ID[indicator].value(t)


def written(w) -> YearlyReport:
    with time_machine.travel(at(270, 9), tick=False):  # 05/12/2026, before the deadline
        report = actions.open_report(user=w.writer, year=YEAR, unit=w.ward)
        return actions.save(
            user=w.writer,
            report=report,
            texts={"radio": "Hai cụm loa IP hoạt động ổn định.", **CLOSING},
            header={"signer_name": "Nguyễn Văn Sáu", "number": "15/BC-UBND"},
        )


def test_figures_are_the_dashboard_indicators_in_every_file(world, tmp_path):
    report = written(world)
    rows = {r["id"]: r for r in report.figures["indicators"]}
    for ind in ("on_time_play", "device_availability", "feedback_handled", "radio_ip"):
        assert rows[ind]["value"] == year_value(world.ward, ind), ind
    value = rows["on_time_play"]["value"]
    assert value is not None
    shown = querysets.number(value, 2)

    text = pdf_text(documents.pdf(report), tmp_path)
    for heading in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "BÁO CÁO",
                    "I. KẾT QUẢ THỰC HIỆN", "II. ĐÁNH GIÁ CHUNG", "IV. ĐỀ XUẤT, KIẾN NGHỊ",
                    "PHƯỜNG MỘT", "Số: 15/BC-UBND", "Nơi nhận:", "Nguyễn Văn Sáu",
                    "Hai cụm loa IP hoạt động ổn định."):  # fmt: skip
        assert heading in text, heading
    line = next(x for x in text.splitlines() if "Phát đúng giờ" in x)
    assert re.search(rf"\s{re.escape(shown)}\s", line), (shown, line)

    from docx import Document

    doc = Document(io.BytesIO(documents.docx(report)))
    body = "\n".join(p.text for p in doc.paragraphs)
    assert "I. KẾT QUẢ THỰC HIỆN" in body and "Hai cụm loa IP hoạt động ổn định." in body
    heads = "\n".join(c.text for c in doc.tables[0].rows[0].cells)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in heads and "PHƯỜNG MỘT" in heads
    kpi_table = next(t for t in doc.tables if t.rows[0].cells[0].text == "Chỉ tiêu")
    row = next(r for r in kpi_table.rows if r.cells[0].text == "Phát đúng giờ")
    assert row.cells[2].text == shown

    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(documents.xlsx(report)))
    ws = wb["Chỉ tiêu"]
    found = [r for r in ws.iter_rows(values_only=True) if r and r[0] == "Phát đúng giờ"]
    assert found and found[0][2] == value
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in [r[0] for r in wb["Báo cáo"].iter_rows(
        values_only=True)]  # fmt: skip


def test_training_and_money_are_in_the_report(world):
    from grassroots.planning.models import Investment
    from grassroots.training.models import Attendance, Course, Session, StaffMember

    staff = [
        StaffMember.objects.create(unit=world.ward, full_name=n, position="station_staff")
        for n in ("Lê Văn Một", "Lê Thị Hai")
    ]
    course = Course.objects.create(unit=world.province, title="Biên tập tin bài")
    session = Session.objects.create(course=course, starts_on=dt.date(YEAR, 4, 1),
                                     ends_on=dt.date(YEAR, 4, 2), place="Hội trường",
                                     trainer="ThS. Bình", hours=16)  # fmt: skip
    Attendance.objects.create(session=session, staff=staff[0], result="passed")
    Investment.objects.create(unit=world.ward, year=YEAR, purpose="eboard", source="socialised",
                              title="Bảng tin chợ", planned_amount=150_000_000,
                              spent_amount=120_000_000)  # fmt: skip
    report = written(world)
    rows = {r["id"]: r for r in report.figures["indicators"]}
    assert rows["staff_trained"]["value"] == 50.0  # one of two required staff trained
    training = report.figures["sections"]["training"]
    assert ["Cán bộ phải bồi dưỡng", 2] in training[0]["rows"]
    assert training[1]["rows"] == [["Lê Thị Hai", "Phường Một", "Cán bộ đài truyền thanh cấp xã"]]
    funding = report.figures["sections"]["funding"][0]["rows"]
    assert ["Xã hội hóa", 150_000_000, 120_000_000] in funding
    assert funding[-1] == ["Tổng cộng", 150_000_000, 120_000_000]


def test_submit_return_resubmit_accept(world):
    report = written(world)
    with pytest.raises(ValidationError):  # the closing parts must be written
        actions.save(user=world.writer, report=report, texts={"proposals": ""})
        actions.submit(user=world.writer, report=report)
    report = actions.save(user=world.writer, report=report, texts=CLOSING)
    with pytest.raises(PermissionDenied):  # another commune's officer
        actions.submit(user=world.other, report=report)
    assert not YearlyReport.objects.restrict(world.other, "kpi.view").filter(pk=report.pk)
    report = actions.submit(user=world.writer, report=report)
    assert report.state == ReportState.SUBMITTED and report.figures_at
    assert Notification.objects.filter(recipient=world.reviewer.email).count() == 1
    with pytest.raises(ValidationError):  # sent: no more edits
        actions.save(user=world.writer, report=report, texts={"radio": "Sửa"})
    with pytest.raises(PermissionDenied):  # the commune cannot accept its own report
        actions.accept(user=world.writer, report=report)
    with pytest.raises(ValidationError):  # returning says why
        actions.return_report(user=world.reviewer, report=report, comment="  ")
    report = actions.return_report(user=world.reviewer, report=report,
                                   comment="Bổ sung số liệu kinh phí.")  # fmt: skip
    assert report.state == ReportState.RETURNED and report.times_returned == 1
    notes = Notification.objects.filter(recipient=world.writer.email)
    assert notes.filter(body__contains="Bổ sung số liệu kinh phí.").exists()
    report = actions.save(user=world.writer, report=report, texts={"funding": "Đã bổ sung."})
    report = actions.submit(user=world.writer, report=report)
    report = actions.accept(user=world.reviewer, report=report, comment="Đạt yêu cầu.")
    assert report.state == ReportState.ACCEPTED
    steps = [(e.from_state, e.to_state) for e in report.events.all()]
    assert steps == [("draft", "submitted"), ("submitted", "returned"),
                     ("returned", "submitted"), ("submitted", "accepted")]  # fmt: skip


def test_the_province_compiles_from_the_units_reports(world, tmp_path):
    ReportingBody.objects.create(unit=world.province, name="Sở Văn hóa, Thể thao và Du lịch",
                                 compiles=True)  # fmt: skip
    ReportingBody.objects.create(unit=world.province, name="Sở Tài chính")
    report = written(world)
    with time_machine.travel(at(276, 9), tick=False):  # 11/12: one day late
        actions.submit(user=world.writer, report=report)
    provincial = actions.open_provincial(user=world.reviewer, province=world.province, year=YEAR)
    assert provincial.kind == ReportKind.PROVINCIAL and "SỞ VĂN HÓA" in provincial.issuer
    steps = []
    compile_report(provincial, lambda p, s: steps.append(p))
    provincial.refresh_from_db()
    assert steps == sorted(steps) and steps[-1] >= 85
    appendices = {a["title"]: a for a in provincial.figures["appendices"]}
    status = appendices["Phụ lục II. Tình hình gửi báo cáo của các đơn vị"]["tables"]
    assert ["Đơn vị phải báo cáo", 4] in status[0]["rows"]  # three communes and Sở Tài chính
    assert ["Gửi muộn", 1] in status[0]["rows"]
    assert ["Phường Một", "Đã gửi", "11/12/2026 (muộn)"] in status[1]["rows"]
    assert ["Sở Tài chính", "Chưa gửi", ""] in status[1]["rows"]
    gathered = appendices["Phụ lục IV. Đánh giá, kiến nghị của các đơn vị"]["tables"]
    assert ["Phường Một", "Đề nghị hỗ trợ kinh phí."] in gathered[1]["rows"]
    rows = {r["id"]: r["value"] for r in provincial.figures["indicators"]}
    assert rows["device_availability"] == year_value(world.province, "device_availability")
    provincial = actions.save(user=world.reviewer, report=provincial, texts=CLOSING,
                              header={"signer_name": "Trần Thị Bảy"})  # fmt: skip
    text = pdf_text(documents.pdf(provincial), tmp_path)
    for heading in ("UBND TỈNH THỬ", "SỞ VĂN HÓA, THỂ THAO VÀ", "PHỤ LỤC II",
                    "Phường Một", "Đề nghị hỗ trợ kinh phí.", "Trần Thị Bảy"):  # fmt: skip
        assert heading in text, heading
    with pytest.raises(PermissionDenied):
        actions.open_provincial(user=world.writer, province=world.province, year=YEAR)


def test_reminders_go_to_units_that_have_not_reported(world):
    cal = reminders.calendar_for(YEAR)
    assert cal.deadline == dt.date(YEAR, 12, 10)
    assert reminders.reminder_days(YEAR, cal) == [dt.date(YEAR, 11, 26), dt.date(YEAR, 12, 3),
                                                  dt.date(YEAR, 12, 9)]  # fmt: skip
    assert reminders.send_due(dt.date(YEAR, 11, 25)) == 0
    assert reminders.send_due(dt.date(YEAR, 11, 26)) == 1  # Phường Một's officer has an email
    note = Notification.objects.get(recipient=world.writer.email)
    assert "10/12/2026" in note.body and "Phường Một" in note.body
    assert reminders.send_due(dt.date(YEAR, 11, 27)) == 0  # done once
    report = actions.save(user=world.writer, report=written(world), texts=CLOSING)
    actions.submit(user=world.writer, report=report)
    assert reminders.send_due(dt.date(YEAR, 12, 3)) == 0  # it has reported


def test_console_pages_job_and_download(
    world, client, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    report = written(world)
    client.force_login(world.writer)
    page = client.get("/bao-cao-nam/?nam=2026")
    assert page.status_code == 200 and "Phường Một" in page.content.decode()
    page = client.get(f"/bao-cao-nam/{report.pk}/")
    assert page.status_code == 200 and 'id="report-form"' in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/bao-cao-nam/{report.pk}/", {"op": "xuat", "fmt": "docx"})
    assert response.status_code == 302
    job = ReportJob.objects.get(report=report, kind=JobKind.EXPORT)
    assert job.status == JobStatus.DONE and job.progress == 100
    assert 'id="download-' in client.get(f"/bao-cao-nam/viec/{job.pk}/").content.decode()
    download = client.get(f"/bao-cao-nam/tep/{job.pk}/")
    assert download.status_code == 200
    assert download["Content-Type"] == documents.CONTENT_TYPES["docx"]
    # another commune's officer sees neither the report, nor its job, nor its file
    client.force_login(world.other)
    assert client.get(f"/bao-cao-nam/{report.pk}/").status_code == 404
    assert client.get(f"/bao-cao-nam/tep/{job.pk}/").status_code == 404
    assert (
        client.post(f"/bao-cao-nam/{report.pk}/", {"op": "xuat", "fmt": "pdf"}).status_code == 404
    )
    assert run_report_job.call(job.pk)["status"] == "skipped"  # a done job is not run twice
    assert timezone.now()


def test_api_lists_and_shows_reports_in_scope(world, client):
    from grassroots.core.testing import call

    report = written(world)
    got = call(client, "get", "/api/v1/kpi/reports?year=2026", user=world.writer).json()
    assert [r["id"] for r in got] == [report.pk] and got[0]["state"] == "draft"
    assert call(client, "get", "/api/v1/kpi/reports?year=2026", user=world.other).json() == []
    detail = call(client, "get", f"/api/v1/kpi/reports/{report.pk}", user=world.writer).json()
    assert detail["texts"]["proposals"] == CLOSING["proposals"]
    rows = {r["id"]: r for r in detail["figures"]["indicators"]}
    assert rows["on_time_play"]["value"] == year_value(world.ward, "on_time_play")
    assert (
        call(client, "get", f"/api/v1/kpi/reports/{report.pk}", user=world.other).status_code == 404
    )
    bad = call(client, "get", "/api/v1/kpi/reports?state=xyz", user=world.writer)
    assert bad.status_code == 422


def test_a_running_job_shows_a_progress_bar(world, client):
    report = written(world)
    job = ReportJob.objects.create(
        report=report,
        kind=JobKind.EXPORT,
        fmt="pdf",
        status=JobStatus.RUNNING,
        progress=60,
        step="Dàn trang PDF",
    )
    client.force_login(world.writer)
    html = client.get(f"/bao-cao-nam/viec/{job.pk}/").content.decode()
    assert 'role="progressbar"' in html and 'aria-valuenow="60"' in html
    assert f'hx-get="/bao-cao-nam/viec/{job.pk}/"' in html and "Dàn trang PDF" in html


def test_an_agency_reports_its_bulletins(world):
    from grassroots.content.tests.conftest import make_bulletin

    body = ReportingBody.objects.create(unit=world.province, name="Sở Y tế")
    bulletin = make_bulletin("99", status="published", title="Phòng dịch sốt xuất huyết")
    bulletin.source, bulletin.source_name = "provincial_body", "Sở Y tế"
    bulletin.published_at = timezone.make_aware(dt.datetime(YEAR, 6, 1, 8))
    bulletin.save()
    with pytest.raises(PermissionDenied):  # a commune's officer cannot write the agency's
        actions.open_report(user=world.writer, year=YEAR, body=body)
    report = actions.open_report(user=world.reviewer, year=YEAR, body=body)
    assert report.kind == ReportKind.AGENCY and report.issuer == "SỞ Y TẾ"
    rows = report.figures["sections"]["source"][0]["rows"]
    assert rows[0] == ["Bản tin của cơ quan đã xuất bản", 1]
    report = actions.save(user=world.reviewer, report=report, texts=CLOSING)
    report = actions.submit(user=world.reviewer, report=report)
    assert report.state == ReportState.SUBMITTED
    from docx import Document

    doc = Document(io.BytesIO(documents.docx(report)))
    assert "SỞ Y TẾ" in doc.tables[0].rows[0].cells[0].text


def test_old_exports_are_cleaned_up_but_the_latest_of_each_format_is_kept(world, settings, client):
    from grassroots.kpi.tasks import clean_report_files, reports_dir, write_file

    report = written(world)

    def export(fmt: str, days_ago: int) -> ReportJob:
        with time_machine.travel(timezone.now() - dt.timedelta(days=days_ago, seconds=1)):
            path = write_file(report, fmt, lambda p, s: None)
            return ReportJob.objects.create(report=report, kind=JobKind.EXPORT, fmt=fmt,
                                            status=JobStatus.DONE, progress=100, file=path,
                                            finished_at=timezone.now())  # fmt: skip

    old_docx, new_docx = export("docx", 45), export("docx", 40)
    old_xlsx = export("xlsx", 45)  # the only xlsx: the latest of its format, kept however old
    recent = export("docx", 1)
    stray = reports_dir() / "2020" / "bao-cao-cua-bao-cao-da-xoa.pdf"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"%PDF-")
    past = (timezone.now() - dt.timedelta(days=60)).timestamp()
    os.utime(stray, (past, past))

    assert clean_report_files() == 3  # the two old docx (a newer one exists) and the stray file
    root = Path(settings.MEDIA_ROOT)
    for job in (old_docx, new_docx):
        job.refresh_from_db()
        assert job.file == "" and "đã được dọn" in job.step
    assert not stray.exists()
    for job in (old_xlsx, recent):
        job.refresh_from_db()
        assert (root / job.file).is_file()
    client.force_login(world.writer)
    assert client.get(f"/bao-cao-nam/tep/{old_docx.pk}/").status_code == 404
    page = client.get(f"/bao-cao-nam/viec/{old_docx.pk}/").content.decode()
    assert "Tệp đã được dọn sau 30 ngày" in page
    assert clean_report_files() == 0
