"""What the yearly report says: its sections (the plan's structure, sections III–V), and the
figures the platform pre-fills for a unit, an agency or the whole province.

The report is a Vietnamese administrative document (Nghị định 30/2020/NĐ-CP): its headings and
tables are the document's own words, in Vietnamese whatever the console's language. Figures
come from the apps that own them, through their own functions: the indicators from
`kpi.querysets.tiles` and `totals` (the dashboard's numbers), training from
`training.querysets.staff_trained`, money from `planning.querysets.funding_summary`, e-board
sites from `planning.querysets.site_pipeline`. Every table is stored ready to print
(`{"title", "headers", "rows"}`, cells numbers or text), so the DOCX, XLSX and PDF writers
lay out the same thing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Count, Sum
from django.utils import timezone, translation

from grassroots.core.text import vietnamese_key
from grassroots.units.models import Unit

from . import querysets
from .choices import ReportKind, ReportState
from .indicators import BY_ID

PLAN_TITLE = (
    "Kế hoạch triển khai thực hiện Đề án nâng cao hiệu quả hoạt động thông tin cơ sở dựa trên "
    "ứng dụng công nghệ thông tin giai đoạn 2021-2025, tầm nhìn đến năm 2030 trên địa bàn tỉnh "
    "Hưng Yên"
)
MAX_TEXT = 20_000  # characters per section: a few pages


@dataclass(frozen=True)
class Section:
    """One part of the report: `id`, the heading as printed, the plan's section it answers,
    and what the officer is asked to write there."""

    id: str
    heading: str
    plan: str
    hint: str
    part: str  # "results" (under I. KẾT QUẢ THỰC HIỆN) or "closing" (II–IV)


SECTIONS: tuple[Section, ...] = (
    Section(
        "radio",
        "1. Xây dựng, hoàn thiện hệ thống truyền thanh cơ sở ứng dụng công nghệ thông tin - "
        "viễn thông",
        "III.1",
        "Rà soát đài truyền thanh, chuyển đổi sang CNTT-VT, bảo dưỡng, tiếp sóng theo khung giờ.",
        "results",
    ),
    Section(
        "eboards",
        "2. Xây dựng bảng tin điện tử công cộng",
        "III.2, V.2",
        "Bảng tin đã lắp, vị trí đề xuất, kết nối với hệ thống thông tin nguồn.",
        "results",
    ),
    Section(
        "source",
        "3. Cung cấp thông tin và tiếp nhận phản ánh trên hệ thống thông tin nguồn",
        "III.3",
        "Thông tin thiết yếu đã phổ biến, bản tin, phản ánh của người dân đã tiếp nhận, xử lý.",
        "results",
    ),
    Section(
        "training",
        "4. Bồi dưỡng, tập huấn cán bộ làm công tác thông tin cơ sở",
        "III.4",
        "Các lớp đã tổ chức hoặc cử cán bộ tham dự, kết quả, cán bộ chưa được bồi dưỡng.",
        "results",
    ),
    Section(
        "funding",
        "5. Kinh phí thực hiện",
        "IV",
        "Kinh phí bố trí và giải ngân theo nguồn; huy động xã hội hóa, thuê dịch vụ.",
        "results",
    ),
    Section(
        "inspections",
        "6. Công tác kiểm tra, giám sát hoạt động truyền thanh cơ sở",
        "V.6",
        "Kiểm tra định kỳ, đột xuất; tồn tại phát hiện và việc khắc phục.",
        "results",
    ),
    Section(
        "assessment",
        "II. ĐÁNH GIÁ CHUNG",
        "",
        "Kết quả nổi bật; tồn tại, hạn chế và nguyên nhân.",
        "closing",
    ),
    Section(
        "next_year",
        "III. PHƯƠNG HƯỚNG, NHIỆM VỤ NĂM TIẾP THEO",
        "",
        "Nhiệm vụ, giải pháp trọng tâm của năm sau.",
        "closing",
    ),
    Section("proposals", "IV. ĐỀ XUẤT, KIẾN NGHỊ", "", "Đề xuất với UBND tỉnh, các sở.", "closing"),
)
SECTION_IDS = tuple(s.id for s in SECTIONS)
# The parts of the units' reports the province's compiled report gathers in an appendix.
GATHERED = ("assessment", "proposals")


def period_of(year: int) -> querysets.Period:
    return querysets.Period(dt.date(year, 1, 1), dt.date(year, 12, 31), "nam", str(year))


def table(
    title: str, headers: list[str], rows: list[list], widths: list[int] | None = None
) -> dict:
    """A printable table; `widths` (percent per column) when the default (the first column
    widest) does not suit it."""
    out = {"title": title, "headers": headers, "rows": rows}
    if widths:
        out["widths"] = widths
    return out


def _pct(v: float | None) -> float | None:
    return None if v is None else round(v, 1)


# --- the indicators ------------------------------------------------------------------------


def indicator_rows(unit: Unit, year: int) -> list[dict]:
    """Each indicator of the plan for the unit's year, as the dashboard computes it
    (`querysets.tiles`), with its target and whether it is met. "Staff trained" takes the
    training records' figure (`training.querysets.staff_trained`), the indicator's definition."""
    from grassroots.training.querysets import staff_trained

    period = period_of(year)
    rows = []
    trained = staff_trained(unit, start=period.start, end=period.end)
    for tile in querysets.tiles(unit, period):
        ind = tile["indicator"]
        value, target = tile["value"], tile["target"]
        rag = tile["rag"]
        if ind.id == "staff_trained" and trained is not None:
            value = trained.percent
            rag = querysets.rag(ind, value, target)
        rows.append({
            "id": ind.id,
            "name": str(ind.name),
            "unit": str(ind.unit),
            "digits": ind.digits,
            "value": value,
            # "≥ 100 %", never wrapped after "≥" on a phone
            "target": (f"{target.get_comparison_display()}\u00a0{querysets.number(target.value)}"
                       + (f"\u00a0{ind.unit}" if str(ind.unit) else "")) if target else "",
            "rag": rag,
            "rag_label": str(querysets.RAG_LABELS[rag]),
            "last_year": tile["last_year"],
        })  # fmt: skip
    return rows


def indicator_table(rows: list[dict], year: int) -> dict:
    return table(
        f"Bảng 1. Kết quả các chỉ tiêu của Kế hoạch năm {year}",
        ["Chỉ tiêu", "Đơn vị tính", "Kết quả", "Mục tiêu", "Đánh giá", f"Năm {year - 1}"],
        [
            [
                r["name"],
                r["unit"],
                r["value"],
                r["target"],
                r["rag_label"] if r["rag"] else "—",
                r["last_year"],
            ]
            for r in rows
        ],  # fmt: skip
    )


# --- the sections' figures -------------------------------------------------------------------


def _radio(unit: Unit, t) -> list[dict]:
    from grassroots.broadcast.models import Station

    stations = list(
        Station.objects.filter(unit__path__startswith=unit.path).values_list("name", flat=True)
    )
    return [
        table(
            "Đài truyền thanh cấp xã (kiểm kê cuối kỳ)",
            ["Nội dung", "Số lượng"],
            [
                ["Đài truyền thanh", t["stations"] if t.has_rows else len(stations)],
                ["Đài đã chuyển đổi hoàn toàn sang CNTT-VT", t["stations_ip"]],
                ["Cụm loa IP", t["speakers_ip"]],
                ["Cụm loa IP có kết nối trong ngày cuối kỳ", t["speakers_ip_seen"]],
                ["Lần phát theo nhật ký (as-run)", t["plays"]],
                [
                    "Khung giờ tiếp sóng bắt buộc / tiếp sóng đủ",
                    f"{t['relay_due']} / {t['relay_full']}",
                ],
            ],
        )  # fmt: skip
    ]


def _eboards(unit: Unit, t) -> list[dict]:
    from grassroots.planning.choices import SiteStatus
    from grassroots.planning.models import EboardSite
    from grassroots.planning.querysets import site_pipeline

    pipeline = site_pipeline(EboardSite.objects.filter(unit__path__startswith=unit.path))
    labels = dict(SiteStatus.choices)
    rows = [["Bảng tin điện tử đang hoạt động (cuối kỳ)", t["boards_working"]]]
    if t.wards:
        rows.append(["Phường có bảng tin", f"{t.wards_covered} / {t.wards}"])
    if t.communes:
        rows.append(["Xã, đặc khu có bảng tin", f"{t.communes_covered} / {t.communes}"])
    rows += [[f"Vị trí bảng tin: {labels[s]}", n] for s, n in pipeline.items()]
    return [table("Bảng tin điện tử công cộng", ["Nội dung", "Số lượng"], rows)]


def _source(unit: Unit, t) -> list[dict]:
    rating = BY_ID["feedback_rating"].value(t)
    return [
        table(
            "Thông tin trên hệ thống thông tin nguồn và phản ánh của người dân",
            ["Nội dung", "Số lượng"],
            [
                ["Bản tin tự soạn đã xuất bản", t["bulletins_own"]],
                ["Bản tin cấp tỉnh đã xuất bản", t["bulletins_provincial"]],
                ["Bản tin từ hệ thống thông tin nguồn trung ương", t["bulletins_national"]],
                [
                    "Lượt bản tin thiết yếu phải phổ biến / đã phát, hiển thị",
                    f"{t['essential_due']} / {t['essential_aired']}",
                ],
                ["Phản ánh tiếp nhận", t["reports_received"]],
                ["Phản ánh đã trả lời, đóng", t["reports_handled"]],
                ["Phản ánh xử lý đúng hạn", t["reports_in_time"]],
                [
                    "Lượt đánh giá / điểm hài lòng trung bình (sao)",
                    f"{t['ratings']} / {querysets.number(rating, 2)}",
                ],
            ],
        )  # fmt: skip
    ]


def _training(unit: Unit, year: int) -> list[dict]:
    from grassroots.training.models import Session, StaffMember
    from grassroots.training.querysets import needing_training, staff_trained

    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    share = staff_trained(unit, start=start, end=end)
    sessions = Session.objects.filter(
        attendance__staff__unit__path__startswith=unit.path, ends_on__gte=start, ends_on__lte=end
    ).distinct()
    agg = Session.objects.filter(pk__in=sessions.values("pk")).aggregate(n=Count("pk"),
                                                                        h=Sum("hours"))  # fmt: skip
    out = [
        table(
            "Bồi dưỡng, tập huấn",
            ["Nội dung", "Số lượng"],
            [
                ["Cán bộ phải bồi dưỡng", share.required if share else 0],
                ["Cán bộ đã hoàn thành khóa bồi dưỡng trong năm", share.trained if share else 0],
                ["Tỷ lệ đã bồi dưỡng (%)", share.percent if share else None],
                ["Lớp có cán bộ của đơn vị tham dự", agg["n"] or 0],
                ["Tổng số giờ học của các lớp", float(agg["h"] or 0)],
            ],
        )
    ]
    staff = StaffMember.objects.filter(unit__path__startswith=unit.path)
    needing = list(needing_training(staff, start=start, end=end).order_by("unit__path")[:60])
    if needing:
        out.append(
            table(
                "Cán bộ chưa được bồi dưỡng trong năm",
                ["Họ và tên", "Đơn vị", "Vị trí"],
                [[s.full_name, s.unit.name, s.get_position_display()] for s in needing],
                [30, 30, 40],
            )
        )
    return out


def _funding(unit: Unit, year: int) -> list[dict]:
    from grassroots.planning.choices import FundingSource
    from grassroots.planning.models import Investment
    from grassroots.planning.querysets import funding_summary

    summary = funding_summary(
        Investment.objects.filter(unit__path__startswith=unit.path, year=year)
    )
    rows = []
    for source, label in FundingSource.choices:
        b = summary["sources"].get(source, {"planned": 0, "spent": 0})
        rows.append([str(label), b["planned"], b["spent"]])
    rows.append(["Tổng cộng", summary["total"]["planned"], summary["total"]["spent"]])
    return [
        table(
            f"Kinh phí năm {year} theo nguồn (đồng)",
            ["Nguồn kinh phí", "Dự kiến (đồng)", "Đã giải ngân (đồng)"],
            rows,
        )
    ]


def _inspections(unit: Unit, year: int) -> list[dict]:
    from grassroots.planning.models import Inspection

    rows = list(
        Inspection.objects.filter(
            station__unit__path__startswith=unit.path, inspected_on__year=year
        )
        .select_related("station")
        .order_by("inspected_on")
    )
    if not rows:
        return [table("Kiểm tra đài truyền thanh", ["Nội dung", "Số lượng"],
                      [["Cuộc kiểm tra trong năm", 0]])]  # fmt: skip
    return [
        table(
            "Kiểm tra đài truyền thanh trong năm",
            ["Ngày", "Đài", "Hình thức", "Đoàn kiểm tra", "Kết luận"],
            [
                [
                    i.inspected_on.strftime("%d/%m/%Y"),
                    i.station.name,
                    i.get_kind_display(),
                    i.inspector,
                    (i.findings or "—")[:300],
                ]
                for i in rows
            ],
            [14, 18, 12, 24, 32],  # the date is short; who inspected and what they found are not
        )  # fmt: skip
    ]


def _agency_source(body, year: int) -> list[dict]:
    from grassroots.content.choices import Source
    from grassroots.content.models import Bulletin

    qs = Bulletin.objects.filter(
        source=Source.PROVINCIAL_BODY,
        source_name__iexact=body.name,
        published_at__year=year,
    )
    return [
        table(
            "Thông tin cơ quan cung cấp cho hệ thống thông tin nguồn",
            ["Nội dung", "Số lượng"],
            [
                ["Bản tin của cơ quan đã xuất bản", qs.count()],
                ["Trong đó bản tin thiết yếu", qs.filter(category__essential=True).count()],
            ],
        )
    ]


# --- the whole report --------------------------------------------------------------------


def _meta(report, unit: Unit) -> dict:
    now = timezone.localtime()
    end = min(dt.date(report.year, 12, 31), now.date())
    return {
        "year": report.year,
        "kind": report.kind,
        "unit": {"code": unit.code, "name": unit.name, "kind": unit.kind},
        "reporter": report.reporter,
        "period": {"start": f"{report.year}-01-01", "end": end.isoformat()},
        "as_of": now.isoformat(timespec="seconds"),
    }


def build(report, progress: Callable[[int, str], None] | None = None) -> dict:
    """The figures of a unit's, an agency's or the province's report, ready to store."""
    progress = progress or (lambda _p, _s: None)
    with translation.override("vi"):
        unit = report.unit
        out = {"meta": _meta(report, unit), "indicators": [], "sections": {}}
        if report.kind == ReportKind.AGENCY:
            out["sections"]["source"] = _agency_source(report.body, report.year)
            return out
        progress(10, "Tính các chỉ tiêu của Kế hoạch")
        out["indicators"] = indicator_rows(unit, report.year)
        period = period_of(report.year)
        t = querysets.totals(unit, period.start, period.end, emergencies=False)
        progress(30, "Tổng hợp hạ tầng, bản tin, phản ánh")
        out["sections"] = {
            "radio": _radio(unit, t),
            "eboards": _eboards(unit, t),
            "source": _source(unit, t),
        }
        progress(45, "Tổng hợp đào tạo, kinh phí, kiểm tra")
        out["sections"]["training"] = _training(unit, report.year)
        out["sections"]["funding"] = _funding(unit, report.year)
        out["sections"]["inspections"] = _inspections(unit, report.year)
        if report.kind == ReportKind.PROVINCIAL:
            progress(55, "Tổng hợp báo cáo của các đơn vị")
            out["appendices"] = compiled_appendices(report, period, progress)
        return out


def reporting_units(province: Unit):
    """The commune-level units in force under the province: each must report."""
    return (
        Unit.objects.filter(path__startswith=province.path, valid_to__isnull=True)
        .filter(kind__in=(*querysets.URBAN, *querysets.RURAL))
        .order_by("name")
    )


def compiled_appendices(report, period, progress) -> list[dict]:
    """The province's appendices: who reported and when, each unit's main indicators, and
    what the units wrote in their assessment and proposals."""
    from grassroots.training.querysets import staff_trained_by_unit

    from .models import ReportCalendar, ReportingBody, YearlyReport
    from .reminders import deadline_of

    province = report.unit
    deadline = deadline_of(report.year, ReportCalendar.objects.filter(year=report.year).first())
    reports = {
        (r.unit_id, r.body_id): r
        for r in YearlyReport.objects.filter(year=report.year)
        .exclude(kind=ReportKind.PROVINCIAL)
        .filter(unit__path__startswith=province.path)
        .select_related("unit", "body")
    }
    rows = sorted(querysets.communes(province, period),
                  key=lambda r: vietnamese_key(r["unit"].name))  # fmt: skip
    progress(70, "Tính chỉ số của từng xã, phường")
    trained = staff_trained_by_unit([r["unit"] for r in rows], start=period.start, end=period.end)
    columns = ("essential_reach", "feedback_handled", "radio_ip", "device_availability",
               "relay_compliance")  # fmt: skip
    status_rows, kpi_rows = [], []
    counts = {"expected": 0, "on_time": 0, "late": 0, "missing": 0, "accepted": 0, "returned": 0}
    gathered: dict[str, list[list[str]]] = {s: [] for s in GATHERED}

    def note(who: str, r) -> None:
        counts["expected"] += 1
        if r is None or r.submitted_at is None:
            counts["missing"] += 1
            state, sent = "Chưa gửi", ""
        else:
            sent_day = timezone.localtime(r.submitted_at).date()
            counts["late" if sent_day > deadline else "on_time"] += 1
            state, sent = r.get_state_display(), sent_day.strftime("%d/%m/%Y")
            if sent_day > deadline:
                sent += " (muộn)"
        if r is not None:
            counts["accepted"] += r.state == ReportState.ACCEPTED
            counts["returned"] += r.state == ReportState.RETURNED
            if r.state in ReportState.sent():
                for sid in GATHERED:
                    text = (r.texts or {}).get(sid, "").strip()
                    if text:
                        gathered[sid].append([who, text])
        status_rows.append([who, state, sent])

    for row in rows:
        u = row["unit"]
        note(u.name, reports.get((u.pk, None)))
        share = trained.get(u.pk)
        kpi_rows.append([u.name, *[_pct(row["values"][c]) for c in columns],
                         share.percent if share else None])  # fmt: skip
    bodies = ReportingBody.objects.filter(unit=province, active=True, compiles=False)
    for body in sorted(bodies, key=lambda b: vietnamese_key(b.name)):
        note(body.name, reports.get((province.pk, body.pk)))
    progress(85, "Lập các phụ lục")
    summary = [
        ["Đơn vị phải báo cáo", counts["expected"]],
        [f"Gửi đúng hạn (đến {deadline:%d/%m/%Y})", counts["on_time"]],
        ["Gửi muộn", counts["late"]],
        ["Chưa gửi", counts["missing"]],
        ["Đã tiếp nhận", counts["accepted"]],
        ["Đang bị trả lại để hoàn thiện", counts["returned"]],
    ]
    names = [str(BY_ID[c].name) for c in columns]
    titles = {"assessment": "Đánh giá chung", "proposals": "Đề xuất, kiến nghị"}
    out = [
        {
            "title": "Phụ lục II. Tình hình gửi báo cáo của các đơn vị",
            "tables": [
                table("Tổng hợp", ["Nội dung", "Số đơn vị"], summary),
                table("Chi tiết", ["Đơn vị", "Trạng thái", "Ngày gửi"], status_rows, [50, 25, 25]),
            ],
        },
        {
            "title": "Phụ lục III. Chỉ tiêu chính của từng xã, phường (%)",
            "tables": [table("", ["Đơn vị", *names, "Cán bộ được bồi dưỡng"], kpi_rows)],
            "wide": True,
        },
        {
            "title": "Phụ lục IV. Đánh giá, kiến nghị của các đơn vị",
            "tables": [
                table(titles[sid], ["Đơn vị", "Nội dung"], gathered[sid], [28, 72])
                for sid in GATHERED
                if gathered[sid]
            ],
        },
    ]
    return out
