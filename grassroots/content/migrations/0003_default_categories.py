"""Starting categories; admins edit the list (the `essential` ones count for the KPI)."""

from django.db import migrations

CATEGORIES = [
    ("thien-tai", "Phòng, chống thiên tai", True),
    ("y-te", "Y tế, phòng chống dịch bệnh", True),
    ("an-ninh", "An ninh, trật tự, an toàn giao thông", True),
    ("chinh-sach", "Chủ trương, chính sách, pháp luật", True),
    ("nong-nghiep", "Nông nghiệp, nông thôn mới", False),
    ("van-hoa", "Văn hoá, xã hội, thể thao", False),
    ("thong-bao", "Thông báo của địa phương", False),
]


def forwards(apps, schema_editor):
    Category = apps.get_model("content", "Category")
    for slug, name, essential in CATEGORIES:
        Category.objects.get_or_create(slug=slug, defaults={"name": name, "essential": essential})


class Migration(migrations.Migration):
    dependencies = [("content", "0002_search_index")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
