"""Real Chromium: the roster, a new session, importing its attendance list (a bad file first,
then the corrected one), and who still needs training; on a desktop and on a phone."""

import datetime as dt
import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import pytest  # noqa: E402

from grassroots.core.testing import COMMUNE_A, COMMUNE_B  # noqa: E402

from .helpers import staff, workbook  # noqa: E402

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
SHOTS = os.path.join(os.environ.get("GRASSROOTS_HOME", "var"), "screenshots", "training")


def _shot(page, name):
    page.screenshot(path=os.path.join(SHOTS, name), full_page=True)


@pytest.mark.browser
def test_roster_session_import_and_who_needs_training(browser, live_demo, settings, tmp_path):
    from playwright.sync_api import expect

    from grassroots.training.models import Attendance, Course, StaffMember

    os.makedirs(SHOTS, exist_ok=True)
    staff(COMMUNE_A, "Trần Văn Nam", start=dt.date(2024, 1, 2))
    staff(COMMUNE_B, "Lê Thị Thu")
    course = Course.objects.create(
        unit=StaffMember.objects.first().unit.parent,
        title="Nghiệp vụ biên tập, viết tin bài",
        topics=["editing"],
    )
    base = live_demo.url
    context = browser.new_context(viewport=DESKTOP, locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base}/dang-nhap/?next=/dao-tao/can-bo/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", settings.GRASSROOTS["DEMO_PASSWORD"])
    page.click("button[type=submit]")

    # 1. The roster: a new station officer of Phố Hiến.
    page.fill("#id_full_name", "Nguyễn Thị Hoa")
    page.fill("#id_unit .unit-picker-search", "pho hien")
    page.click(f"#id_unit .unit-picker-row[data-code='{COMMUNE_A}'] input")
    page.select_option("#id_position", "station_staff")
    page.fill("#id_start_date", "2025-08-01")
    page.click("#staff-save")
    expect(page.locator(".alert-success")).to_contain_text("Nguyễn Thị Hoa")
    expect(page.locator("#staff-table")).to_contain_text("Trần Văn Nam")
    _shot(page, "1-roster.png")

    # 2. A session of the course.
    page.goto(f"{base}/dao-tao/lop-hoc/")
    page.select_option("#id_course", str(course.pk))
    page.fill("#id_starts_on", "2026-03-05")
    page.fill("#id_ends_on", "2026-03-06")
    page.fill("#id_place", "Hội trường Sở VHTTDL")
    page.fill("#id_trainer", "ThS. Nguyễn Văn Bình")
    page.fill("#id_hours", "16")
    page.click("#session-save")
    expect(page.locator("#session-facts")).to_contain_text("05/03/2026 – 06/03/2026")

    # 3. The attendance list: a bad file is refused row by row and saves nothing...
    bad = tmp_path / "danh-sach-loi.xlsx"
    bad.write_bytes(
        workbook(
            [
                [1, COMMUNE_A, "Nguyễn Thị Hoa", "", "31/02/2026", "Đạt", 9, None],
                [2, COMMUNE_A, "Ngô Văn Lạ", "", None, "Đạt", None, None],
            ]
        )
    )
    page.set_input_files("#id_file", str(bad))
    page.click("#import-button")
    errors = page.locator("#import-errors")
    expect(errors).to_contain_text("Dòng 3: '31/02/2026' không phải ngày có thật")
    expect(errors).to_contain_text("'Ngô Văn Lạ' chưa có trong danh sách cán bộ")
    assert Attendance.objects.count() == 0
    _shot(page, "2-import-refused.png")
    # ...the corrected one (unit code merged over two rows, a date typed as text) is saved.
    good = tmp_path / "danh-sach.xlsx"
    good.write_bytes(
        workbook(
            [
                [1, COMMUNE_A, "Nguyễn Thị Hoa", "Cán bộ đài", "05/03/2026", "Đạt", "8,5", None],
                [2, None, "Trần Văn Nam", "Cán bộ đài", dt.date(2026, 3, 6), "Không đạt", 4, None],
            ],
            merge=["B3:B4"],
        )
    )
    page.set_input_files("#id_file", str(good))
    page.click("#import-button")
    expect(page.locator(".alert-success")).to_contain_text("2 kết quả mới")
    expect(page.locator("#attendance-table tbody tr")).to_have_count(2)

    # 4. Who still needs training this year: Nam (failed) and Thu (never trained), not Hoa.
    page.goto(f"{base}/dao-tao/can-dao-tao/")
    table = page.locator("#needs-table")
    expect(table).to_contain_text("Trần Văn Nam")
    expect(table).to_contain_text("Lê Thị Thu")
    expect(table).not_to_contain_text("Nguyễn Thị Hoa")
    expect(page.locator("#share-table")).to_contain_text("1/3")
    _shot(page, "4-needs-desktop.png")
    assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]

    page.set_viewport_size(PHONE)
    for path in (
        "/dao-tao/can-dao-tao/",
        "/dao-tao/can-bo/",
        f"/dao-tao/lop-hoc/{Attendance.objects.first().session_id}/",
    ):
        page.goto(f"{base}{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
    _shot(page, "5-session-phone.png")
    page.goto(f"{base}/dao-tao/can-dao-tao/")
    _shot(page, "6-needs-phone.png")
    context.close()
