"""Built-in roles and the permissions they start with (admins may edit the sets)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RoleSlug(models.TextChoices):
    PROVINCE_ADMIN = "province_admin", _("Quản trị cấp tỉnh")
    EDITOR = "editor", _("Biên tập viên")
    APPROVER = "approver", _("Người duyệt")
    OPERATOR = "operator", _("Cán bộ vận hành")
    VIEWER = "viewer", _("Người xem")
    EMERGENCY = "emergency_operator", _("Được phát khẩn cấp (tỉnh cấp)")


# Every permission the platform knows, with a Vietnamese label for the role editor.
PERMISSIONS: dict[str, str] = {
    "units.view": "Xem đơn vị hành chính",
    "units.change": "Sửa cây đơn vị hành chính",
    "accounts.view": "Xem người dùng",
    "accounts.manage": "Quản lý người dùng và phân quyền",
    "core.audit": "Xem nhật ký thay đổi",
    "content.view": "Xem bản tin",
    "content.add": "Soạn bản tin",
    "content.change": "Sửa bản tin",
    "content.submit": "Gửi duyệt bản tin",
    "content.approve": "Duyệt bản tin",
    "content.publish": "Xuất bản, thu hồi bản tin",
    "broadcast.view": "Xem đài truyền thanh, lịch phát",
    "broadcast.schedule": "Lập lịch phát",
    "broadcast.emergency": "Phát khẩn cấp",
    "devices.view": "Xem thiết bị",
    "devices.control": "Điều khiển thiết bị",
    "devices.manage": "Cấp phép, thu hồi thiết bị",
    "signage.view": "Xem bảng tin điện tử",
    "signage.manage": "Quản lý bảng tin điện tử",
    "feedback.view": "Xem phản ánh",
    "feedback.handle": "Xử lý phản ánh",
    "training.view": "Xem đào tạo",
    "training.manage": "Quản lý đào tạo",
    "kpi.view": "Xem chỉ số, báo cáo",
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
    ],
    RoleSlug.VIEWER: list(_VIEW),
    # Commune operators hold the emergency right only where the province grants this role.
    RoleSlug.EMERGENCY: ["broadcast.view", "broadcast.emergency"],
}
