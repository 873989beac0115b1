"""The plan's indicators as code: id, Vietnamese name and definition, formula, unit, source.

Each indicator is a function of `Totals`: sums of `DailyRollup` counters over a period and a set
of units (flows), the inventory on the period's last day (stocks), commune-level units by kind,
and the emergencies sent in the period. Targets by year are data (`Target`, seeded from the
plan, Kế hoạch triển khai Đề án thông tin cơ sở tỉnh Hưng Yên, section I.2 "Mục tiêu cụ thể").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from grassroots.training.querysets import TrainedShare

from .models import FLOW_FIELDS, STOCK_FIELDS

PLAN = "Kế hoạch thông tin cơ sở tỉnh Hưng Yên, mục I.2"


@dataclass
class Totals:
    """Sums over a period and scope; `stock` is the inventory of the period's last day."""

    flow: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FLOW_FIELDS, 0))
    stock: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STOCK_FIELDS, 0))
    # commune-level units in force in the scope and those with a working e-board, by kind
    wards: int = 0
    wards_covered: int = 0
    communes: int = 0
    communes_covered: int = 0
    # emergencies sent in the period: devices expected, devices that took it, seconds to 95 %
    emergency_expected: int = 0
    emergency_delivered: int = 0
    emergency_t95: list[float] = field(default_factory=list)
    has_emergencies: bool = False
    has_rows: bool = False  # any rollup row in the period (inventory is unknown without one)
    # staff who must be trained and those trained in the period (training.querysets), or
    # None when the scope has no such staff on record ("chưa có dữ liệu", not 0 %)
    staff: TrainedShare | None = None

    def __getitem__(self, name: str) -> int:
        return self.flow[name] if name in self.flow else self.stock[name]


def _ratio(num: str, den: str, scale: float = 100.0) -> Callable[[Totals], float | None]:
    def f(t: Totals) -> float | None:
        return scale * t[num] / t[den] if t[den] else None

    return f


def _average(total: str, count: str, per: float) -> Callable[[Totals], float | None]:
    def f(t: Totals) -> float | None:
        return t[total] / t[count] / per if t[count] else None

    return f


def _wards(t: Totals) -> float | None:
    return 100.0 * t.wards_covered / t.wards if t.wards and t.has_rows else None


def _communes(t: Totals) -> float | None:
    return 100.0 * t.communes_covered / t.communes if t.communes and t.has_rows else None


def _emergency_share(t: Totals) -> float | None:
    if not t.emergency_expected:
        return None
    return 100.0 * min(t.emergency_delivered, t.emergency_expected) / t.emergency_expected


def _emergency_t95(t: Totals) -> float | None:
    return sum(t.emergency_t95) / len(t.emergency_t95) if t.emergency_t95 else None


def _staff_trained(t: Totals) -> float | None:
    return 100.0 * t.staff.ratio if t.staff else None


def _bulletins(t: Totals) -> float | None:
    return float(t["bulletins_own"] + t["bulletins_provincial"] + t["bulletins_national"])


@dataclass(frozen=True)
class Indicator:
    """One measured indicator: `compute(totals)` gives its value in `unit` (None: no data)."""

    id: str
    name: str
    definition: str
    formula: str
    unit: str
    group: str
    compute: Callable[[Totals], float | None]
    facts: str  # which list of facts stands behind the number (facts.py)
    higher_is_better: bool = True
    digits: int = 1
    no_data_reason: str = ""

    @property
    def fmt(self) -> str:
        """The `floatformat` argument that shows this indicator's digits (none when whole)."""
        return f"-{self.digits}"

    def value(self, totals: Totals) -> float | None:
        v = self.compute(totals)
        return None if v is None else round(v, self.digits)


INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "essential_reach",
        _("Thông tin thiết yếu đến người dân"),
        _(
            "Tỷ lệ cặp (bản tin thiết yếu hoặc bắt buộc phát × xã nhận) đã thực sự phát trên loa "
            "hoặc hiện trên bảng tin (theo nhật ký phát, không theo lịch)."
        ),
        _("số cặp đã phát / số cặp được chia sẻ trong kỳ × 100"),
        "%",
        _("Thông tin thiết yếu"),
        _ratio("essential_aired", "essential_due"),
        "essential",
    ),
    Indicator(
        "essential_delay",
        _("Thời gian đưa thông tin thiết yếu đến người dân"),
        _(
            "Thời gian trung bình từ lúc bản tin thiết yếu được chia sẻ về xã đến lần phát "
            "(hoặc hiển thị) đầu tiên ở xã đó."
        ),
        _("tổng (lần phát đầu − lúc chia sẻ) / số cặp đã phát, tính bằng phút"),
        _("phút"),
        _("Thông tin thiết yếu"),
        _average("essential_delay_s", "essential_aired", 60.0),
        "essential",
        higher_is_better=False,
    ),
    Indicator(
        "feedback_handled",
        _("Phản ánh được tiếp nhận, xử lý trên hệ thống"),
        _("Tỷ lệ phản ánh tiếp nhận trong kỳ đã được trả lời hoặc đóng."),
        _("số đã trả lời hoặc đóng / số tiếp nhận × 100"),
        "%",
        _("Phản ánh, kiến nghị"),
        _ratio("reports_handled", "reports_received"),
        "reports",
    ),
    Indicator(
        "feedback_on_time",
        _("Phản ánh xử lý đúng hạn"),
        _("Tỷ lệ phản ánh đã xử lý xong trước hạn xử lý (tính theo ngày làm việc)."),
        _("số xử lý trước hạn / số đã xử lý × 100"),
        "%",
        _("Phản ánh, kiến nghị"),
        _ratio("reports_in_time", "reports_handled"),
        "reports",
    ),
    Indicator(
        "feedback_rating",
        _("Mức hài lòng của người dân"),
        _("Số sao trung bình người dân chấm cho câu trả lời (1–5)."),
        _("tổng số sao / số lượt đánh giá"),
        _("sao"),
        _("Phản ánh, kiến nghị"),
        _average("rating_stars", "ratings", 1.0),
        "ratings",
        digits=2,
    ),
    Indicator(
        "radio_ip",
        _("Đài truyền thanh xã chuyển sang CNTT-VT"),
        _("Tỷ lệ đài truyền thanh cấp xã có mọi cụm loa dùng công nghệ IP (kiểm kê cuối kỳ)."),
        _("số đài toàn cụm loa IP / số đài × 100"),
        "%",
        _("Hạ tầng"),
        _ratio("stations_ip", "stations"),
        "stations",
    ),
    Indicator(
        "clusters_online",
        _("Cụm loa IP có kết nối"),
        _("Tỷ lệ cụm loa IP đã trực tuyến trong ngày cuối của kỳ."),
        _("số cụm loa IP có trực tuyến / số cụm loa IP × 100"),
        "%",
        _("Hạ tầng"),
        _ratio("speakers_ip_seen", "speakers_ip"),
        "devices",
    ),
    Indicator(
        "eboard_wards",
        _("Phường có bảng tin điện tử"),
        _("Tỷ lệ phường có ít nhất một bảng tin điện tử đang hoạt động (cuối kỳ)."),
        _("số phường có bảng tin / số phường × 100"),
        "%",
        _("Hạ tầng"),
        _wards,
        "eboards",
    ),
    Indicator(
        "eboard_communes",
        _("Xã có bảng tin điện tử"),
        _("Tỷ lệ xã, đặc khu có ít nhất một bảng tin điện tử đang hoạt động (cuối kỳ)."),
        _("số xã có bảng tin / số xã × 100"),
        "%",
        _("Hạ tầng"),
        _communes,
        "eboards",
    ),
    Indicator(
        "staff_trained",
        _("Cán bộ được bồi dưỡng, tập huấn"),
        _(
            "Tỷ lệ cán bộ làm công tác thông tin cơ sở (vị trí phải đào tạo, đảm nhiệm trong "
            "kỳ) đạt một lớp bồi dưỡng kết thúc trong kỳ."
        ),
        _("số cán bộ đạt lớp kết thúc trong kỳ / số cán bộ phải đào tạo × 100"),
        "%",
        _("Đào tạo"),
        _staff_trained,
        "staff",
        no_data_reason=_(
            "Chưa có dữ liệu: đơn vị chưa nhập danh sách cán bộ phải đào tạo (mục Đào tạo)."
        ),
    ),
    Indicator(
        "device_availability",
        _("Thời gian hoạt động của cụm loa"),
        _("Tỷ lệ thời gian cụm loa IP trực tuyến trên thời gian lẽ ra phải trực tuyến."),
        _("tổng giây trực tuyến / tổng giây kỳ vọng × 100"),
        "%",
        _("Vận hành"),
        _ratio("device_online_s", "device_expected_s"),
        "devices",
    ),
    Indicator(
        "on_time_play",
        _("Phát đúng giờ"),
        _("Tỷ lệ lần phát theo lịch bắt đầu trong vòng 60 giây so với giờ trong lịch."),
        _("số lần phát đúng giờ / số lần phát có giờ trong lịch × 100"),
        "%",
        _("Vận hành"),
        _ratio("plays_on_time", "plays_scheduled"),
        "plays",
    ),
    Indicator(
        "relay_compliance",
        _("Tiếp sóng đúng khung giờ quy định"),
        _(
            "Tỷ lệ khung giờ tiếp sóng bắt buộc (theo quy định sử dụng loa) được tiếp sóng đủ "
            "(ít nhất 90 % thời lượng khung)."
        ),
        _("số khung tiếp sóng đủ / số khung phải tiếp sóng × 100"),
        "%",
        _("Vận hành"),
        _ratio("relay_full", "relay_due"),
        "relay",
    ),
    Indicator(
        "emergency_delivered",
        _("Phát khẩn cấp tới thiết bị"),
        _("Tỷ lệ thiết bị xác nhận nhận lệnh phát khẩn cấp trên số thiết bị phải nhận."),
        _("số thiết bị xác nhận / số thiết bị phải nhận × 100"),
        "%",
        _("Vận hành"),
        _emergency_share,
        "emergencies",
    ),
    Indicator(
        "emergency_t95",
        _("Thời gian phát khẩn cấp tới 95 % thiết bị"),
        _("Thời gian trung bình từ lúc gửi lệnh khẩn cấp tới khi 95 % thiết bị xác nhận."),
        _("trung bình (lúc xác nhận thứ ⌈0,95·N⌉ − lúc gửi), tính bằng giây"),
        _("giây"),
        _("Vận hành"),
        _emergency_t95,
        "emergencies",
        higher_is_better=False,
    ),
    Indicator(
        "bulletins",
        _("Bản tin xuất bản"),
        _("Số bản tin xuất bản trong kỳ (chi tiết theo cấp nguồn và lĩnh vực trong danh sách)."),
        _("số bản tin có thời điểm xuất bản trong kỳ"),
        _("bản tin"),
        _("Vận hành"),
        _bulletins,
        "bulletins",
        digits=0,
    ),
    Indicator(
        "approval_lead",
        _("Thời gian duyệt bản tin"),
        _("Thời gian trung bình từ lúc gửi duyệt đến lúc xuất bản."),
        _("tổng (xuất bản − gửi duyệt) / số bản tin, tính bằng giờ"),
        _("giờ"),
        _("Vận hành"),
        _average("approval_lead_s", "approvals", 3600.0),
        "bulletins",
        higher_is_better=False,
    ),
)

BY_ID: dict[str, Indicator] = {i.id: i for i in INDICATORS}
