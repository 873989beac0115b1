"""The console's navigation: groups of pages, each shown only to users who may open it, with
counters of the work waiting behind it."""

from __future__ import annotations

from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from grassroots.accounts.scope import has_perm_anywhere

from . import workqueue


def _national_exchange(user) -> bool:
    """The national pages (send down, national figures) exist in central mode only."""
    from grassroots.exchange.keys import is_central

    return is_central() and has_perm_anywhere(user, "exchange.view")


def _may_configure_feedback(user) -> bool:
    from grassroots.feedback.policies import may_configure

    return may_configure(user)


# group label, [(label, url name, what the page requires, work counter key or "")]: a
# permission held anywhere, or a function of the user for pages that need more (a right held
# on the province itself)
GROUPS = [
    (_("Nội dung"), [
        (_("Bản tin"), "bulletin-archive", "content.view", "returned"),
        (_("Soạn bản tin"), "bulletin-new", "content.add", ""),
        (_("Chờ duyệt"), "bulletin-queue", "content.approve", "approvals"),
        (_("Hộp thư bản tin"), "bulletin-inbox", "content.view", "inbox"),
        (_("Quy trình duyệt"), "approval-chains", "content.approve", ""),
    ]),
    (_("Phát thanh"), [
        (_("Đài truyền thanh, lịch phát"), "station-list", "broadcast.view", "proposals"),
        (_("Phát khẩn cấp"), "emergency-list", "broadcast.view", "emergencies"),
        (_("Phát trực tiếp"), "live-console", "broadcast.view", ""),
        (_("Nguồn tiếp sóng"), "relay-sources", "broadcast.view", ""),
        (_("Cảnh báo CAP"), "cap-alerts", "broadcast.view", ""),
        (_("Thiết bị, kiểm kê"), "device-list", "devices.view", ""),
        (_("Kiểm tra đài truyền thanh"), "planning-inspections", "planning.view", ""),
    ]),
    (_("Bảng tin"), [
        (_("Bảng tin điện tử"), "signage-console", "signage.view", ""),
        (_("Bố cục, danh sách phát"), "signage-layouts", "signage.view", ""),
        (_("Vị trí bảng tin điện tử"), "planning-sites", "planning.view", ""),
    ]),
    (_("Phản ánh"), [
        (_("Phản ánh của người dân"), "feedback-inbox", "feedback.view", "reports"),
        (_("Kiểm duyệt"), "feedback-moderation", "feedback.handle", ""),
        (_("Lĩnh vực phản ánh"), "feedback-categories", _may_configure_feedback, ""),
        (_("Ngày nghỉ lễ"), "feedback-holidays", _may_configure_feedback, ""),
        (_("Khoá Open311"), "feedback-keys", "accounts.manage", ""),
    ]),
    (_("Giám sát"), [
        (_("Báo cáo chỉ số"), "kpi-dashboard", "kpi.view", ""),
        (_("Bản đồ chỉ số"), "kpi-map", "kpi.view", ""),
        (_("Báo cáo năm"), "report-list", "kpi.view", "yearly"),
        (_("Giám sát thiết bị"), "device-fleet", "devices.view", "offline"),
        (_("Báo cáo phát bản tin"), "bulletin-airplay", "broadcast.view", ""),
        (_("Kế hoạch chuyển đổi IP"), "conversion-plan", "broadcast.view", ""),
        (_("Kinh phí thực hiện"), "planning-funding", "planning.view", ""),
        (_("Cán bộ cần đào tạo"), "training-needs", "training.view", ""),
        (_("Nhật ký thay đổi"), "audit-log", "core.audit", ""),
    ]),
    (_("Quản trị"), [
        (_("Đơn vị hành chính"), "unit-tree", "units.view", ""),
        (_("Người dùng"), "user-list", "accounts.manage", ""),
        (_("Vai trò"), "role-list", "accounts.manage", ""),
        (_("Cán bộ làm thông tin cơ sở"), "training-staff", "training.view", ""),
        (_("Khóa đào tạo"), "training-courses", "training.view", ""),
        (_("Lớp học"), "training-sessions", "training.view", ""),
        (_("Hệ thống liên thông"), "exchange-peers", "exchange.view", ""),
        (_("Thông điệp liên thông"), "exchange-messages", "exchange.view", ""),
        (_("Gửi xuống, số liệu toàn quốc"), "exchange-national", _national_exchange, ""),
    ]),
]  # fmt: skip


def build(user) -> dict:
    """Groups and links the user may open, each with its count of waiting work."""
    if not getattr(user, "is_authenticated", False):
        return {"groups": [], "emergency": False}
    work = workqueue.for_user(user, items=False)
    groups = []
    for label, entries in GROUPS:
        links = []
        for text, url_name, perm, key in entries:
            if not (perm(user) if callable(perm) else has_perm_anywhere(user, perm)):
                continue
            count = work[key].count if key in work else 0
            links.append({"label": str(text), "url": reverse(url_name), "count": count,
                          "name": url_name})  # fmt: skip
        if links:
            groups.append(
                {"label": str(label), "links": links, "count": sum(x["count"] for x in links)}
            )
    return {
        "groups": groups,
        "emergency": has_perm_anywhere(user, "broadcast.emergency"),
        "live": work["emergencies"].count if "emergencies" in work else 0,
    }


def console_nav(request) -> dict:
    """Context processor: `console_nav`, computed only when a template reads it."""
    return {"console_nav": SimpleLazyObject(lambda: build(request.user))}
