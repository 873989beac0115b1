"""What a device's fault codes and refusal reasons mean, in words an officer can act on.

Devices report machine codes (acks `refused` with a reason, `fault` events, failed as-run
entries); the console shows these sentences instead (never a Python exception text). A code
not listed is shown with a generic sentence and the code itself, so nothing is hidden.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

# code → (short label, what to do)
_TEXTS: dict[str, tuple[str, str]] = {
    "expired": (
        "Lệnh đã hết hạn khi đến thiết bị",
        "Kiểm tra đồng hồ thiết bị; bấm “Gửi lại” để gửi lệnh mới.",
    ),
    "not_yet_valid": (
        "Lệnh chưa đến giờ hiệu lực theo đồng hồ thiết bị",
        "Đồng hồ thiết bị đang chậm; bấm “Gửi lại” để gửi lệnh mới.",
    ),
    "bad_signature": (
        "Chữ ký của lệnh không hợp lệ",
        "Lệnh có thể bị sửa trên đường truyền; báo quản trị hệ thống.",
    ),
    "unknown_kid": (
        "Thiết bị chưa có khoá ký của máy chủ",
        "Cấp phép lại thiết bị để nạp khoá mới.",
    ),
    "wrong_target": ("Lệnh không nhằm tới thiết bị này", "Kiểm tra đơn vị của thiết bị."),
    "replay": ("Lệnh trùng với lệnh đã nhận", "Không cần làm gì nếu thiết bị đã phát."),
    "bad_message": (
        "Lệnh sai định dạng giao thức",
        "Cập nhật phần mềm thiết bị cho khớp phiên bản máy chủ.",
    ),
    "bad_envelope": ("Lệnh sai định dạng", "Cập nhật phần mềm thiết bị."),
    "bad_params": ("Tham số của lệnh không hợp lệ", "Báo quản trị hệ thống."),
    "bad_payload": ("Lệnh thiếu thông tin bắt buộc", "Báo quản trị hệ thống."),
    "unsupported_type": ("Thiết bị không hỗ trợ lệnh này", "Cập nhật phần mềm thiết bị."),
    "clock": (
        "Đồng hồ thiết bị lệch so với máy chủ",
        "Thiết bị vẫn phát theo giờ máy chủ; nên bật đồng bộ giờ (NTP) hoặc thay pin đồng hồ.",
    ),
    "manifest.bad_manifest": (
        "Lịch phát nhận được sai định dạng",
        "Cập nhật phần mềm thiết bị cho khớp phiên bản máy chủ.",
    ),
    "manifest.bad_signature": ("Lịch phát có chữ ký không hợp lệ", "Báo quản trị hệ thống."),
    "manifest.unknown_kid": ("Thiết bị chưa có khoá ký của lịch phát", "Cấp phép lại."),
    "manifest.wrong_device": ("Lịch phát của thiết bị khác", "Báo quản trị hệ thống."),
    "manifest.stale_manifest": ("Lịch phát cũ hơn lịch đang có", "Không cần làm gì."),
    "manifest.expired": (
        "Lịch phát đã hết hạn, thiết bị không tải được lịch mới",
        "Kiểm tra kết nối mạng của thiết bị.",
    ),
    "media.hash_mismatch": (
        "Tệp âm thanh tải về bị hỏng (sai mã băm)",
        "Thiết bị sẽ tải lại; nếu lặp lại, kiểm tra đường truyền.",
    ),
    "media.download_failed": ("Không tải được tệp âm thanh", "Kiểm tra kết nối mạng."),
    "media.cache_full": ("Bộ nhớ thiết bị đầy", "Giảm nội dung hoặc tăng dung lượng lưu trữ."),
    "media.missing": ("Thiếu tệp âm thanh lúc đến giờ phát", "Kiểm tra kết nối mạng."),
    "media_unavailable": (
        "Chưa tải được tệp âm thanh khi đến giờ phát",
        "Kiểm tra kết nối mạng của cụm loa.",
    ),
    "media.error": ("Lỗi tải tệp âm thanh", "Kiểm tra kết nối mạng."),
    "audio.failed": ("Bộ phát âm thanh báo lỗi", "Kiểm tra bộ khuếch đại và loa."),
    "relay.failed": ("Không tiếp sóng được", "Kiểm tra nguồn tiếp sóng (FM hoặc luồng)."),
    "asrun.rejected": ("Máy chủ từ chối một mục nhật ký phát", "Báo quản trị hệ thống."),
    "protocol": (
        "Thiết bị gửi tin sai định dạng giao thức",
        "Cập nhật phần mềm thiết bị cho khớp phiên bản máy chủ.",
    ),
}


def label(code: str | None) -> str:
    """A short Vietnamese label for a device's code (refusal reason, fault or failure)."""
    if not code:
        return ""
    key = code.removeprefix("cmd.")
    if key in _TEXTS:
        return _(_TEXTS[key][0])
    family = key.split(".", 1)[0]
    if family in ("media", "audio", "relay"):
        return _("Lỗi phát (%(code)s)") % {"code": key}
    return _("Lỗi thiết bị (%(code)s)") % {"code": key}


def advice(code: str | None) -> str:
    """What an officer can do about it (empty if nothing useful can be said)."""
    key = (code or "").removeprefix("cmd.")
    return _(_TEXTS[key][1]) if key in _TEXTS else ""


TIME_REASONS = frozenset({"expired", "not_yet_valid"})
"""Refusals about the time window: a resend with a freshly signed command can cure them."""
