"""A small, plausible set of Hưng Yên plan records for the demo: funding, e-board sites and
one inspection (idempotent)."""

from __future__ import annotations

import datetime as dt

from grassroots.units.models import Unit

from .choices import SiteStatus
from .models import EboardSite, Inspection, Investment
from .querysets import asrun_evidence

MARK = "QĐ 1520/QĐ-UBND (dữ liệu mẫu)"
MONEY = [
    # (unit, year, purpose, source, title, planned, spent)
    (
        "11953",
        2025,
        "station_conversion",
        "provincial_budget",
        "Chuyển đổi đài truyền thanh phường Phố Hiến sang CNTT-VT",
        850_000_000,
        850_000_000,
    ),
    (
        "11977",
        2026,
        "station_conversion",
        "national_programme",
        "Chuyển đổi đài truyền thanh xã Tân Hưng (xã nông thôn mới)",
        780_000_000,
        312_000_000,
    ),
    (
        "11953",
        2026,
        "eboard",
        "socialised",
        "Bảng tin điện tử trước UBND phường Phố Hiến (doanh nghiệp tài trợ)",
        180_000_000,
        180_000_000,
    ),
    (
        "33",
        2026,
        "source_system",
        "service_rental",
        "Thuê dịch vụ hệ thống thông tin nguồn cấp tỉnh năm 2026",
        420_000_000,
        210_000_000,
    ),
    (
        "33",
        2026,
        "training",
        "provincial_budget",
        "Bồi dưỡng nghiệp vụ thông tin cơ sở năm 2026",
        95_000_000,
        95_000_000,
    ),
    (
        "11977",
        2026,
        "maintenance",
        "commune_budget",
        "Bảo dưỡng cụm loa các thôn",
        35_000_000,
        12_500_000,
    ),
]


def load() -> dict[str, int]:
    if Investment.objects.filter(decision=MARK).exists():
        return {"planning": 0}
    units = {u.code: u for u in Unit.objects.current().filter(code__in=["33", "11953", "11977"])}
    made = 0
    for code, year, purpose, source, title, planned, spent in MONEY:
        if code in units:
            Investment.objects.create(
                unit=units[code],
                year=year,
                purpose=purpose,
                source=source,
                title=title,
                planned_amount=planned,
                spent_amount=spent,
                decision=MARK,
            )
            made += 1
    ward, commune = units.get("11953"), units.get("11977")
    if ward is None or commune is None:
        return {"planning": made}
    EboardSite.objects.create(
        unit=ward,
        address="Trước trụ sở UBND phường Phố Hiến",
        status=SiteStatus.APPROVED,
        reason="Nơi đông người đến làm thủ tục; có sẵn điện lưới và cáp quang.",
        review_note="Phù hợp quy hoạch quảng cáo ngoài trời",
        reviewed_at=dt.datetime(2026, 8, 20, 9, tzinfo=dt.UTC),
        latitude=ward.latitude,
        longitude=ward.longitude,
    )
    EboardSite.objects.create(
        unit=ward,
        address="Cổng chợ Phố Hiến",
        reason="Chợ trung tâm, nhiều người qua lại buổi sáng.",
    )
    EboardSite.objects.create(
        unit=commune,
        address="Nhà văn hóa thôn trung tâm xã Tân Hưng",
        reason="Điểm sinh hoạt cộng đồng của xã.",
    )
    from grassroots.broadcast.actions import ensure_station

    station = ensure_station(ward)
    start, end = dt.date(2026, 10, 1), dt.date(2026, 10, 15)
    Inspection.objects.create(
        station=station,
        kind="periodic",
        inspected_on=dt.date(2026, 10, 20),
        inspector="Đoàn kiểm tra Sở Văn hóa, Thể thao và Du lịch",
        period_start=start,
        period_end=end,
        equipment_ok=True,
        relay_slots_kept=True,
        content_approved=True,
        logs_kept=False,
        findings="Sổ nhật ký phát thanh ghi chưa đầy đủ các buổi tiếp sóng.",
        follow_up="Ghi đủ sổ nhật ký; đối chiếu với nhật ký phát trên hệ thống.",
        follow_up_deadline=dt.date(2026, 11, 30),
        evidence=asrun_evidence(station, start, end),
    )
    return {"planning": made + 4}
