"""Permission checks shared by every entry point (console, API, commands)."""

from django.core.exceptions import PermissionDenied

from .scope import covers, has_perm_anywhere

MESSAGES = {
    "accounts.manage": "Bạn cần quyền quản lý người dùng để làm việc này.",
    "core.audit": "Bạn cần quyền xem nhật ký thay đổi.",
}


def require(user, permission: str) -> None:
    """403 when the user holds the permission nowhere; scope is then cut by `.restrict()`."""
    if not has_perm_anywhere(user, permission):
        raise PermissionDenied(
            MESSAGES.get(permission, f"Tài khoản của bạn không có quyền '{permission}'.")
        )


def require_on(user, permission: str, unit) -> None:
    """403 unless the user holds the permission on this unit."""
    if not covers(user, permission, unit):
        raise PermissionDenied(f"Bạn không có quyền '{permission}' trên đơn vị {unit.name}.")
