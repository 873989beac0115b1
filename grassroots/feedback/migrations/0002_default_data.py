"""Starting categories and the fixed-date public holidays (Labour Code 2019, art. 112).

Tết, Giỗ Tổ Hùng Vương (lunar dates) and compensatory days change every year: administrators add
them in the back office as the Government announces them.
"""

import datetime

from django.db import migrations

CATEGORIES = [
    ("ha-tang-giao-thong", "Hạ tầng, giao thông", "Đường sá, cầu cống, đèn chiếu sáng", 10),
    ("moi-truong", "Môi trường, vệ sinh", "Rác thải, nước thải, ô nhiễm, tiếng ồn", 7),
    ("an-ninh-trat-tu", "An ninh, trật tự", "Trật tự công cộng, lấn chiếm lòng đường", 5),
    ("chinh-sach-thu-tuc", "Chính sách, thủ tục hành chính", "Thực hiện chính sách ở cơ sở", 15),
    ("truyen-thanh-bang-tin", "Đài truyền thanh, bảng tin", "Loa hỏng, âm lượng, giờ phát", 5),
    ("khac", "Vấn đề khác", "Các phản ánh, kiến nghị khác", 10),
]

FIXED = [(1, 1, "Tết Dương lịch"), (4, 30, "Ngày Chiến thắng"), (5, 1, "Quốc tế Lao động"),
         (9, 2, "Quốc khánh")]


def forward(apps, schema_editor):
    Category = apps.get_model("feedback", "Category")
    Holiday = apps.get_model("feedback", "Holiday")
    for i, (code, name, desc, days) in enumerate(CATEGORIES):
        Category.objects.get_or_create(
            code=code,
            defaults={"name": name, "description": desc, "deadline_working_days": days, "order": i},
        )
    for year in (2026, 2027):
        for month, day, name in FIXED:
            Holiday.objects.get_or_create(date=datetime.date(year, month, day), defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("feedback", "0001_initial")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
