"""Console pages of the plan's implementation records: funding (planned and spent by source
and year), e-board sites (proposal → review → installed board), inspections with their as-run
evidence."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render

from grassroots.accounts.policies import require
from grassroots.accounts.scope import covers, has_perm_anywhere
from grassroots.core.forms import add_action_errors
from grassroots.units.models import Unit

from . import actions
from .choices import CHECKLIST, SiteStatus
from .forms import BoardForm, InspectionForm, InvestmentForm, ReviewForm, SiteForm
from .models import EboardSite, Inspection, Investment
from .querysets import funding_summary, site_pipeline

VIEW, MANAGE, PROPOSE = actions.VIEW, actions.MANAGE, actions.PROPOSE


def _scoped(request, qs, field: str = "unit"):
    code = request.GET.get("unit", "").strip()[:16]
    if not code:
        return qs
    unit = Unit.objects.restrict(request.user, VIEW).current().filter(code=code).first()
    return qs.filter(**{f"{field}__path__startswith": unit.path}) if unit else qs.none()


def _year(request) -> int | None:
    raw = request.GET.get("year", "").strip()
    return int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else None


@login_required
def funding(request):
    """Investments in scope and the money planned and spent by source and year (plan IV)."""
    require(request.user, VIEW)
    form = None
    if has_perm_anywhere(request.user, MANAGE):
        form = InvestmentForm(request.POST or None, user=request.user)
    if request.method == "POST":
        require(request.user, MANAGE)
        if form.is_valid():
            d = dict(form.cleaned_data)
            unit = d.pop("unit")
            d["spent_amount"] = d.get("spent_amount") or 0
            try:
                actions.save_investment(user=request.user, unit=unit, data=d)
            except ValidationError as exc:
                add_action_errors(form, exc)
            else:
                messages.success(request, "Đã ghi khoản đầu tư.")
                return redirect("planning-funding")
    qs = _scoped(request, Investment.objects.restrict(request.user, VIEW))
    year = _year(request)
    if year:
        qs = qs.filter(year=year)
    return render(
        request,
        "planning/funding.html",
        {
            "summary": funding_summary(qs),
            "rows": qs.select_related("unit")[:500],
            "form": form,
            "year": year,
        },
    )


@login_required
def sites(request):
    """Proposed e-board sites in scope and where each stands (plan V.2)."""
    require(request.user, VIEW)
    form = None
    if has_perm_anywhere(request.user, PROPOSE):
        form = SiteForm(request.POST or None, user=request.user)
    if request.method == "POST":
        require(request.user, PROPOSE)
        if form.is_valid():
            d = form.cleaned_data
            try:
                site = actions.propose_site(
                    user=request.user,
                    unit=d["unit"],
                    address=d["address"],
                    reason=d["reason"],
                    latitude=d["latitude"],
                    longitude=d["longitude"],
                )
            except ValidationError as exc:
                add_action_errors(form, exc)
            else:
                messages.success(request, "Đã gửi đề xuất vị trí bảng tin.")
                return redirect("planning-site", site_id=site.pk)
    qs = _scoped(request, EboardSite.objects.restrict(request.user, VIEW))
    status = request.GET.get("status", "")
    pipeline = site_pipeline(qs)
    if status in SiteStatus.values:
        qs = qs.filter(status=status)
    return render(
        request,
        "planning/sites.html",
        {
            "sites": qs.select_related("unit", "board")[:500],
            "form": form,
            "pipeline": [(s, label, pipeline[s]) for s, label in SiteStatus.choices],
            "status": status,
        },
    )


@login_required
def site_detail(request, site_id: int):
    require(request.user, VIEW)
    site = get_object_or_404(
        EboardSite.objects.restrict(request.user, VIEW).select_related("unit", "board"), pk=site_id
    )
    can_review = site.status == SiteStatus.PROPOSED and covers(request.user, MANAGE, site.unit)
    can_link = site.status == SiteStatus.APPROVED and covers(request.user, PROPOSE, site.unit)
    review = ReviewForm(request.POST if "decision" in request.POST else None)
    board = BoardForm(
        request.POST if "board" in request.POST else None, user=request.user, unit=site.unit
    )
    if request.method == "POST":
        if "decision" in request.POST:
            require(request.user, MANAGE)
            form, ok = review, review.is_valid()
        else:
            require(request.user, PROPOSE)
            form, ok = board, board.is_valid()
        if ok:
            try:
                if form is review:
                    actions.review_site(
                        user=request.user,
                        site=site,
                        approve=review.cleaned_data["decision"] == "approve",
                        note=review.cleaned_data["note"],
                    )
                else:
                    actions.link_board(
                        user=request.user,
                        site=site,
                        board=board.cleaned_data["board"],
                        installed_on=board.cleaned_data["installed_on"],
                    )
            except ValidationError as exc:
                add_action_errors(form, exc)
            else:
                messages.success(request, "Đã lưu.")
                return redirect("planning-site", site_id=site.pk)
    return render(
        request,
        "planning/site.html",
        {
            "site": site,
            "review": review if can_review else None,
            "board_form": board if can_link else None,
        },
    )


@login_required
def inspections(request):
    """Inspection records of stations in scope (plan V.6)."""
    require(request.user, VIEW)
    form = None
    if has_perm_anywhere(request.user, MANAGE):
        form = InspectionForm(request.POST or None, user=request.user)
    if request.method == "POST":
        require(request.user, MANAGE)
        if form.is_valid():
            d = dict(form.cleaned_data)
            station = d.pop("station")
            try:
                inspection = actions.record_inspection(user=request.user, station=station, data=d)
            except ValidationError as exc:
                add_action_errors(form, exc)
            else:
                messages.success(request, "Đã ghi biên bản kiểm tra, kèm nhật ký phát của kỳ.")
                return redirect("planning-inspection", inspection_id=inspection.pk)
    qs = _scoped(request, Inspection.objects.restrict(request.user, VIEW), "station__unit")
    return render(
        request,
        "planning/inspections.html",
        {"rows": qs.select_related("station", "station__unit")[:500], "form": form},
    )


@login_required
def inspection_detail(request, inspection_id: int):
    require(request.user, VIEW)
    inspection = get_object_or_404(
        Inspection.objects.restrict(request.user, VIEW).select_related("station", "station__unit"),
        pk=inspection_id,
    )
    checklist = [(label, getattr(inspection, name)) for name, label in CHECKLIST]
    return render(
        request,
        "planning/inspection.html",
        {"i": inspection, "checklist": checklist, "e": inspection.evidence},
    )
