"""Console pages of the training records: roster, courses, sessions, a session's attendance
with the XLSX import, and who still needs training (with the indicator per unit)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from grassroots.accounts.policies import require
from grassroots.accounts.scope import has_perm_anywhere
from grassroots.core.errors import Problem
from grassroots.core.forms import add_action_errors
from grassroots.units.models import Unit

from . import actions, attendance
from .forms import AttendanceForm, CourseForm, ImportForm, PeriodForm, SessionForm, StaffForm
from .models import Attendance, Course, Session, StaffMember
from .querysets import needing_training, period_of_year, staff_trained_by_unit

VIEW, MANAGE = actions.VIEW, actions.MANAGE
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _chosen_unit(request):
    code = request.GET.get("unit", "").strip()[:16]
    if not code:
        return None
    return Unit.objects.restrict(request.user, VIEW).current().filter(code=code).first()


def _post_allowed(request) -> bool:
    if request.method != "POST":
        return False
    require(request.user, MANAGE)
    return True


@login_required
def staff_list(request):
    """The roster of the units in scope; managers add people."""
    require(request.user, VIEW)
    form = None
    if has_perm_anywhere(request.user, MANAGE):
        form = StaffForm(request.POST or None, user=request.user)
    if _post_allowed(request) and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "unit"}
        try:
            staff = actions.save_staff(user=request.user, unit=form.cleaned_data["unit"], data=data)
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, f"Đã thêm {staff.full_name} vào danh sách cán bộ.")
            return redirect("training-staff")
    qs = StaffMember.objects.restrict(request.user, VIEW).select_related("unit")
    unit = _chosen_unit(request)
    if request.GET.get("unit"):
        qs = qs.filter(unit__path__startswith=unit.path) if unit else qs.none()
    page = Paginator(qs, 100).get_page(request.GET.get("page"))
    return render(request, "training/staff.html", {"page": page, "form": form})


@login_required
def staff_edit(request, staff_id: int):
    require(request.user, MANAGE)
    staff = get_object_or_404(StaffMember.objects.restrict(request.user, MANAGE), pk=staff_id)
    form = StaffForm(
        request.POST or None, instance=staff, user=request.user, initial={"unit": staff.unit.code}
    )
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "unit"}
        try:
            actions.save_staff(
                user=request.user, unit=form.cleaned_data["unit"], staff=staff, data=data
            )
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, f"Đã lưu thông tin của {staff.full_name}.")
            return redirect("training-staff")
    return render(request, "training/staff_edit.html", {"form": form, "staff": staff})


@login_required
def course_list(request):
    require(request.user, VIEW)
    form = (
        CourseForm(request.POST or None, user=request.user)
        if has_perm_anywhere(request.user, MANAGE)
        else None
    )
    if _post_allowed(request) and form.is_valid():
        d = form.cleaned_data
        try:
            course = actions.save_course(
                user=request.user,
                unit=d["unit"],
                title=d["title"],
                topics=d["topics"],
                description=d["description"],
            )
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, f"Đã tạo khóa học “{course.title}”.")
            return redirect("training-courses")
    courses = Course.objects.restrict(request.user, VIEW).select_related("unit")[:300]
    return render(request, "training/courses.html", {"courses": courses, "form": form})


@login_required
def session_list(request):
    require(request.user, VIEW)
    form = (
        SessionForm(
            request.POST or None, user=request.user, initial={"course": request.GET.get("course")}
        )
        if has_perm_anywhere(request.user, MANAGE)
        else None
    )
    if _post_allowed(request) and form.is_valid():
        d = form.cleaned_data
        try:
            session = actions.save_session(
                user=request.user,
                course=d["course"],
                starts_on=d["starts_on"],
                ends_on=d["ends_on"],
                place=d["place"],
                trainer=d["trainer"],
                hours=d["hours"],
            )
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, "Đã mở lớp học; hãy ghi hoặc nhập kết quả học viên.")
            return redirect("training-session", session_id=session.pk)
    sessions = Session.objects.restrict(request.user, VIEW).select_related(
        "course", "course__unit"
    )[:300]
    return render(request, "training/sessions.html", {"sessions": sessions, "form": form})


@login_required
def session_detail(request, session_id: int):
    """A session's attendance; its organiser records one result or imports the whole list."""
    require(request.user, VIEW)
    session = get_object_or_404(
        Session.objects.restrict(request.user, VIEW).select_related("course", "course__unit"),
        pk=session_id,
    )
    can_manage = Session.objects.restrict(request.user, MANAGE).filter(pk=session.pk).exists()
    form = AttendanceForm(user=request.user) if can_manage else None
    upload = ImportForm() if can_manage else None
    errors: list[dict] = []
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied("Bạn không có quyền quản lý đào tạo của lớp học này.")
        if "file" in request.FILES or request.POST.get("import"):
            upload = ImportForm(request.POST, request.FILES)
            if upload.is_valid():
                f = upload.cleaned_data["file"]
                try:
                    result = actions.import_attendance(
                        user=request.user, session=session, data=f.read(), filename=f.name
                    )
                except Problem as exc:
                    errors = exc.extra.get(
                        "errors", [{"row": "", "field": "", "message": exc.detail}]
                    )
                    messages.error(request, exc.detail)
                else:
                    messages.success(
                        request,
                        f"Đã nhập danh sách: {result.created} kết quả mới, "
                        f"cập nhật {result.updated} kết quả.",
                    )
                    return redirect("training-session", session_id=session.pk)
        else:
            form = AttendanceForm(request.POST, user=request.user)
            if form.is_valid():
                d = form.cleaned_data
                try:
                    actions.record_attendance(
                        user=request.user,
                        session=session,
                        staff=d["staff"],
                        result=d["result"],
                        score=d["score"],
                        note=d["note"],
                    )
                except ValidationError as exc:
                    add_action_errors(form, exc)
                else:
                    messages.success(request, f"Đã ghi kết quả của {d['staff'].full_name}.")
                    return redirect("training-session", session_id=session.pk)
    rows = (
        Attendance.objects.restrict(request.user, VIEW)
        .filter(session=session)
        .select_related("staff", "staff__unit")
    )
    return render(
        request,
        "training/session.html",
        {
            "session": session,
            "rows": rows,
            "form": form,
            "upload": upload,
            "errors": errors,
            "headers": attendance.HEADERS,
        },
    )


@login_required
def attendance_template(request):
    """The empty attendance list with the headers the import reads."""
    require(request.user, VIEW)
    response = HttpResponse(attendance.template(), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="danh-sach-hoc-vien.xlsx"'
    return response


@login_required
def needs(request):
    """Who still needs training in the period, and the share trained per unit below the
    chosen one (plan III.4; the indicator of `querysets.staff_trained`)."""
    require(request.user, VIEW)
    start, end = period_of_year(timezone.localdate().year)
    period = PeriodForm(
        request.GET if request.GET.get("start") or request.GET.get("end") else None,
        initial={"start": start, "end": end},
    )
    if period.is_valid():
        start = period.cleaned_data.get("start") or start
        end = period.cleaned_data.get("end") or end
    visible = Unit.objects.restrict(request.user, VIEW).current()
    root = _chosen_unit(request) or visible.order_by("depth", "code").first()
    people = []
    shares: list[tuple[Unit, object]] = []
    no_data: list[Unit] = []
    if root is not None:
        staff = StaffMember.objects.restrict(request.user, VIEW).filter(
            unit__path__startswith=root.path
        )
        people = list(
            needing_training(staff, start=start, end=end).order_by("unit__path", "name_folded")[
                :1000
            ]
        )
        children = list(visible.filter(parent=root).order_by("name"))
        units = [root, *children]
        by_unit = staff_trained_by_unit(units, start=start, end=end)
        shares = [(u, by_unit[u.pk]) for u in units if by_unit[u.pk] or u == root]
        no_data = [u for u in children if by_unit[u.pk] is None]
    return render(
        request,
        "training/needs.html",
        {
            "people": people,
            "shares": shares,
            "root": root,
            "period": period,
            "no_data": no_data,
            "start": start,
            "end": end,
        },
    )
