"""Business rules of the yearly report. Each mutation checks its permission on the unit
concerned, checks the state it starts from, writes, records the step (`ReportEvent`) and an
audit row, and queues its notifications in the same transaction:

- a commune-level unit's officers (`kpi.report` on the unit) write and send its report; an
  agency's report is written by `kpi.report` on the province;
- the level above (`kpi.review` on the unit's parent; on the province for an agency) accepts
  it or returns it with a comment; a returned report is corrected and sent again;
- the province (`kpi.review` on it) compiles its own report from the units' reports.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from grassroots.accounts.policies import require_on
from grassroots.core import audit
from grassroots.core.models import ChangeAction
from grassroots.units.models import Unit

from . import reminders, yearly
from .choices import ExportFormat, JobKind, JobStatus, ReportKind, ReportState
from .models import ReportEvent, ReportingBody, ReportJob, YearlyReport

VIEW, REPORT, REVIEW = "kpi.view", "kpi.report", "kpi.review"
YEARS = (2020, 2100)
KIND_WORDS = ("Tỉnh ", "Thành phố ", "Xã ", "Phường ", "Thị trấn ", "Đặc khu ")
HEADER_FIELDS = ("issuer_parent", "issuer", "number", "place", "signed_on", "signer_title",
                 "signer_name", "recipients")  # fmt: skip
MAX_HEADER = {"issuer_parent": 200, "issuer": 200, "number": 60, "place": 100,
              "signer_title": 200, "signer_name": 100, "recipients": 2000}  # fmt: skip


def place_name(unit: Unit) -> str:
    """'Xã Tân Hưng' → 'Tân Hưng': the place a document is dated at."""
    for word in KIND_WORDS:
        if unit.name.startswith(word):
            return unit.name[len(word) :]
    return unit.name


def province_of(unit: Unit) -> Unit:
    root = int(unit.path.strip("/").split("/")[0])
    return unit if unit.pk == root else Unit.objects.get(pk=root)


def compiler(province: Unit) -> ReportingBody | None:
    return ReportingBody.objects.filter(unit=province, compiles=True, active=True).first()


def _header_defaults(report: YearlyReport) -> dict[str, str]:
    unit = report.unit
    province = province_of(unit)
    upper_province = f"UBND {province.name.upper()}"
    if report.kind == ReportKind.UNIT:
        return {
            "issuer_parent": "",
            "issuer": f"ỦY BAN NHÂN DÂN\n{unit.name.upper()}",
            "number": "      /BC-UBND",
            "place": place_name(unit),
            "signer_title": "TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH",
            "recipients": "- UBND tỉnh (qua Sở Văn hóa, Thể thao và Du lịch);\n- Lưu: VT.",
        }
    if report.kind == ReportKind.AGENCY:
        return {
            "issuer_parent": upper_province,
            "issuer": report.body.name.upper(),
            "number": "      /BC-",
            "place": place_name(province),
            "signer_title": "GIÁM ĐỐC",
            "recipients": "- UBND tỉnh;\n- Sở Văn hóa, Thể thao và Du lịch;\n- Lưu: VT.",
        }
    body = compiler(province)
    return {
        "issuer_parent": upper_province,
        "issuer": (body.name if body else "Sở Văn hóa, Thể thao và Du lịch").upper(),
        "number": "      /BC-SVHTTDL",
        "place": place_name(province),
        "signer_title": "GIÁM ĐỐC",
        "recipients": "- Bộ Văn hóa, Thể thao và Du lịch (Cục Thông tin cơ sở và Thông tin "
        "đối ngoại);\n- UBND tỉnh;\n- Lưu: VT.",
    }


def _check_year(year: int) -> None:
    if not YEARS[0] <= int(year) <= YEARS[1]:
        raise ValidationError({"year": f"Năm báo cáo phải từ {YEARS[0]} đến {YEARS[1]}."})


def reviewer_unit(report: YearlyReport) -> Unit:
    """Where `kpi.review` must be held to accept or return the report: the unit above a
    commune (the province today), the province for an agency and for its own report."""
    if report.kind == ReportKind.UNIT and report.unit.parent_id:
        return report.unit.parent
    return report.unit


def writer_permission(report: YearlyReport) -> str:
    return REVIEW if report.kind == ReportKind.PROVINCIAL else REPORT


def may_write(user, report: YearlyReport) -> bool:
    from grassroots.accounts.scope import covers

    return covers(user, writer_permission(report), report.unit)


def may_review(user, report: YearlyReport) -> bool:
    from grassroots.accounts.scope import covers

    return report.kind != ReportKind.PROVINCIAL and covers(user, REVIEW, reviewer_unit(report))


def _event(report, user, before: str, comment: str = "") -> None:
    ReportEvent.objects.create(
        report=report, user=user, from_state=before, to_state=report.state, comment=comment
    )


def _refresh(report: YearlyReport) -> None:
    report.figures = yearly.build(report)
    report.figures_at = timezone.now()


@transaction.atomic
def open_report(*, user, year: int, unit: Unit | None = None, body=None) -> YearlyReport:
    """The report of a commune-level unit (or of an agency, `body`) for `year`, created with
    its heading and its figures the first time."""
    _check_year(year)
    if body is not None:
        unit, kind = body.unit, ReportKind.AGENCY
        if not body.active or body.compiles:
            raise ValidationError({"body": f"{body.name} không phải lập báo cáo năm."})
    else:
        kind = ReportKind.UNIT
        if unit is None or not unit.is_commune_level or unit.valid_to is not None:
            raise ValidationError({"unit": "Báo cáo năm được lập cho từng xã, phường, đặc khu."})
    require_on(user, REPORT, unit)
    report = YearlyReport.objects.filter(unit=unit, body=body, year=year, kind=kind).first()
    if report:
        return report
    report = YearlyReport(unit=unit, body=body, year=year, kind=kind, created_by=user)
    for name, value in _header_defaults(report).items():
        setattr(report, name, value)
    _refresh(report)
    report.save()
    audit.record(report, ChangeAction.CREATE, user=user, comment="Lập báo cáo năm")
    return report


@transaction.atomic
def open_provincial(*, user, province: Unit, year: int) -> YearlyReport:
    """The province's compiled report for `year` (created empty the first time; its figures
    come from `compile` in the worker)."""
    _check_year(year)
    require_on(user, REVIEW, province)
    if province.parent_id is not None:
        raise ValidationError({"unit": "Báo cáo tổng hợp được lập ở cấp tỉnh."})
    report, created = YearlyReport.objects.get_or_create(
        unit=province, body=None, year=year, kind=ReportKind.PROVINCIAL,
        defaults={"created_by": user},
    )  # fmt: skip
    if created:
        for name, value in _header_defaults(report).items():
            setattr(report, name, value)
        report.save()
        audit.record(report, ChangeAction.CREATE, user=user, comment="Lập báo cáo tổng hợp")
    return report


def _locked(report: YearlyReport) -> YearlyReport:
    return (
        YearlyReport.objects.select_for_update(of=("self",))
        .select_related("unit", "body")
        .get(pk=report.pk)
    )


@transaction.atomic
def save(*, user, report: YearlyReport, texts: dict[str, Any] | None = None,
         header: dict[str, Any] | None = None) -> YearlyReport:  # fmt: skip
    """Store the officer's text of each section and the heading, while the report is being
    written (a draft, or returned to be corrected)."""
    require_on(user, writer_permission(report), report.unit)
    report = _locked(report)
    if not report.editable:
        raise ValidationError(
            {"state": f"Báo cáo đang ở trạng thái “{report.get_state_display()}”; chỉ sửa được "
             "khi đang soạn hoặc bị trả lại."}
        )  # fmt: skip
    before = audit.snapshot(report)
    errors = {}
    for sid, text in (texts or {}).items():
        if sid not in yearly.SECTION_IDS:
            continue
        text = str(text or "").strip()
        if len(text) > yearly.MAX_TEXT:
            errors[sid] = (
                f"Phần này dài {len(text)} ký tự; tối đa {yearly.MAX_TEXT} ký tự. "
                "Hãy rút gọn hoặc đưa số liệu chi tiết vào phụ lục."
            )
        report.texts = {**(report.texts or {}), sid: text}
    for name, value in (header or {}).items():
        if name not in HEADER_FIELDS:
            continue
        if name == "signed_on":
            if value is not None and not isinstance(value, dt.date):
                errors[name] = "Ngày ký phải là ngày có thật (ngày/tháng/năm)."
                continue
            report.signed_on = value
            continue
        value = str(value or "").strip()
        if len(value) > MAX_HEADER[name]:
            errors[name] = f"Tối đa {MAX_HEADER[name]} ký tự."
        setattr(report, name, value)
    if errors:
        raise ValidationError(errors)
    report.save()
    audit.record(report, ChangeAction.UPDATE, user=user, before=before, comment="Sửa báo cáo năm")
    return report


@transaction.atomic
def refresh(*, user, report: YearlyReport) -> YearlyReport:
    """Take the figures again from the platform (while the report is being written)."""
    require_on(user, writer_permission(report), report.unit)
    report = _locked(report)
    if not report.editable:
        raise ValidationError({"state": "Số liệu của báo cáo đã gửi không thay đổi."})
    if report.kind == ReportKind.PROVINCIAL:
        raise ValidationError({"state": "Số liệu của báo cáo tổng hợp được lấy khi tổng hợp."})
    _refresh(report)
    report.save(update_fields=["figures", "figures_at", "updated_at"])
    return report


def _missing_parts(report: YearlyReport) -> list[str]:
    texts = report.texts or {}
    return [s.heading for s in yearly.SECTIONS if s.part == "closing"
            and not texts.get(s.id, "").strip()]  # fmt: skip


@transaction.atomic
def submit(*, user, report: YearlyReport) -> YearlyReport:
    """Send the report to the level above. Its figures are taken one last time and frozen:
    the province reviews what the unit signed. The assessment, next year's tasks and the
    proposals must be written. The province's own report is marked as sent to the ministry."""
    require_on(user, writer_permission(report), report.unit)
    report = _locked(report)
    if report.state not in ReportState.editable():
        raise ValidationError(
            {"state": f"Báo cáo đang ở trạng thái “{report.get_state_display()}”; không gửi "
             "lại được."}
        )  # fmt: skip
    missing = _missing_parts(report)
    if missing:
        raise ValidationError(
            {"texts": "Hãy viết các phần còn trống trước khi "
             + ("hoàn thành" if report.kind == ReportKind.PROVINCIAL else "gửi")
             + ": " + "; ".join(missing) + "."}
        )  # fmt: skip
    if report.kind == ReportKind.PROVINCIAL and not report.figures:
        raise ValidationError({"state": "Hãy tổng hợp báo cáo trước khi hoàn thành."})
    before_state, before = report.state, audit.snapshot(report)
    if report.kind != ReportKind.PROVINCIAL:
        _refresh(report)
    report.state = ReportState.SUBMITTED
    report.submitted_at, report.submitted_by = timezone.now(), user
    report.signed_on = report.signed_on or timezone.localdate()
    report.save()
    comment = "Gửi lại báo cáo" if before_state == ReportState.RETURNED else "Gửi báo cáo"
    _event(report, user, before_state)
    audit.record(report, ChangeAction.UPDATE, user=user, before=before, comment=comment)
    if report.kind != ReportKind.PROVINCIAL:
        reviewers = reminders.officers_of(reviewer_unit(report), REVIEW)
        reminders.queue_email(
            [u.email for u in reviewers],
            f"{report.reporter} đã gửi báo cáo năm {report.year}",
            f"{report.reporter} đã gửi báo cáo năm {report.year}. "
            f"Xem và tiếp nhận tại: {reminders._site()}/bao-cao-nam/{report.pk}/",
        )
    return report


def _review(user, report: YearlyReport) -> YearlyReport:
    if report.kind == ReportKind.PROVINCIAL:
        raise Http404
    require_on(user, REVIEW, reviewer_unit(report))
    report = _locked(report)
    if report.state != ReportState.SUBMITTED:
        raise ValidationError(
            {"state": f"Báo cáo đang ở trạng thái “{report.get_state_display()}”; chỉ báo cáo "
             "đã gửi mới được tiếp nhận hoặc trả lại."}
        )  # fmt: skip
    return report


@transaction.atomic
def accept(*, user, report: YearlyReport, comment: str = "") -> YearlyReport:
    """The level above accepts the report as sent."""
    report = _review(user, report)
    before = audit.snapshot(report)
    report.state = ReportState.ACCEPTED
    report.reviewed_at, report.reviewed_by = timezone.now(), user
    report.review_comment = (comment or "").strip()[:4000]
    report.save()
    _event(report, user, ReportState.SUBMITTED, report.review_comment)
    audit.record(report, ChangeAction.UPDATE, user=user, before=before, comment="Tiếp nhận")
    return report


@transaction.atomic
def return_report(*, user, report: YearlyReport, comment: str) -> YearlyReport:
    """The level above returns the report to be corrected, saying what to correct."""
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError(
            {"comment": "Hãy ghi rõ cần sửa, bổ sung gì để đơn vị hoàn thiện và gửi lại."}
        )
    report = _review(user, report)
    before = audit.snapshot(report)
    report.state = ReportState.RETURNED
    report.reviewed_at, report.reviewed_by = timezone.now(), user
    report.review_comment = comment[:4000]
    report.times_returned += 1
    report.save()
    _event(report, user, ReportState.SUBMITTED, report.review_comment)
    audit.record(report, ChangeAction.UPDATE, user=user, before=before, comment="Trả lại")
    officers = reminders.officers_of(report.unit, REPORT) if report.body_id is None else []
    emails = [u.email for u in officers] + ([report.body.email] if report.body_id else [])
    reminders.queue_email(
        emails,
        f"Báo cáo năm {report.year} của {report.reporter} bị trả lại",
        f"Tỉnh trả lại báo cáo năm {report.year} của {report.reporter} để hoàn thiện: "
        f"{comment}\nSửa và gửi lại tại: {reminders._site()}/bao-cao-nam/{report.pk}/",
    )
    return report


@transaction.atomic
def start_job(*, user, report: YearlyReport, kind: str, fmt: str = "") -> ReportJob:
    """Queue the worker's work on a report: compile the province's (`kpi.review` on it, while
    it is a draft) or write a file (anyone who may see the report). The job row carries the
    progress the console shows; the task starts once this transaction commits."""
    from .tasks import run_report_job

    if kind == JobKind.COMPILE:
        if report.kind != ReportKind.PROVINCIAL:
            raise ValidationError({"kind": "Chỉ báo cáo của tỉnh mới được tổng hợp."})
        require_on(user, REVIEW, report.unit)
        if not report.editable:
            raise ValidationError({"state": "Báo cáo tổng hợp đã hoàn thành; không tổng hợp lại."})
    elif kind == JobKind.EXPORT:
        if fmt not in ExportFormat.values:
            raise ValidationError({"fmt": "Định dạng tệp phải là PDF, DOCX hoặc XLSX."})
        require_on(user, VIEW, report.unit)
        if report.kind == ReportKind.PROVINCIAL and not report.figures:
            raise ValidationError({"state": "Hãy tổng hợp báo cáo trước khi xuất tệp."})
    else:
        raise ValidationError({"kind": "Việc không hợp lệ."})
    running = report.jobs.filter(kind=kind, fmt=fmt, status__in=(JobStatus.QUEUED,
                                                                  JobStatus.RUNNING))  # fmt: skip
    job = running.first()
    if job:
        return job
    job = ReportJob.objects.create(
        report=report, kind=kind, fmt=fmt, requested_by=user, step="Đang chờ máy chủ xử lý"
    )
    transaction.on_commit(lambda: run_report_job.enqueue(job.pk))
    return job


def safe_filename(text: str) -> str:
    from grassroots.units.text import fold

    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")[:60] or "bao-cao"


@transaction.atomic
def set_calendar(*, user, province: Unit, year: int, deadline: dt.date, days: list[dt.date]):
    """The year's deadline and reminder days (`kpi.review` on the province). Reminder days
    already sent stay sent."""
    _check_year(year)
    require_on(user, REVIEW, province)
    if deadline.year != year:
        raise ValidationError({"deadline": f"Hạn gửi phải nằm trong năm {year}."})
    if any(d > deadline for d in days):
        raise ValidationError({"reminders": "Ngày nhắc hạn phải trước hoặc đúng hạn gửi."})
    cal = reminders.calendar_for(year)
    before = audit.snapshot(cal)
    cal.deadline = deadline
    cal.reminders = [d.isoformat() for d in sorted(set(days))]
    cal.save()
    audit.record(cal, ChangeAction.UPDATE, user=user, before=before, comment="Hạn báo cáo năm")
    return cal
