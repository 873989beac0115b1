"""The facts behind each number: the rows an indicator was computed from, for one unit's
subtree and one period. Each function returns (headers, rows); rows hold plain values."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db.models import Count, Min, Q

from grassroots.core.dates import VIETNAM

from . import compliance, querysets
from .querysets import Period

KIND_LABELS = {"media": "Phát theo lịch", "relay": "Tiếp sóng", "priority": "Phát ngay",
               "live": "Trực tiếp", "board": "Bảng tin"}  # fmt: skip
LIMIT = 50_000  # rows in an export; the page shows the first PAGE
PAGE = 500


def _window(period: Period) -> tuple[datetime, datetime]:
    return (
        datetime.combine(period.start, time(0), VIETNAM),
        datetime.combine(period.end + timedelta(days=1), time(0), VIETNAM),
    )


def _yes(flag: bool) -> str:
    return "có" if flag else "không"


def essential(unit, period):
    from grassroots.broadcast.models import AsRunEntry
    from grassroots.content.models import BulletinShare
    from grassroots.signage.models import DisplayProof

    a, b = _window(period)
    shares = list(
        BulletinShare.objects.filter(
            unit__path__startswith=unit.path, shared_at__gte=a, shared_at__lt=b,
            withdrawn_at__isnull=True,
        ).filter(Q(must_air=True) | Q(bulletin__category__essential=True)
                 | Q(bulletin__priority__in=("priority", "emergency")))
        .select_related("bulletin", "unit").order_by("-shared_at")[:LIMIT]
    )  # fmt: skip
    units = {s.unit_id for s in shares}
    bids = {s.bulletin_id for s in shares}
    first: dict = {}
    for u, bid, at in [
        *AsRunEntry.objects.filter(status="played", device__unit_id__in=units,
                                   item__revision__bulletin_id__in=bids, started_at__gte=a)
        .values_list("device__unit_id", "item__revision__bulletin_id")
        .annotate(first=Min("started_at")),
        *DisplayProof.objects.filter(unit_id__in=units, bulletin_id__in=bids, started_at__gte=a)
        .values_list("unit_id", "bulletin_id").annotate(first=Min("started_at")),
    ]:  # fmt: skip
        first[(u, bid)] = min(at, first.get((u, bid), at))
    rows = []
    for s in shares:
        at = first.get((s.unit_id, s.bulletin_id))
        minutes = round((at - s.shared_at).total_seconds() / 60) if at else None
        rows.append([s.bulletin.title, s.unit.name, s.shared_at, at, minutes])
    return ["Bản tin", "Đơn vị nhận", "Chia sẻ lúc", "Phát/hiển thị đầu tiên", "Sau (phút)"], rows


def reports(unit, period):
    from grassroots.feedback.models import Report

    a, b = _window(period)
    rows = []
    for r in (
        Report.objects.filter(unit__path__startswith=unit.path, created_at__gte=a,
                              created_at__lt=b, merged_into__isnull=True)
        .select_related("unit").order_by("-created_at")[:LIMIT]
    ):  # fmt: skip
        handled = min((t for t in (r.answered_at, r.closed_at) if t), default=None)
        rows.append(
            [
                r.tracking_code,
                r.unit.name,
                r.get_status_display(),
                r.created_at,
                r.due_at,
                handled,
                _yes(handled is not None and handled <= r.due_at),
            ]
        )
    return ["Mã", "Đơn vị xử lý", "Trạng thái", "Tiếp nhận", "Hạn", "Xử lý xong", "Đúng hạn"], rows


def ratings(unit, period):
    from grassroots.feedback.models import Rating

    a, b = _window(period)
    rows = [
        [r.report.tracking_code, r.report.unit.name, r.stars, r.created_at]
        for r in Rating.objects.filter(report__unit__path__startswith=unit.path,
                                       created_at__gte=a, created_at__lt=b)
        .select_related("report__unit").order_by("-created_at")[:LIMIT]
    ]  # fmt: skip
    return ["Phản ánh", "Đơn vị", "Số sao", "Đánh giá lúc"], rows


def stations(unit, period):
    from grassroots.broadcast.models import Station

    rows = []
    for s in (
        Station.objects.filter(unit__path__startswith=unit.path).select_related("unit")
        .annotate(n=Count("devices", filter=Q(devices__kind="speaker", devices__enabled=True)),
                  ip=Count("devices", filter=Q(devices__kind="speaker", devices__enabled=True,
                                               devices__technology="ip_4g")))
        .order_by("unit__name")
    ):  # fmt: skip
        rows.append([s.name, s.unit.name, s.n, s.ip, _yes(s.n > 0 and s.n == s.ip)])
    return ["Đài", "Đơn vị", "Cụm loa", "Cụm loa IP", "Đã chuyển đổi"], rows


def devices(unit, period):
    rows = [
        [d["device"].name, d["device"].serial, d["device"].unit.name,
         d["device"].get_technology_display(), d["plays"], d["failed"], d["on_time"],
         d["availability"]]
        for d in querysets.devices(unit, period) if d["device"].kind == "speaker"
    ]  # fmt: skip
    return ["Cụm loa", "Số sê-ri", "Đơn vị", "Công nghệ", "Lần phát", "Lỗi",
            "Đúng giờ (%)", "Trực tuyến (%)"], rows  # fmt: skip


def eboards(unit, period):
    from grassroots.units.models import Unit

    from .models import DailyRollup

    last = (
        DailyRollup.objects.filter(unit__path__startswith=unit.path, day__gte=period.start,
                                   day__lte=period.end).order_by("-day")
        .values_list("day", flat=True).first()
    )  # fmt: skip
    boards = dict(
        DailyRollup.objects.filter(unit__path__startswith=unit.path, day=last)
        .values_list("unit_id", "boards_working")
    ) if last else {}  # fmt: skip
    rows = [
        [u.name, u.get_kind_display(), boards.get(u.pk, 0), _yes(boards.get(u.pk, 0) > 0)]
        for u in Unit.objects.descendants_of(unit, include_self=True)
        .filter(valid_to__isnull=True, kind__in=(*querysets.URBAN, *querysets.RURAL))
        .order_by("name")
    ]  # fmt: skip
    return ["Đơn vị", "Loại", "Bảng tin hoạt động", "Có bảng tin"], rows


def plays(unit, period):
    from grassroots.broadcast.models import AsRunEntry

    a, b = _window(period)
    rows = [
        [e.device.name, e.device.unit.name, KIND_LABELS.get(e.kind, e.kind), e.scheduled_start,
         e.started_at, e.get_status_display(),
         None if not e.scheduled_start else round((e.started_at - e.scheduled_start)
                                                  .total_seconds())]
        for e in AsRunEntry.objects.filter(device__unit__path__startswith=unit.path,
                                           started_at__gte=a, started_at__lt=b)
        .select_related("device__unit").order_by("-started_at")[:LIMIT]
    ]  # fmt: skip
    return ["Thiết bị", "Đơn vị", "Loại", "Giờ trong lịch", "Bắt đầu", "Kết quả",
            "Lệch (giây)"], rows  # fmt: skip


def relay(unit, period):
    from .models import DailyRollup

    rows = [
        [r.unit.name, r.day, r.relay_due, r.relay_full, r.relay_partial, r.relay_missed]
        for r in DailyRollup.objects.filter(unit__path__startswith=unit.path, relay_due__gt=0,
                                            day__gte=period.start, day__lte=period.end)
        .select_related("unit").order_by("-day", "unit__name")[:LIMIT]
    ]  # fmt: skip
    return ["Đơn vị", "Ngày", "Khung phải tiếp sóng", "Đã tiếp sóng", "Một phần", "Bỏ sót"], rows


def emergencies(unit, period):
    from grassroots.alerts.models import Emergency

    a, b = _window(period)
    ancestors = [int(p) for p in unit.path.strip("/").split("/") if p]
    rows = [
        [e.title, e.unit.name, e.sent_at, e.expected_devices, e.n_ok]
        for e in Emergency.objects.filter(sent_at__gte=a, sent_at__lt=b)
        .filter(Q(unit__path__startswith=unit.path) | Q(unit_id__in=ancestors))
        .select_related("unit")
        .annotate(n_ok=Count("acks", filter=Q(acks__status="ok",
                                             acks__device__unit__path__startswith=unit.path)))
        .order_by("-sent_at")[:LIMIT]
    ]  # fmt: skip
    return ["Phát khẩn cấp", "Vùng", "Gửi lúc", "Thiết bị phải nhận (cả vùng)",
            "Thiết bị ở đây đã xác nhận"], rows  # fmt: skip


def bulletins(unit, period):
    from grassroots.content.models import Bulletin

    a, b = _window(period)
    rows = []
    for x in (
        Bulletin.objects.filter(unit__path__startswith=unit.path, published_at__gte=a,
                                published_at__lt=b)
        .select_related("unit", "category")
        .annotate(submitted=Min("transitions__at", filter=Q(transitions__to_status="submitted")))
        .order_by("-published_at")[:LIMIT]
    ):  # fmt: skip
        level = ("Trung ương" if x.source == "national" else "Cấp tỉnh"
                 if x.source == "provincial_body" or x.unit.depth == 0 else "Cấp xã")  # fmt: skip
        lead = (round((x.published_at - x.submitted).total_seconds() / 3600, 1)
                if x.submitted else None)  # fmt: skip
        rows.append([x.title, x.unit.name, level, x.category.name if x.category else "",
                     x.published_at, lead])  # fmt: skip
    return ["Bản tin", "Đơn vị", "Cấp nguồn", "Lĩnh vực", "Xuất bản", "Thời gian duyệt (giờ)"], rows


def staff(unit, period):
    """Per unit (and the units under it): staff who must be trained, and those trained in the
    period (no names: the training pages list people, for `training.view`)."""
    from grassroots.training.querysets import staff_trained_by_unit
    from grassroots.units.models import Unit

    units = list(
        Unit.objects.descendants_of(unit, include_self=True)
        .filter(valid_to__isnull=True)
        .order_by("depth", "name")
    )
    shares = staff_trained_by_unit(units, start=period.start, end=period.end)
    rows = [
        [u.name, s.required, s.trained, s.percent] for u in units if (s := shares[u.pk]) is not None
    ]
    return ["Đơn vị (cả đơn vị trực thuộc)", "Cán bộ phải đào tạo", "Đã đào tạo trong kỳ",
            "Tỷ lệ (%)"], rows  # fmt: skip


KINDS = {
    "essential": essential, "reports": reports, "ratings": ratings, "stations": stations,
    "devices": devices, "eboards": eboards, "plays": plays, "relay": relay,
    "emergencies": emergencies, "bulletins": bulletins, "staff": staff,
}  # fmt: skip


def relay_days(unit, period, *, max_days: int = 31) -> list[tuple]:
    """(day, [SlotResult]) for the last `max_days` days of the period (one commune)."""
    end = min(period.end, querysets.today())
    start = max(period.start, end - timedelta(days=max_days - 1))
    if end < start:
        return []
    return compliance.for_unit_days(unit, start, end)
