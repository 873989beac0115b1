"""Console editors of report categories and the holiday calendar: who may open them, what the
navigation shows, validation next to the field, audit rows, and what the deadlines then do."""

from __future__ import annotations

import datetime as dt

import pytest

from grassroots.core.models import ObjectChange
from grassroots.core.testing import COMMUNE_A
from grassroots.feedback import catalog
from grassroots.feedback.deadlines import add_working_days
from grassroots.feedback.models import Category, Holiday

from .helpers import make_report

pytestmark = pytest.mark.django_db

CATEGORIES = "/xu-ly-phan-anh/linh-vuc/"
HOLIDAYS = "/xu-ly-phan-anh/ngay-nghi/"


@pytest.fixture(autouse=True)
def seeded(db):
    """The categories and fixed holidays the migration seeds (a transactional test elsewhere
    may have flushed them)."""
    import importlib

    from grassroots.feedback.actions import ensure_default_categories

    ensure_default_categories()
    seed = importlib.import_module("grassroots.feedback.migrations.0002_default_data")
    for year in (2026, 2027):
        for month, day, name in seed.FIXED:
            Holiday.objects.get_or_create(date=dt.date(year, month, day), defaults={"name": name})


def audit_rows(model: str, action: str) -> int:
    return ObjectChange.objects.filter(content_type__model=model, action=action).count()


@pytest.mark.parametrize("who", ["operator", "viewer", "editor", "approver"])
def test_only_province_feedback_handlers_open_the_editors(client, users, who):
    """An operator handles feedback in one commune only: these bind the whole province."""
    client.force_login(users[who])
    for url in (CATEGORIES, f"{CATEGORIES}moi/", HOLIDAYS, f"{HOLIDAYS}nhap/?nam=2027"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "cấp tỉnh" in response.content.decode()
    home = client.get("/").content.decode()
    assert 'data-nav="feedback-categories"' not in home
    assert 'data-nav="feedback-holidays"' not in home
    before = Category.objects.count(), Holiday.objects.count()
    client.post(f"{CATEGORIES}moi/", {"code": "x", "name": "X", "deadline_working_days": "3",
                                      "escalation_working_days": "1", "order": "0"})  # fmt: skip
    client.post(HOLIDAYS, {"date": "2027-03-08", "name": "Ngày lạ"})
    assert (Category.objects.count(), Holiday.objects.count()) == before


def test_admin_sees_both_links(client, users):
    client.force_login(users["admin"])
    home = client.get("/").content.decode()
    assert 'data-nav="feedback-categories"' in home and 'data-nav="feedback-holidays"' in home


def test_category_create_edit_delete_with_audit(client, users):
    client.force_login(users["admin"])
    bad = client.post(
        f"{CATEGORIES}moi/",
        {"code": "Môi trường!", "name": "", "deadline_working_days": "0",
         "escalation_working_days": "3", "order": "0", "is_active": "on"},
    )  # fmt: skip
    assert bad.status_code == 200
    page = bad.content.decode()
    # the first problem is shown next to its field; what was typed stays
    assert "Mã chỉ gồm chữ thường không dấu" in page
    assert 'value="Môi trường!"' in page
    good = client.post(
        f"{CATEGORIES}moi/",
        {"code": "cay-xanh", "name": "Cây xanh, công viên", "deadline_working_days": "8",
         "escalation_working_days": "2", "order": "7", "is_active": "on",
         "description": "Cây đổ, cành gãy"},
    )  # fmt: skip
    assert good.status_code == 302
    made = Category.objects.get(code="cay-xanh")
    assert made.deadline_working_days == 8 and made.is_active
    assert audit_rows("category", "create") == 1
    assert "Cây xanh, công viên" in client.get(CATEGORIES).content.decode()

    # edit: out-of-range deadline refused next to the field, then fixed
    url = f"{CATEGORIES}{made.pk}/"
    fields = {"name": "Cây xanh", "deadline_working_days": "99", "escalation_working_days": "2",
              "order": "7", "code": "doi-ma"}  # fmt: skip
    page = client.post(url, fields).content.decode()
    assert "phải từ 1 đến 60" in page
    fields["deadline_working_days"] = "5"
    assert client.post(url, fields).status_code == 302
    made.refresh_from_db()
    # the code is fixed (Open311 clients use it); unticked "Đang dùng" stops offering it
    assert made.code == "cay-xanh" and made.deadline_working_days == 5 and not made.is_active
    change = ObjectChange.objects.filter(content_type__model="category", action="update").get()
    assert (
        change.before["deadline_working_days"] == 8 and change.after["deadline_working_days"] == 5
    )

    # a name that another category has is refused
    page = client.post(url, {**fields, "name": "môi trường, vệ sinh"}).content.decode()
    assert "Đã có lĩnh vực tên" in page

    # delete
    response = client.post(f"{url}xoa/")
    assert response.status_code == 302 and not Category.objects.filter(pk=made.pk).exists()
    assert audit_rows("category", "delete") == 1


def test_a_category_with_reports_is_not_deleted(client, users):
    report = make_report(COMMUNE_A)
    category = report.category
    client.force_login(users["admin"])
    page = client.get(f"{CATEGORIES}{category.pk}/").content.decode()
    assert 'id="category-used"' in page and 'id="delete-category"' not in page
    response = client.post(f"{CATEGORIES}{category.pk}/xoa/", follow=True)
    assert "không xoá được" in response.content.decode()
    assert Category.objects.filter(pk=category.pk).exists()
    assert audit_rows("category", "delete") == 0


def test_holidays_by_year_add_edit_delete(client, users):
    client.force_login(users["admin"])
    page = client.get(f"{HOLIDAYS}?nam=2026").content.decode()
    assert "01/01/2026" in page and "Tết Dương lịch" in page
    assert "01/01/2027" not in page
    # the same day twice is refused next to the date, the typed name stays
    page = client.post(f"{HOLIDAYS}?nam=2026", {"date": "2026-01-01", "name": "Trùng"})
    assert "đã có trong lịch" in page.content.decode() and 'value="Trùng"' in page.content.decode()
    page = client.post(HOLIDAYS, {"date": "", "name": "Không ngày"}).content.decode()
    assert "Hãy chọn ngày nghỉ." in page
    page = client.post(HOLIDAYS, {"date": "2026-03-10", "name": ""}).content.decode()
    assert "Hãy nhập tên ngày nghỉ." in page
    response = client.post(HOLIDAYS, {"date": "2026-03-10", "name": "Nghỉ bù  \x07"})
    assert response.status_code == 302 and response["Location"].endswith("?nam=2026")
    day = Holiday.objects.get(date=dt.date(2026, 3, 10))
    assert day.name == "Nghỉ bù"  # control characters never reach the database
    # Tuesday 10/03/2026 off: 2 working days after Monday 09/03 is Thursday 12/03
    assert add_working_days(dt.date(2026, 3, 9), 2) == dt.date(2026, 3, 12)
    response = client.post(f"{HOLIDAYS}{day.pk}/", {"date": "2026-03-11", "name": "Nghỉ bù"})
    assert response.status_code == 302
    day.refresh_from_db()
    assert day.date == dt.date(2026, 3, 11)
    assert client.post(f"{HOLIDAYS}{day.pk}/xoa/").status_code == 302
    assert not Holiday.objects.filter(pk=day.pk).exists()
    assert [audit_rows("holiday", a) for a in ("create", "update", "delete")] == [1, 1, 1]
    # GET on a delete address deletes nothing
    assert client.get(f"{HOLIDAYS}{Holiday.objects.first().pk}/xoa/").status_code == 405


def test_import_the_official_list_of_a_year(client, users):
    client.force_login(users["admin"])
    page = client.get(f"{HOLIDAYS}nhap/?nam=2027").content.decode()
    assert "Tết Nguyên Đán" in page and "Giỗ Tổ Hùng Vương" in page
    official = dict(catalog.official_holidays(2027))
    assert dt.date(2027, 1, 1) in official  # seeded already: shown as "đã có", not re-added
    assert "đã có" in page
    tet = [d for d, n in official.items() if n == "Tết Nguyên Đán"]
    assert tet and tet[0].month == 2
    # untick one: everything else missing is added
    skip = dt.date(2027, 4, 16)
    chosen = [d.isoformat() for d in official if d != skip]
    before = Holiday.objects.filter(date__year=2027).count()
    response = client.post(f"{HOLIDAYS}nhap/", {"nam": "2027", "dates": chosen})
    assert response.status_code == 302
    have = set(Holiday.objects.filter(date__year=2027).values_list("date", flat=True))
    assert tet[0] in have and skip not in have
    added = len(have) - before
    assert added == len(official) - 1 - 4  # four fixed days were seeded by the migration
    assert audit_rows("holiday", "create") == added
    # nothing chosen: a Vietnamese error, nothing written
    page = client.post(f"{HOLIDAYS}nhap/", {"nam": "2027"}).content.decode()
    assert "Hãy chọn ít nhất một ngày" in page


def test_the_actions_refuse_a_commune_handler(users):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        catalog.save_holiday(user=users["operator"], date="2027-03-08", name="x")
    with pytest.raises(PermissionDenied):
        catalog.delete_category(user=users["operator"], category=Category.objects.first())


def test_the_api_edits_categories_and_holidays_with_the_same_rules(client, users):
    from grassroots.core.testing import assert_problem, call

    admin, operator = users["admin"], users["operator"]
    body = {"code": "cay-xanh", "name": "Cây xanh", "deadline_working_days": 8}
    assert_problem(
        call(client, "post", "/api/v1/feedback/categories", user=operator, body=body), 403
    )
    made = call(client, "post", "/api/v1/feedback/categories", user=admin, body=body)
    assert made.status_code == 201, made.content
    url = f"/api/v1/feedback/categories/{made.json()['id']}"
    changed = call(client, "put", url, user=admin, body={"deadline_working_days": 4})
    assert changed.json()["deadline_working_days"] == 4 and changed.json()["name"] == "Cây xanh"
    bad = assert_problem(
        call(client, "put", url, user=admin, body={"deadline_working_days": 0}), 422
    )
    assert "phải từ 1 đến 60" in bad["detail"]
    used = make_report(COMMUNE_A).category
    body = assert_problem(
        call(client, "delete", f"/api/v1/feedback/categories/{used.pk}", user=admin), 409
    )
    assert "không xoá được" in body["detail"]
    assert call(client, "delete", url, user=admin).status_code == 204

    day = {"date": "2027-03-09", "name": "Nghỉ bù"}
    assert_problem(call(client, "post", "/api/v1/feedback/holidays", user=operator, body=day), 403)
    made = call(client, "post", "/api/v1/feedback/holidays", user=admin, body=day)
    assert made.status_code == 201 and made.json()["date"] == "2027-03-09"
    again = assert_problem(
        call(client, "post", "/api/v1/feedback/holidays", user=admin, body=day), 422
    )
    assert "đã có trong lịch" in again["detail"]
    wrong = {"date": "2027-02-30", "name": "x"}
    assert_problem(call(client, "post", "/api/v1/feedback/holidays", user=admin, body=wrong), 422)
    listed = call(client, "get", "/api/v1/feedback/holidays?year=2027", user=operator).json()
    assert {"2027-03-09", "2027-01-01"} <= {d["date"] for d in listed}
    imported = call(
        client, "post", "/api/v1/feedback/holidays/import", user=admin, body={"year": 2027}
    )
    assert imported.status_code == 201
    assert "Tết Nguyên Đán" in {d["name"] for d in imported.json()}
    assert audit_rows("holiday", "create") == 1 + len(imported.json())
