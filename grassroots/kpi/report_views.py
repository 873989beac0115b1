"""Console pages of the yearly report: who has reported (the province's view, with the
deadline and the reminder days), one report (write, send, accept or return, compile, export
with a progress bar), and the files the worker wrote."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from grassroots.accounts.policies import require
from grassroots.accounts.scope import covers, has_perm_anywhere
from grassroots.core.forms import add_action_errors
from grassroots.core.text import vietnamese_key
from grassroots.units.models import Unit

from . import actions, reminders, yearly
from .actions import REPORT, REVIEW, VIEW
from .choices import JobKind, JobStatus, ReportKind, ReportState
from .documents import CONTENT_TYPES, cell
from .forms import CalendarForm, ReportForm, ReturnForm
from .models import ReportCalendar, ReportingBody, ReportJob, YearlyReport


def _year(request) -> int:
    raw = (request.GET.get("nam") or request.POST.get("nam") or "").strip()
    if raw.isdigit() and actions.YEARS[0] <= int(raw) <= actions.YEARS[1]:
        return int(raw)
    return timezone.localdate().year


def _my_units(user):
    """Commune-level units in force where the user writes reports (at most 200), in
    Vietnamese alphabetical order."""
    units = (
        Unit.objects.restrict(user, REPORT)
        .filter(valid_to__isnull=True, kind__in=(*yearly.querysets.URBAN, *yearly.querysets.RURAL))
        .order_by("name")[:200]
    )
    return sorted(units, key=lambda u: vietnamese_key(u.name))


def _by_name(pair):
    return vietnamese_key(pair[0])


def _status_rows(user, year: int, deadline):
    """Every reporting unit and agency the user sees, with its report (or none)."""
    units = (
        Unit.objects.restrict(user, VIEW)
        .filter(valid_to__isnull=True, kind__in=(*yearly.querysets.URBAN, *yearly.querysets.RURAL))
        .order_by("name")
    )
    reports = {
        (r.unit_id, r.body_id): r
        for r in YearlyReport.objects.restrict(user, VIEW)
        .filter(year=year)
        .exclude(kind=ReportKind.PROVINCIAL)
    }
    bodies = ReportingBody.objects.restrict(user, VIEW).filter(active=True, compiles=False)
    rows = []
    for who, key in sorted(((u.name, (u.pk, None)) for u in units), key=_by_name) + sorted(
        ((b.name, (b.unit_id, b.pk)) for b in bodies), key=_by_name
    ):
        r = reports.get(key)
        sent = timezone.localtime(r.submitted_at).date() if r and r.submitted_at else None
        rows.append({"who": who, "report": r, "sent": sent, "late": bool(sent and sent > deadline)})
    return rows


@login_required
def report_list(request):
    """The year's reports: one's own units' (to write), and who has reported (to follow)."""
    require(request.user, VIEW)
    user, year = request.user, _year(request)
    cal = ReportCalendar.objects.filter(year=year).first()  # reading writes nothing
    deadline = reminders.deadline_of(year, cal)
    # the province the user reviews (a test database may hold a second one)
    roots = list(Unit.objects.filter(parent__isnull=True, valid_to__isnull=True).order_by("pk"))
    province = next((u for u in roots if covers(user, REVIEW, u)), roots[0] if roots else None)
    may_review = province is not None and covers(user, REVIEW, province)
    days = ", ".join(f"{d:%d/%m/%Y}" for d in reminders.reminder_days(year, cal))
    calendar_form = CalendarForm(
        request.POST if request.POST.get("op") == "han" else None,
        year=year,
        initial={"deadline": deadline, "reminders": days},
    )
    if request.method == "POST":
        op = request.POST.get("op", "")
        try:
            if op == "mo":
                unit = get_object_or_404(Unit, code=request.POST.get("unit", "")[:16],
                                         valid_to__isnull=True)  # fmt: skip
                report = actions.open_report(user=user, year=year, unit=unit)
                return redirect("report-detail", report_id=report.pk)
            if op == "mo-co-quan":
                body = get_object_or_404(
                    ReportingBody.objects.restrict(user, REPORT), pk=request.POST.get("body", 0)
                )
                report = actions.open_report(user=user, year=year, body=body)
                return redirect("report-detail", report_id=report.pk)
            if op == "tong-hop":
                require(user, REVIEW)
                if province is None:
                    raise Http404
                report = actions.open_provincial(user=user, province=province, year=year)
                actions.start_job(user=user, report=report, kind=JobKind.COMPILE)
                return redirect("report-detail", report_id=report.pk)
            if op == "han":
                require(user, REVIEW)
                if province is None:
                    raise Http404
                if calendar_form.is_valid():
                    actions.set_calendar(
                        user=user, province=province, year=year,
                        deadline=calendar_form.cleaned_data["deadline"],
                        days=calendar_form.cleaned_data["reminders"],
                    )  # fmt: skip
                    messages.success(request, _("Đã lưu hạn gửi và ngày nhắc hạn."))
                    return redirect(f"{request.path}?nam={year}")
        except ValidationError as exc:
            if op == "han":
                add_action_errors(calendar_form, exc)
            else:
                messages.error(request, " ".join(exc.messages))
                return redirect(f"{request.path}?nam={year}")
    mine = []
    # the province reviews and compiles: its page opens on its own report and on who has
    # reported (a commune's report opens from that table), not on a draft for every commune
    if has_perm_anywhere(user, REPORT) and not may_review:
        own = {r.unit_id: r for r in YearlyReport.objects.restrict(user, REPORT)
               .filter(year=year, kind=ReportKind.UNIT)}  # fmt: skip
        mine = [{"unit": u, "report": own.get(u.pk)} for u in _my_units(user)]
    rows = _status_rows(user, year, deadline)
    states = [r["report"].state if r["report"] else "" for r in rows]
    counts = {
        "expected": len(rows),
        "sent": sum(1 for s in states if s in ReportState.sent()),
        "late": sum(1 for r in rows if r["late"]),
        "returned": states.count(ReportState.RETURNED),
        "accepted": states.count(ReportState.ACCEPTED),
    }
    provincial = None
    if province is not None:
        provincial = (
            YearlyReport.objects.restrict(user, VIEW)
            .filter(year=year, kind=ReportKind.PROVINCIAL, unit=province)
            .first()
        )
    return render(request, "kpi/reports.html", {
        "year": year, "years": list(range(timezone.localdate().year + 1, 2023, -1)),
        "deadline": deadline, "reminder_days": reminders.reminder_days(year, cal),
        "mine": mine, "rows": rows, "counts": counts,
        "may_review": may_review, "calendar_form": calendar_form if may_review else None,
        "provincial": provincial,
        "agencies": sorted(
            ReportingBody.objects.restrict(user, REPORT).filter(active=True, compiles=False),
            key=lambda b: vietnamese_key(b.name),
        ) if has_perm_anywhere(user, REPORT) else [],
        "today": timezone.localdate(),
    })  # fmt: skip


def _report(request, report_id: int) -> YearlyReport:
    return get_object_or_404(
        YearlyReport.objects.restrict(request.user, VIEW).select_related("unit", "body"),
        pk=report_id,
    )


@login_required
def report_detail(request, report_id: int):
    """One report: its heading, figures and text; write and send it, accept or return it,
    compile the province's, and write it as PDF, DOCX or XLSX."""
    require(request.user, VIEW)
    report = _report(request, report_id)
    user = request.user
    may_write = report.editable and actions.may_write(user, report)
    may_review = report.state == ReportState.SUBMITTED and actions.may_review(user, report)
    form = ReportForm(request.POST if request.POST.get("op") in ("luu", "gui") else None,
                      report=report)  # fmt: skip
    review = ReturnForm(request.POST if request.POST.get("op") in ("tiep-nhan", "tra-lai")
                        else None)  # fmt: skip
    if request.method == "POST":
        op = request.POST.get("op", "")
        try:
            if op in ("luu", "gui"):
                require(user, actions.writer_permission(report))
                if form.is_valid():
                    report = actions.save(user=user, report=report, texts=form.texts(),
                                          header=form.header())  # fmt: skip
                    if op == "gui":
                        actions.submit(user=user, report=report)
                        messages.success(request, _("Đã gửi báo cáo."))
                    else:
                        messages.success(request, _("Đã lưu báo cáo."))
                    return redirect("report-detail", report_id=report.pk)
            elif op == "so-lieu":
                require(user, actions.writer_permission(report))
                actions.refresh(user=user, report=report)
                messages.success(request, _("Đã cập nhật số liệu từ hệ thống."))
                return redirect("report-detail", report_id=report.pk)
            elif op in ("tiep-nhan", "tra-lai"):
                require(user, REVIEW)
                if review.is_valid():
                    comment = review.cleaned_data["comment"]
                    if op == "tiep-nhan":
                        actions.accept(user=user, report=report, comment=comment)
                        messages.success(request, _("Đã tiếp nhận báo cáo."))
                    else:
                        actions.return_report(user=user, report=report, comment=comment)
                        messages.success(request, _("Đã trả lại báo cáo để đơn vị hoàn thiện."))
                    return redirect("report-detail", report_id=report.pk)
            elif op == "tong-hop":
                require(user, REVIEW)
                actions.start_job(user=user, report=report, kind=JobKind.COMPILE)
                return redirect("report-detail", report_id=report.pk)
            elif op == "xuat":
                actions.start_job(user=user, report=report, kind=JobKind.EXPORT,
                                  fmt=request.POST.get("fmt", ""))  # fmt: skip
                return redirect("report-detail", report_id=report.pk)
        except ValidationError as exc:
            target = review if op in ("tiep-nhan", "tra-lai") else form
            add_action_errors(target, exc)
            if op not in ("luu", "gui", "tiep-nhan", "tra-lai"):
                messages.error(request, " ".join(exc.messages))
    figures = report.figures or {}
    sections = []
    for s in yearly.SECTIONS:
        tables = figures.get("sections", {}).get(s.id, []) if s.part == "results" else []
        sections.append({
            "section": s,
            "field": form.section_field(s.id),
            "text": (report.texts or {}).get(s.id, ""),
            "tables": [{**t, "rows": [[cell(v) for v in row] for row in t["rows"]]}
                       for t in tables],
        })  # fmt: skip
    indicators = [{**r, "text": cell(r["value"])} for r in figures.get("indicators") or []]
    jobs = list(report.jobs.all()[:6])
    return render(request, "kpi/report.html", {
        "report": report, "form": form, "review": review, "sections": sections,
        "indicators": indicators, "may_write": may_write, "may_review": may_review,
        "may_compile": report.kind == ReportKind.PROVINCIAL and report.editable
        and covers(user, REVIEW, report.unit),
        "jobs": jobs, "events": report.events.select_related("user"),
        "appendices": [
            {**a, "tables": [{**t, "rows": [[cell(v) for v in row] for row in t["rows"]]}
                             for t in a["tables"]]}
            for a in figures.get("appendices", [])
        ],
    })  # fmt: skip


def _job(request, job_id: int) -> ReportJob:
    reports = YearlyReport.objects.restrict(request.user, VIEW).values("pk")
    return get_object_or_404(ReportJob.objects.filter(report__in=reports), pk=job_id)


@login_required
def report_job(request, job_id: int):
    """A job's progress bar (htmx polls it every second until the job is done)."""
    require(request.user, VIEW)
    job = _job(request, job_id)
    response = render(request, "kpi/_report_job.html", {"job": job})
    if job.kind == JobKind.COMPILE and job.status == JobStatus.DONE:
        response["HX-Refresh"] = "true"  # the compiled figures are on the page, not in the bar
    return response


@login_required
def report_file(request, job_id: int):
    """The file a job wrote, to the people who may see its report."""
    require(request.user, VIEW)
    job = _job(request, job_id)
    if not job.file:
        raise Http404
    root = Path(settings.MEDIA_ROOT).resolve()
    path = (root / job.file).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise Http404
    return FileResponse(
        path.open("rb"), as_attachment=True, filename=path.name, content_type=CONTENT_TYPES[job.fmt]
    )
