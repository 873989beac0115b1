# ruff: noqa: E501 - one translation a line reads best
"""English translations of the console's shared strings, applied to the .po file.

Run after `grassroots makemessages -l en` (in grassroots/), then `grassroots compilemessages`:
    python scripts/translations_en.py grassroots/locale/en/LC_MESSAGES/django.po
Strings not listed here fall back to Vietnamese, the default language.
"""

import re
import sys
from pathlib import Path

EN = {
    "Quản trị cấp tỉnh": "Province administrator",
    "Biên tập viên": "Editor",
    "Người duyệt": "Approver",
    "Cán bộ vận hành": "Operator",
    "Người xem": "Viewer",
    "Sai tên đăng nhập hoặc mật khẩu. Lưu ý chữ hoa, chữ thường.": "Wrong username or password. Mind upper and lower case.",
    "Tài khoản này đã bị khoá.": "This account is locked.",
    "Tên đăng nhập": "Username",
    "Chỉ dùng chữ không dấu, số và . _ @ + -, từ 3 ký tự.": "Use unaccented letters, digits and . _ @ + - only, at least 3 characters.",
    "Họ và tên": "Full name",
    "Email": "Email",
    "Mật khẩu": "Password",
    "Vai trò": "Roles",
    "Mã đơn vị": "Unit code",
    "mã": "code",
    "Đăng nhập": "Log in",
    "Vai trò và quyền": "Roles and permissions",
    "Lưu": "Save",
    "Người dùng": "Users",
    "Họ tên": "Name",
    "Quyền": "Permissions",
    "đã khoá": "locked",
    "Gỡ": "Remove",
    "Thêm quyền": "Add role",
    "Thêm người dùng": "Add a user",
    "Tạo": "Create",
    "Khẩn cấp": "Emergency",
    "Bản tin": "Bulletins",
    "Lỗi": "Error",
    "tiêu đề": "title",
    "Đang chuẩn bị": "Preparing",
    "Đang phát": "On air",
    "Đã dừng": "Stopped",
    "Đã hết hạn": "Expired",
    "nội dung": "content",
    "số lần lặp": "repeats",
    "hết hạn lúc": "expires at",
    "phát khẩn cấp": "emergency broadcast",
    "Đơn vị": "Units",
    "Mất kết nối": "Offline",
    "Phát khẩn cấp": "Emergency broadcast",
    "Tiêu đề": "Title",
    "Nội dung đọc (TTS)": "Text to read (TTS)",
    "Hoặc nhập mã bản tin đã duyệt có sẵn âm thanh:": "Or enter the id of an approved bulletin with audio:",
    "Số lần lặp": "Repeats",
    "Hết hạn sau (phút)": "Expires after (minutes)",
    "Vùng phát": "Area",
    "Bạn không có quyền phát khẩn cấp ở đơn vị nào.": "You may not start an emergency broadcast in any unit.",
    "PHÁT KHẨN CẤP": "START EMERGENCY BROADCAST",
    "Gần đây": "Recent",
    "Chưa có.": "None yet.",
    "Dừng phát": "Stop",
    "Cụm loa": "Loudspeaker cluster",
    "Thiết bị": "Devices",
    "Tiếng Việt": "Tiếng Việt",
    "English": "English",
    "Chờ duyệt": "Awaiting approval",
    "Trạng thái": "Status",
    "Mọi trạng thái": "Any status",
    "lỗi": "faults",
    "Thu hồi": "Revoke",
    "Nhật ký thay đổi": "Change log",
    "Đối tượng": "Object",
    "Lọc": "Filter",
    "Thời điểm": "Time",
    "Người": "User",
    "Hành động": "Action",
    "Mã yêu cầu": "Request id",
    "Chưa có thay đổi nào.": "No changes yet.",
    "Trang sau": "Next page",
    "Hệ thống thông tin cơ sở": "Grassroots information system",
    "Thông tin cơ sở": "Grassroots information",
    "Mở menu": "Open menu",
    "Hộp thư": "Inbox",
    "Lịch phát": "Schedules",
    "Bảng tin điện tử": "E-boards",
    "Phản ánh": "Feedback",
    "Báo cáo": "Reports",
    "Giám sát": "Monitoring",
    "Nhật ký": "Audit log",
    "Ngôn ngữ": "Language",
    "Đăng xuất": "Log out",
    "Xin chào, %(name)s": "Hello, %(name)s",
    "Đơn vị trong phạm vi": "Units in your scope",
    "Quyền của bạn": "Your permissions",
    "Chưa được phân quyền.": "No role assigned yet.",
    "thông tin xác thực thiết bị": "device credential",
    "trực tuyến": "online",
    "lần cuối liên lạc": "last seen",
    "trạng thái thiết bị": "device status",
    "thiết bị trực tuyến": "devices online",
    "Âm lượng": "Volume",
    "mất kết nối": "offline",
    "Dừng": "Stop",
    "Đồng bộ": "Resync",
    "Đặt âm lượng": "Set volume",
    "Cấp phép": "Authorise",
    "Chưa có thiết bị nào.": "No devices yet.",
    "Giám sát thiết bị": "Device monitoring",
    "Mọi loại": "Any kind",
    "Bảng tin": "E-board",
    "Trực tuyến": "Online",
    "đơn vị cũ": "former units",
    "Không có đơn vị nào phù hợp.": "No matching unit.",
    "Đơn vị hành chính": "Administrative units",
    "Gốc": "Top",
    "Tìm theo tên, gõ không dấu cũng được (ví dụ: pho hien)": "Search by name, accents optional (e.g. pho hien)",
    "Hình thành từ": "Formed from",
    "một phần": "in part",
    "Đài truyền thanh": "Radio stations",
    "Tỉnh": "Province",
    "Xã": "Commune",
    "Phường": "Ward",
    "Đặc khu": "Special zone",
    "Bản nháp": "Draft",
    "Đã duyệt": "Approved",
    "Đã xuất bản": "Published",
    "Cần sửa": "Changes requested",
    "Đã thu hồi": "Withdrawn",
    "Lưu trữ": "Archived",
    "Thông thường": "Normal",
    "Ưu tiên": "Priority",
}


def apply(path: str) -> int:
    text = Path(path).read_text(encoding="utf-8")
    count = 0

    def fill(match):
        nonlocal count
        msgid = match.group(1)
        if msgid in EN:
            count += 1
            return f'msgid "{msgid}"\nmsgstr "{EN[msgid]}"'
        return match.group(0)

    text = re.sub(r'msgid "(.+)"\nmsgstr ""', fill, text)
    text = text.replace("#, fuzzy\n", "", 1)
    Path(path).write_text(text, encoding="utf-8")
    return count


if __name__ == "__main__":
    print(f"{apply(sys.argv[1])} strings translated")
