"""Business rules of the plan's implementation records. Each write checks its permission on
the unit concerned, writes and leaves an audit row:

- investments: `planning.manage` (plan IV: units draw up their estimates, the province approves);
- e-board sites: a commune proposes with `signage.manage`; the reviewer (Sở VHTTDL, plan V.2)
  approves or rejects with `planning.manage`; `signage.manage` links the installed board;
- inspections: `planning.manage` on the station's unit (plan V.6).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from grassroots.accounts.policies import require_on
from grassroots.core import audit
from grassroots.core.models import ChangeAction
from grassroots.devices.choices import DeviceKind
from grassroots.devices.models import Device
from grassroots.units.models import Unit

from .choices import CHECKLIST, FundingSource, InspectionKind, Purpose, SiteStatus
from .models import EboardSite, Inspection, Investment
from .querysets import asrun_evidence

VIEW, MANAGE, PROPOSE = "planning.view", "planning.manage", "signage.manage"
MAX_AMOUNT = 10**15  # a million billion đồng: far above any provincial programme
YEARS = (2020, 2100)


def unit_for(user, code: str, permission: str) -> Unit:
    """A unit in force where the user holds `permission`; 404 otherwise."""
    unit = Unit.objects.current().filter(code=(code or "").strip()[:16]).first()
    if unit is None or not Unit.objects.restrict(user, permission).filter(pk=unit.pk).exists():
        raise Http404
    return unit


def _within(obj_unit: Unit, unit: Unit, field: str, what: str) -> None:
    if not obj_unit.path.startswith(unit.path):
        raise ValidationError({field: f"{what} phải thuộc {unit.name}."})


@transaction.atomic
def save_investment(*, user, unit: Unit, data: dict[str, Any], investment=None) -> Investment:
    """Record (or correct) an investment: year, purpose, source, amounts in đồng (whole
    numbers, 0 ≤ spent), optionally the station, board or course it pays for (which must be
    of the unit or below)."""
    require_on(user, MANAGE, unit)
    before = audit.snapshot(investment) if investment else None
    inv = investment or Investment(unit=unit, created_by=user)
    for name in (
        "year",
        "purpose",
        "source",
        "title",
        "planned_amount",
        "spent_amount",
        "station",
        "board",
        "course",
        "decision",
        "note",
    ):
        if name in data:
            setattr(inv, name, data[name])
    errors = {}
    if inv.purpose not in Purpose.values:
        errors["purpose"] = "Hạng mục không hợp lệ; chọn một hạng mục trong danh sách."
    if inv.source not in FundingSource.values:
        errors["source"] = (
            "Nguồn kinh phí phải là: ngân sách tỉnh, ngân sách cấp xã, chương "
            "trình mục tiêu quốc gia, xã hội hóa hoặc thuê dịch vụ."
        )
    if not inv.year or not YEARS[0] <= int(inv.year) <= YEARS[1]:
        errors["year"] = f"Năm phải từ {YEARS[0]} đến {YEARS[1]}."
    for name, label in (
        ("planned_amount", "Kinh phí dự kiến"),
        ("spent_amount", "Số đã giải ngân"),
    ):
        value = getattr(inv, name)
        if value is None or not 0 <= int(value) < MAX_AMOUNT:
            errors[name] = f"{label} phải là số đồng từ 0 trở lên (số nguyên, không ghi dấu chấm)."
    if not (inv.title or "").strip():
        errors["title"] = "Hãy ghi nội dung khoản đầu tư."
    if errors:
        raise ValidationError(errors)
    if inv.station_id:
        _within(inv.station.unit, unit, "station", "Đài truyền thanh")
    if inv.board_id:
        if inv.board.kind != DeviceKind.BOARD:
            raise ValidationError({"board": "Thiết bị được chọn không phải bảng tin điện tử."})
        _within(inv.board.unit, unit, "board", "Bảng tin")
    inv.title = inv.title.strip()[:300]
    inv.unit = unit
    inv.save()
    audit.record(
        inv, ChangeAction.UPDATE if before else ChangeAction.CREATE, user=user, before=before
    )
    return inv


@transaction.atomic
def propose_site(
    *,
    user,
    unit: Unit,
    address: str,
    reason: str,
    latitude: float | None = None,
    longitude: float | None = None,
) -> EboardSite:
    """A commune proposes a place for a public e-board (plan V.2)."""
    require_on(user, PROPOSE, unit)
    errors = {}
    if not unit.is_commune_level:
        errors["unit"] = "Vị trí bảng tin được đề xuất theo từng xã, phường."
    if not (address or "").strip():
        errors["address"] = "Hãy ghi địa chỉ đặt bảng tin."
    if not (reason or "").strip():
        errors["reason"] = (
            "Hãy ghi lý do chọn vị trí (ví dụ: trước nhà văn hóa, nhiều người qua lại)."
        )
    if (latitude is None) != (longitude is None):
        errors["latitude"] = "Hãy ghi cả vĩ độ và kinh độ, hoặc để trống cả hai."
    elif latitude is not None and not (8 <= latitude <= 24 and 102 <= longitude <= 110):
        errors["latitude"] = "Toạ độ phải nằm trong Việt Nam (vĩ độ 8–24, kinh độ 102–110)."
    if errors:
        raise ValidationError(errors)
    site = EboardSite.objects.create(
        unit=unit,
        address=address.strip()[:300],
        reason=reason.strip(),
        latitude=latitude,
        longitude=longitude,
        proposed_by=user,
    )
    audit.record(site, ChangeAction.CREATE, user=user)
    return site


@transaction.atomic
def review_site(*, user, site: EboardSite, approve: bool, note: str = "") -> EboardSite:
    """Approve or reject a proposed site for the outdoor-advertising plan (plan V.2); only a
    site still `proposed` can be reviewed, and a rejection says why."""
    require_on(user, MANAGE, site.unit)
    site = EboardSite.objects.select_for_update().get(pk=site.pk)
    if site.status != SiteStatus.PROPOSED:
        raise ValidationError(
            {
                "status": f"Vị trí này đã ở trạng thái “{site.get_status_display()}”; "
                "chỉ vị trí đang đề xuất mới được thẩm định."
            }
        )
    if not approve and not (note or "").strip():
        raise ValidationError({"note": "Không duyệt thì hãy ghi lý do để xã biết mà đề xuất lại."})
    before = audit.snapshot(site)
    site.status = SiteStatus.APPROVED if approve else SiteStatus.REJECTED
    site.reviewed_by, site.reviewed_at = user, timezone.now()
    site.review_note = (note or "").strip()[:500]
    site.save()
    audit.record(
        site,
        ChangeAction.UPDATE,
        user=user,
        before=before,
        comment="Duyệt vị trí" if approve else "Không duyệt vị trí",
    )
    return site


@transaction.atomic
def link_board(*, user, site: EboardSite, board: Device, installed_on: dt.date | None = None):
    """The board installed at an approved site: a board device of the same commune, not
    already linked to another site. Coverage (signage.coverage) counts the board itself."""
    require_on(user, PROPOSE, site.unit)
    site = EboardSite.objects.select_for_update().get(pk=site.pk)
    if site.status not in (SiteStatus.APPROVED, SiteStatus.INSTALLED):
        raise ValidationError({"status": "Chỉ gắn bảng tin vào vị trí đã được duyệt."})
    if board.kind != DeviceKind.BOARD:
        raise ValidationError({"board": "Thiết bị được chọn không phải bảng tin điện tử."})
    _within(board.unit, site.unit, "board", "Bảng tin")
    taken = EboardSite.objects.filter(board=board).exclude(pk=site.pk).first()
    if taken:
        raise ValidationError({"board": f"Bảng tin này đã gắn với vị trí “{taken.address}”."})
    before = audit.snapshot(site)
    site.board, site.status = board, SiteStatus.INSTALLED
    site.installed_on = installed_on or timezone.localdate()
    site.save()
    audit.record(site, ChangeAction.UPDATE, user=user, before=before, comment="Gắn bảng tin")
    return site


@transaction.atomic
def record_inspection(*, user, station, data: dict[str, Any]) -> Inspection:
    """An inspection record of a station (plan V.6). The inspected period must end by the
    inspection day; the as-run evidence of the period is attached from the journal."""
    require_on(user, MANAGE, station.unit)
    errors = {}
    if data.get("kind") not in InspectionKind.values:
        errors["kind"] = "Hình thức kiểm tra phải là định kỳ hoặc đột xuất."
    start, end, day = data.get("period_start"), data.get("period_end"), data.get("inspected_on")
    if not day:
        errors["inspected_on"] = "Hãy ghi ngày kiểm tra."
    if not start or not end or end < start:
        errors["period_end"] = "Kỳ được kiểm tra phải có ngày bắt đầu và ngày kết thúc sau đó."
    elif day and end > day:
        errors["period_end"] = (
            f"Kỳ được kiểm tra phải kết thúc trước hoặc vào ngày kiểm tra ({day:%d/%m/%Y})."
        )
    elif (end - start).days > 366:
        errors["period_start"] = "Kỳ được kiểm tra dài nhất một năm."
    if not (data.get("inspector") or "").strip():
        errors["inspector"] = "Hãy ghi người hoặc đoàn kiểm tra."
    deadline = data.get("follow_up_deadline")
    if deadline and day and deadline < day:
        errors["follow_up_deadline"] = "Hạn khắc phục phải sau ngày kiểm tra."
    if errors:
        raise ValidationError(errors)
    inspection = Inspection(
        station=station,
        kind=data["kind"],
        inspected_on=day,
        inspector=data["inspector"].strip(),
        period_start=start,
        period_end=end,
        findings=data.get("findings") or "",
        follow_up=data.get("follow_up") or "",
        follow_up_deadline=deadline,
        created_by=user,
        evidence=asrun_evidence(station, start, end),
    )
    for name, _label in CHECKLIST:
        setattr(inspection, name, data.get(name))
    inspection.save()
    audit.record(inspection, ChangeAction.CREATE, user=user)
    return inspection
