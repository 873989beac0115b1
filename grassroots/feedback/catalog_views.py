"""Console editors of province-wide feedback settings: report categories and the holiday
calendar (list by year, add, edit, delete, import the official list of a year).

Thin views: they parse a form, call one `catalog` action (right, validation, audit) and render;
an error is shown next to its field, and what was typed stays in the form.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from grassroots.core.forms import add_action_errors

from . import catalog
from .forms import CategoryForm, HolidayForm
from .models import Category, Holiday
from .policies import require_configure

# --- categories ----------------------------------------------------------------------------------


@login_required
def categories(request):
    """Every category (in use or not) with its deadline and how many reports it has."""
    require_configure(request.user)
    rows = Category.objects.annotate(report_count=Count("reports")).order_by("order", "name")
    return render(request, "feedback/console/categories.html", {"categories": rows})


@login_required
def category_edit(request, category_id: int | None = None):
    """Create (no id) or edit a category; the code is fixed once created."""
    require_configure(request.user)
    category = get_object_or_404(Category, pk=category_id) if category_id else None
    initial = {}
    if category is not None:
        initial = {
            f: getattr(category, f)
            for f in ("code", "name", "group", "description", "keywords", "deadline_working_days",
                      "escalation_working_days", "order", "is_active")
        }  # fmt: skip
    form = CategoryForm(request.POST or None, initial=initial, category=category)
    if request.method == "POST" and form.is_valid():
        try:
            saved = catalog.save_category(
                user=request.user, data=form.cleaned_data, category=category
            )
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, f"Đã lưu lĩnh vực '{saved.name}'.")
            return redirect("feedback-categories")
    used = category.reports.count() if category else 0
    return render(
        request,
        "feedback/console/category_form.html",
        {"form": form, "category": category, "used": used},
    )


@login_required
@require_POST
def category_delete(request, category_id: int):
    require_configure(request.user)
    category = get_object_or_404(Category, pk=category_id)
    try:
        catalog.delete_category(user=request.user, category=category)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("feedback-category", category_id=category.pk)
    messages.success(request, f"Đã xoá lĩnh vực '{category.name}'.")
    return redirect("feedback-categories")


# --- holidays ------------------------------------------------------------------------------------


def _year(raw, default: int) -> int:
    raw = str(raw or "").strip()
    if raw.isdigit() and catalog.FIRST_YEAR <= int(raw) <= catalog.LAST_YEAR:
        return int(raw)
    return default


def _holidays_url(year: int) -> str:
    return f"{reverse('feedback-holidays')}?nam={year}"


@login_required
def holidays(request):
    """The days off of one year (`?nam=`), with a form to add one."""
    require_configure(request.user)
    year = _year(request.GET.get("nam"), timezone.localdate().year)
    form = HolidayForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            day = catalog.save_holiday(
                user=request.user, date=form.cleaned_data["date"], name=form.cleaned_data["name"]
            )
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, f"Đã thêm ngày nghỉ {day.date:%d/%m/%Y} ({day.name}).")
            return redirect(_holidays_url(day.date.year))
    rows = Holiday.objects.filter(date__year=year).order_by("date")
    years = sorted(
        {d.year for d in Holiday.objects.dates("date", "year")} | {year, year + 1, year - 1}
    )
    return render(
        request,
        "feedback/console/holidays.html",
        {"form": form, "holidays": rows, "year": year, "years": years},
    )


@login_required
def holiday_edit(request, holiday_id: int):
    require_configure(request.user)
    holiday = get_object_or_404(Holiday, pk=holiday_id)
    form = HolidayForm(request.POST or None, initial={"date": holiday.date, "name": holiday.name})
    if request.method == "POST" and form.is_valid():
        try:
            catalog.save_holiday(
                user=request.user,
                date=form.cleaned_data["date"],
                name=form.cleaned_data["name"],
                holiday=holiday,
            )
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, f"Đã lưu ngày nghỉ {holiday.date:%d/%m/%Y}.")
            return redirect(_holidays_url(holiday.date.year))
    return render(request, "feedback/console/holiday_form.html", {"form": form, "holiday": holiday})


@login_required
@require_POST
def holiday_delete(request, holiday_id: int):
    require_configure(request.user)
    holiday = get_object_or_404(Holiday, pk=holiday_id)
    catalog.delete_holiday(user=request.user, holiday=holiday)
    messages.success(request, f"Đã xoá ngày nghỉ {holiday.date:%d/%m/%Y} ({holiday.name}).")
    return redirect(_holidays_url(holiday.date.year))


@login_required
def holidays_import(request):
    """The official days off of a year, to tick and add; days already there are marked."""
    require_configure(request.user)
    year = _year(request.POST.get("nam") or request.GET.get("nam"), timezone.localdate().year)
    error = ""
    if request.method == "POST":
        chosen = []
        for raw in request.POST.getlist("dates"):
            try:
                chosen.append(dt.date.fromisoformat(raw))
            except ValueError:
                continue
        try:
            made = catalog.import_holidays(user=request.user, year=year, dates=chosen)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, f"Đã thêm {len(made)} ngày nghỉ của năm {year}.")
            return redirect(_holidays_url(year))
    existing = dict(Holiday.objects.filter(date__year=year).values_list("date", "name"))
    rows = [
        {"date": day, "name": name, "have": existing.get(day), "weekend": day.weekday() >= 5}
        for day, name in catalog.official_holidays(year)
    ]
    return render(
        request,
        "feedback/console/holidays_import.html",
        {"rows": rows, "year": year, "error": error, "missing": sum(not r["have"] for r in rows)},
    )
