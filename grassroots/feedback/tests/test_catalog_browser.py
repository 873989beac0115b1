"""The province admin edits report categories and the holiday calendar in a real headless
Chromium, through the console alone: create, a refused value shown next to its field, edit,
delete after a confirmation; import the official days off of a year. Each step is photographed
at desk and phone size under var/screenshots/editors/; no page may be wider than a phone."""

from __future__ import annotations

import datetime as dt
import os
import re

import pytest

from grassroots.core.testing.browser import login, open_nav, shoot

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def snap(page, name):
    shoot(page, "editors", f"feedback-{name}")


def test_admin_edits_categories_and_holidays(browser, live_demo):
    import importlib

    from playwright.sync_api import expect

    from grassroots.core.models import ObjectChange
    from grassroots.feedback.actions import ensure_default_categories
    from grassroots.feedback.models import Category, Holiday

    # A transactional test before this one flushes the data the migration seeded: seed again.
    ensure_default_categories()
    seed = importlib.import_module("grassroots.feedback.migrations.0002_default_data")
    for year in (2026, 2027):
        for month, day, name in seed.FIXED:
            Holiday.objects.get_or_create(date=dt.date(year, month, day), defaults={"name": name})

    base = live_demo.url
    page = login(browser, base, "admin")

    # Categories: the list, then a new one with a wrong code first.
    open_nav(page, "Phản ánh", "Lĩnh vực phản ánh")
    expect(page.locator("h1")).to_have_text("Lĩnh vực phản ánh")
    expect(page.locator("#categories")).to_contain_text("Môi trường, vệ sinh")
    snap(page, "01-categories")
    page.click("#category-new")
    page.fill("#id_code", "Cây xanh")
    page.fill("#id_name", "Cây xanh, công viên")
    page.fill("#id_deadline_working_days", "8")
    page.click("#save-category")
    expect(page.locator("#id_code")).to_have_class(re.compile("is-invalid"))
    expect(page.locator("#category-form")).to_contain_text("Mã chỉ gồm chữ thường không dấu")
    expect(page.locator("#id_name")).to_have_value("Cây xanh, công viên")  # nothing lost
    snap(page, "02-category-refused")
    page.fill("#id_code", "cay-xanh")
    page.click("#save-category")
    expect(page.locator(".alert-success")).to_contain_text("Đã lưu lĩnh vực 'Cây xanh, công viên'")
    row = page.locator(".category-row", has_text="Cây xanh, công viên")
    expect(row).to_contain_text("8 ngày làm việc")

    # Edit: a shorter deadline, no longer offered.
    row.locator("a").click()
    expect(page.locator("#id_code")).to_be_disabled()
    page.fill("#id_deadline_working_days", "5")
    page.uncheck("#id_is_active")
    snap(page, "03-category-edit")
    page.click("#save-category")
    row = page.locator(".category-row", has_text="Cây xanh, công viên")
    expect(row).to_contain_text("5 ngày làm việc")
    expect(row).to_contain_text("ngừng dùng")

    # Delete, after saying no once to the confirmation.
    row.locator("a").click()
    page.once("dialog", lambda d: d.dismiss())
    page.click("#delete-category")
    expect(page.locator("#delete-category")).to_be_visible()
    assert Category.objects.filter(code="cay-xanh").exists()
    page.once("dialog", lambda d: d.accept())
    page.click("#delete-category")
    expect(page.locator(".alert-success")).to_contain_text("Đã xoá lĩnh vực")
    expect(page.locator("#categories")).not_to_contain_text("Cây xanh, công viên")
    assert not Category.objects.filter(code="cay-xanh").exists()

    # Holidays of 2027: import the official list, unticking Giỗ Tổ Hùng Vương.
    open_nav(page, "Phản ánh", "Ngày nghỉ lễ")
    page.goto(f"{base}/xu-ly-phan-anh/ngay-nghi/?nam=2027")
    expect(page.locator("h1")).to_have_text("Ngày nghỉ lễ năm 2027")
    expect(page.locator("#holidays .holiday-row")).to_have_count(4)  # the seeded fixed days
    snap(page, "04-holidays-2027")
    page.click("#import-link")
    expect(page.locator("#import-form")).to_contain_text("Tết Nguyên Đán")
    expect(page.locator("#import-form")).to_contain_text("đã có")
    page.locator("#import-form li", has_text="Giỗ Tổ Hùng Vương").locator("input").uncheck()
    snap(page, "05-import")
    page.click("#import-save")
    expect(page.locator(".alert-success")).to_contain_text("ngày nghỉ của năm 2027")
    expect(page.locator("#holidays")).to_contain_text("Tết Nguyên Đán")
    expect(page.locator("#holidays")).not_to_contain_text("Giỗ Tổ Hùng Vương")

    # Add the day by hand with a typo in the date's year first, then fix it.
    page.fill("#id_date", "2026-01-01")
    page.fill("#id_name", "Giỗ Tổ Hùng Vương (10/3 âm lịch)")
    page.click("#add-holiday")
    expect(page.locator("#holiday-form")).to_contain_text("đã có trong lịch")
    expect(page.locator("#id_name")).to_have_value("Giỗ Tổ Hùng Vương (10/3 âm lịch)")
    snap(page, "06-holiday-refused")
    page.fill("#id_date", "2027-04-16")
    page.click("#add-holiday")
    row = page.locator(".holiday-row", has_text="16/04/2027")
    expect(row).to_contain_text("Giỗ Tổ Hùng Vương (10/3 âm lịch)")

    # Edit its name, then delete it after the confirmation.
    row.locator("a", has_text="Sửa").click()
    page.fill("#id_name", "Giỗ Tổ Hùng Vương")
    page.click("#save-holiday")
    row = page.locator(".holiday-row", has_text="16/04/2027")
    expect(row).to_contain_text("Giỗ Tổ Hùng Vương")
    snap(page, "07-holidays-after")
    page.once("dialog", lambda d: d.accept())
    row.locator("button", has_text="Xoá").click()
    expect(page.locator(".alert-success")).to_contain_text("Đã xoá ngày nghỉ 16/04/2027")
    assert not Holiday.objects.filter(date=dt.date(2027, 4, 16)).exists()
    rows = ObjectChange.objects.filter(content_type__model__in=["category", "holiday"])
    assert rows.filter(action="delete").count() == 2 and rows.filter(user_name="admin").exists()
    page.context.close()

    # An operator handles reports of one commune only: no link, and the Vietnamese 403.
    operator = login(browser, base, "operator")
    expect(operator.locator('[data-nav="feedback-categories"]')).to_have_count(0)
    expect(operator.locator('[data-nav="feedback-holidays"]')).to_have_count(0)
    response = operator.goto(f"{base}/xu-ly-phan-anh/ngay-nghi/")
    assert response.status == 403
    expect(operator.locator("h1")).to_have_text("Không có quyền")
    snap(operator, "08-operator-403")
    operator.context.close()
