"""Built-in roles and the permissions they start with (admins may edit the sets)."""

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class RoleSlug(models.TextChoices):
    PROVINCE_ADMIN = "province_admin", _("Quản trị cấp tỉnh")
    EDITOR = "editor", _("Biên tập viên")
    APPROVER = "approver", _("Người duyệt")
    OPERATOR = "operator", _("Cán bộ vận hành")
    VIEWER = "viewer", _("Người xem")
    EMERGENCY = "emergency_operator", _("Được phát khẩn cấp (tỉnh cấp)")


# The central system (`GRASSROOTS_LEVEL=central`) holds its roles on the country: the same role
# codes, named for that level where the province's name would mislead.
CENTRAL_ROLE_LABELS = {
    RoleSlug.PROVINCE_ADMIN: _("Quản trị cấp trung ương"),
}


def role_label(slug: str, level: str | None = None):
    """The built-in role's name at this system's level (`GRASSROOTS['LEVEL']` unless given):
    a lazy translation; the role code (`slug`) is the same at every level."""
    from django.conf import settings

    level = level or settings.GRASSROOTS.get("LEVEL", "province")
    if level == "central" and slug in CENTRAL_ROLE_LABELS:
        return CENTRAL_ROLE_LABELS[slug]
    return RoleSlug(slug).label


# Every permission the platform knows, with a Vietnamese label for the role editor.
PERMISSIONS: dict[str, Any] = {  # labels are lazy translations
    "units.view": _("Xem đơn vị hành chính"),
    "units.change": _("Sửa cây đơn vị hành chính"),
    "accounts.view": _("Xem người dùng"),
    "accounts.manage": _("Quản lý người dùng và phân quyền"),
    "core.audit": _("Xem nhật ký thay đổi"),
    "content.view": _("Xem bản tin"),
    "content.add": _("Soạn bản tin"),
    "content.change": _("Sửa bản tin"),
    "content.submit": _("Gửi duyệt bản tin"),
    "content.approve": _("Duyệt bản tin"),
    "content.publish": _("Xuất bản, thu hồi bản tin"),
    "broadcast.view": _("Xem đài truyền thanh, lịch phát"),
    "broadcast.schedule": _("Lập lịch phát"),
    "broadcast.emergency": _("Phát khẩn cấp"),
    "devices.view": _("Xem thiết bị"),
    "devices.control": _("Điều khiển thiết bị"),
    "devices.manage": _("Cấp phép, thu hồi thiết bị"),
    "signage.view": _("Xem bảng tin điện tử"),
    "signage.manage": _("Quản lý bảng tin điện tử"),
    "feedback.view": _("Xem phản ánh"),
    "feedback.handle": _("Xử lý phản ánh"),
    "training.view": _("Xem đào tạo"),
    "training.manage": _("Quản lý đào tạo"),
    "kpi.view": _("Xem chỉ số, báo cáo"),
    "kpi.report": _("Soạn, gửi báo cáo năm của đơn vị"),
    "kpi.review": _("Tiếp nhận, trả lại, tổng hợp báo cáo năm"),
    "planning.view": _("Xem kinh phí, vị trí bảng tin, kiểm tra đài"),
    "planning.manage": _("Quản lý kinh phí, duyệt vị trí bảng tin, ghi biên bản kiểm tra"),
    "exchange.view": _("Xem liên thông với hệ thống trung ương"),
    "exchange.manage": _("Quản lý liên thông: hệ thống, khoá, gửi lại, gửi bản tin xuống"),
}

_VIEW = [p for p in PERMISSIONS if p.endswith(".view")]

DEFAULT_ROLE_PERMISSIONS: dict[str, list[str]] = {
    RoleSlug.PROVINCE_ADMIN: list(PERMISSIONS),
    RoleSlug.EDITOR: [*_VIEW, "content.add", "content.change", "content.submit"],
    RoleSlug.APPROVER: [*_VIEW, "content.approve", "content.publish", "content.change"],
    RoleSlug.OPERATOR: [
        *_VIEW,
        "content.add",
        "content.change",
        "content.submit",
        "broadcast.schedule",
        "devices.control",
        "signage.manage",
        "feedback.handle",
        "kpi.report",
    ],
    RoleSlug.VIEWER: list(_VIEW),
    # Commune operators hold the emergency right only where the province grants this role.
    RoleSlug.EMERGENCY: ["broadcast.view", "broadcast.emergency"],
}
