"""Real Chromium: the province viewer opens the dashboard from the menu, drills down to a
commune, opens the facts behind a number and downloads XLSX; a commune operator sees only
their commune. Screenshots go to var/screenshots/kpi-*.png."""

import io
import os
from pathlib import Path

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import pytest  # noqa: E402

SHOTS = Path(__file__).resolve().parents[3] / "var" / "screenshots"
DESK = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
MARCH = "ky=thang&gia-tri=2026-03"


def _login(browser, base, username, password, viewport):
    context = browser.new_context(locale="vi-VN", viewport=viewport, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{base}/dang-nhap/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page


def _fits(page, width):
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_viewer_drills_down_and_exports_operator_sees_only_their_commune(
    browser, live_server, settings
):
    from openpyxl import load_workbook
    from playwright.sync_api import expect

    from grassroots.accounts.demo import load_demo
    from grassroots.core.testing import make_user
    from grassroots.units.models import Unit

    from .dataset import build_all

    load_demo()
    build_all(Unit.objects.get(code="33", valid_to__isnull=True))
    make_user("kpi-op16", permissions=["kpi.view", "devices.view"], unit_code="99001")
    SHOTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    password = settings.GRASSROOTS["DEMO_PASSWORD"]

    page = _login(browser, base, "viewer", password, DESK)
    page.click("#nav-groups >> text=Giám sát")
    page.click("#nav-groups .dropdown-menu.show >> text=Báo cáo chỉ số")
    expect(page.locator("#kpi-title")).to_contain_text("Hưng Yên")
    page.goto(f"{base}/chi-so/?{MARCH}")
    expect(page.locator("[data-indicator=staff_trained] .kpi-value")).to_have_text(
        "chưa có dữ liệu"
    )
    expect(page.locator("[data-indicator=eboard_communes] .badge")).to_be_visible()
    page.wait_for_function("document.querySelector('#kpi-chart').width > 0")
    page.screenshot(path=str(SHOTS / "kpi-province.png"), full_page=False)
    # drill down: province → Phường Một → facts behind its on-time number
    page.locator("#kpi-children a", has_text="Phường Một").click()
    expect(page.locator("#kpi-title")).to_contain_text("Phường Một")
    expect(page.locator("#kpi-devices")).to_contain_text("W2")
    expect(page.locator("#kpi-relay")).to_contain_text("Bỏ sót")  # the end of March: nothing
    page.screenshot(path=str(SHOTS / "kpi-commune.png"), full_page=True)
    page.get_by_role("link", name="Xem cả tháng").click()
    expect(page.locator("#relay-days")).to_contain_text("17:00–17:30: Tiếp sóng một phần (33 %)")
    page.go_back()
    page.locator("[data-indicator=feedback_on_time] a.kpi-value").click()
    expect(page.locator("#facts-title")).to_contain_text("Phản ánh xử lý đúng hạn")
    expect(page.locator("#facts tbody tr")).to_have_count(2)
    with page.expect_download() as info:
        page.get_by_role("link", name="Tải Excel").click()
    sheet = load_workbook(io.BytesIO(Path(info.value.path()).read_bytes())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Mã" and len(rows) == 3
    assert sorted(r[6] for r in rows[1:]) == ["có", "không"]  # R2 was a working day late
    page.goto(f"{base}/chi-so/ban-do/?{MARCH}&chi-so=eboard_communes")
    page.wait_for_selector(".leaflet-interactive, .kpi-cluster")
    page.screenshot(path=str(SHOTS / "kpi-map.png"))

    op = _login(browser, base, "kpi-op16", "test-pass-123!", PHONE)
    op.goto(f"{base}/chi-so/?{MARCH}")
    expect(op.locator("#kpi-title")).to_contain_text("Phường Một")
    assert op.locator("#kpi-children").count() == 0
    assert "Xã Hai" not in op.content()
    _fits(op, PHONE["width"])
    op.screenshot(path=str(SHOTS / "kpi-operator-phone.png"), full_page=True)
    assert op.goto(f"{base}/chi-so/don-vi/99002/?{MARCH}").status == 404
    assert op.goto(f"{base}/chi-so/don-vi/33/?{MARCH}").status == 404
