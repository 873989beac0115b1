"""What a QA walk through the yearly report found: the province's page, the targets' unit,
the textarea that cut long texts, the messages, Vietnamese order, the PDF's page breaks."""

from __future__ import annotations

from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import ValidationError

from grassroots.kpi import actions, documents
from grassroots.kpi.choices import JobKind, JobStatus
from grassroots.kpi.models import ReportingBody, ReportJob
from grassroots.kpi.tasks import compile_report
from grassroots.units.models import Unit

from .conftest import CLOSING, YEAR, pdf_text
from .dataset import at

pytestmark = pytest.mark.django_db


def draft(w):
    with time_machine.travel(at(270, 9), tick=False):
        return actions.open_report(user=w.writer, year=YEAR, unit=w.ward)


def test_province_page_opens_on_its_own_work_not_on_drafts_for_every_commune(world, client):
    ReportingBody.objects.create(unit=world.province, name="Sở Tài chính")
    client.force_login(world.reviewer)
    html = client.get(f"/bao-cao-nam/?nam={YEAR}").content.decode()
    assert "Lập báo cáo" not in html and 'name="op" value="mo"' not in html
    compiled, status = html.index('id="compile"'), html.index('id="report-status"')
    assert compiled < status < html.index("Mở báo cáo của cơ quan")  # agencies: a short list
    assert "Phường Một" in html[status:]
    # a commune's officer still opens her own report from the top of her page
    client.force_login(world.writer)
    html = client.get(f"/bao-cao-nam/?nam={YEAR}").content.decode()
    assert html.index('id="open-99001"') < html.index('id="report-status"')
    assert 'id="compile"' not in html


def test_units_in_vietnamese_order_on_the_page_and_in_the_appendices(world, client):
    for unit, name in ((world.ward, "Đông Kết"), (world.xa2, "Yên Phú"), (world.xa3, "Ái Quốc")):
        Unit.objects.filter(pk=unit.pk).update(name=name)
    client.force_login(world.reviewer)
    html = client.get(f"/bao-cao-nam/?nam={YEAR}").content.decode()
    assert html.index("Ái Quốc") < html.index("Đông Kết") < html.index("Yên Phú")
    provincial = actions.open_provincial(user=world.reviewer, province=world.province, year=YEAR)
    compile_report(provincial, lambda p, s: None)
    provincial.refresh_from_db()
    status = provincial.figures["appendices"][0]["tables"][1]["rows"]
    assert [r[0] for r in status] == ["Ái Quốc", "Đông Kết", "Yên Phú"]
    kpis = provincial.figures["appendices"][1]["tables"][0]["rows"]
    assert [r[0] for r in kpis] == ["Ái Quốc", "Đông Kết", "Yên Phú"]


def test_a_text_too_long_is_refused_not_cut_and_kept(world, client):
    report = draft(world)
    client.force_login(world.writer)
    html = client.get(f"/bao-cao-nam/{report.pk}/").content.decode()
    assert 'id="id_text_radio"' in html and 'maxlength="20000"' not in html
    assert 'data-max-chars="20000"' in html
    long = "Loa IP hoạt động. " * 1200  # 21 600 characters
    page = client.post(f"/bao-cao-nam/{report.pk}/", {"op": "luu", "text_radio": long})
    assert page.status_code == 200
    html = page.content.decode()
    assert "20000" in html and "Đã lưu" not in html
    assert long.strip() in html  # what was typed is still in the field
    report.refresh_from_db()
    assert not (report.texts or {}).get("radio")


def test_targets_carry_the_unit_and_do_not_wrap(world):
    report = draft(world)
    targets = [r["target"] for r in report.figures["indicators"] if r["target"]]
    assert targets
    assert any(t.endswith("\u00a0%") for t in targets), targets
    assert all(" " not in t for t in targets), targets  # non-breaking spaces only


def test_the_province_completes_it_does_not_send(world):
    provincial = actions.open_provincial(user=world.reviewer, province=world.province, year=YEAR)
    compile_report(provincial, lambda p, s: None)
    provincial.refresh_from_db()
    with pytest.raises(ValidationError) as err:
        actions.submit(user=world.reviewer, report=provincial)
    assert "trước khi hoàn thành" in str(err.value) and "trước khi gửi" not in str(err.value)
    with pytest.raises(ValidationError) as err:
        actions.submit(user=world.writer, report=draft(world))
    assert "trước khi gửi" in str(err.value)


def test_a_finished_compile_reloads_the_page_and_sending_asks_first(world, client):
    provincial = actions.open_provincial(user=world.reviewer, province=world.province, year=YEAR)
    job = ReportJob.objects.create(report=provincial, kind=JobKind.COMPILE,
                                   status=JobStatus.DONE, progress=100)  # fmt: skip
    client.force_login(world.reviewer)
    response = client.get(f"/bao-cao-nam/viec/{job.pk}/")
    assert response["HX-Refresh"] == "true"
    assert f'href="/bao-cao-nam/{provincial.pk}/"' in response.content.decode()
    export = ReportJob.objects.create(
        report=provincial,
        kind=JobKind.EXPORT,
        fmt="pdf",
        status=JobStatus.DONE,
        progress=100,
        file="x.pdf",
    )
    assert "HX-Refresh" not in client.get(f"/bao-cao-nam/viec/{export.pk}/")
    html = client.get(f"/bao-cao-nam/{provincial.pk}/").content.decode()
    assert 'id="submit" data-confirm="Hoàn thành báo cáo?' in html
    client.force_login(world.writer)
    html = client.get(f"/bao-cao-nam/{draft(world).pk}/").content.decode()
    assert 'id="submit" data-confirm="Gửi báo cáo lên tỉnh?' in html


def test_calendar_error_opens_with_an_opening_quote(world, client):
    client.force_login(world.reviewer)
    page = client.post(f"/bao-cao-nam/?nam={YEAR}", {"op": "han", "nam": YEAR,
                       "deadline": f"{YEAR}-12-10", "reminders": "31/02/2026"})  # fmt: skip
    html = page.content.decode()
    assert "“31/02/2026” không phải ngày có thật" in html
    assert "”31/02/2026" not in html


def test_no_thi_tran_in_the_eboard_rows(world, tmp_path):
    report = actions.save(user=world.writer, report=draft(world), texts=CLOSING)
    rows = [r[0] for t in report.figures["sections"]["eboards"] for r in t["rows"]]
    assert "Phường có bảng tin" in rows
    assert not any("thị trấn" in str(r) for r in rows)


def test_pdf_rows_do_not_break_across_pages(world, tmp_path):
    report = actions.save(user=world.writer, report=draft(world), texts=CLOSING)
    from django.template.loader import render_to_string

    html = render_to_string("kpi/report_document.html", {"p": documents.parts(report),
                                                         "report": report})  # fmt: skip
    assert "table.data tr { break-inside: avoid" in html
    assert "table.data thead { display: table-header-group; }" in html
    assert "break-after: avoid" in html
    text = pdf_text(documents.pdf(report), tmp_path)
    assert "Phường có bảng tin" in text and "thị trấn" not in text


def test_inspection_table_gives_room_to_who_inspected_and_what_they_found(world, tmp_path):
    import datetime as dt

    from grassroots.broadcast.models import Station
    from grassroots.planning.models import Inspection

    station = Station.objects.filter(unit=world.ward).first()
    for day in range(1, 4):
        Inspection.objects.create(
            station=station, kind=Inspection._meta.get_field("kind").choices[0][0],
            inspected_on=dt.date(YEAR, 3, day), inspector="Đoàn kiểm tra liên ngành Sở VHTTDL "
            "và Phòng Văn hóa - Xã hội", period_start=dt.date(YEAR, 1, 1),
            period_end=dt.date(YEAR, 2, 28),
            findings="Thiết bị hoạt động tốt; tiếp sóng đúng khung giờ; sổ nhật ký ghi đầy đủ. "
            * 3,
        )  # fmt: skip
    report = actions.save(user=world.writer, report=draft(world), texts=CLOSING)
    tables = report.figures["sections"]["inspections"]
    assert tables[0]["headers"][0] == "Ngày" and tables[0]["widths"][0] < 20
    assert tables[0]["widths"][3] > tables[0]["widths"][0] < tables[0]["widths"][4]
    data = documents.pdf(report)
    text = pdf_text(data, tmp_path)
    assert "01/03/2026" in text  # the date on one line, not cut into "01/03/20" + "26"
    import os

    if os.environ.get("REPORT_PDF_OUT"):  # to look at the pages: pdftoppm -png -r 60
        Path(os.environ["REPORT_PDF_OUT"]).write_bytes(data)
