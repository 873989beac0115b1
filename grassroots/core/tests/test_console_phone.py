"""Every console page as each demo role on a phone (390 px): nothing wider than the screen."""

import os

import pytest

from grassroots.core.testing import COMMUNE_A

pytestmark = pytest.mark.browser
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

ROLES = ["admin", "editor", "approver", "viewer", "operator"]
PHONE = {"width": 390, "height": 844}
SHOTS = os.path.join(os.environ.get("GRASSROOTS_HOME", "var"), "screenshots", "phone")


def login(browser, base, username, viewport):
    context = browser.new_context(locale="vi-VN", viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base}/dang-nhap/")
    page.fill("#id_username", username)
    page.fill("#id_password", "grassroots-demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page


def console_pages(page, base, extra):
    hrefs = page.eval_on_selector_all("[data-nav]", "els => els.map(e => e.getAttribute('href'))")
    return ["/", *dict.fromkeys(hrefs), *extra]


def test_no_console_page_is_wider_than_a_phone(browser, live_demo):
    from grassroots.content import actions as content
    from grassroots.feedback.tests.helpers import make_report
    from grassroots.signage.tests.helpers import approved_bulletin

    b = approved_bulletin(COMMUNE_A, "Thông báo lịch cắt điện ngày mai", "Từ 7 giờ đến 11 giờ.")
    from grassroots.accounts.models import User

    content.publish(bulletin=b, user=User.objects.get(username="approver"))
    report = make_report()
    from pathlib import Path

    from grassroots.alerts.cap.ingest import receive

    cap = Path(__file__).parents[2] / "alerts/tests/cap/vn-flood-warning-geocode.xml"
    alert, _ = receive(cap.read_bytes())  # recorded (expired by now), shown in the console
    os.makedirs(SHOTS, exist_ok=True)
    base = live_demo.url
    wide = []
    for role in ROLES:
        page = login(browser, base, role, PHONE)
        extra = {
            "admin": [
                f"/ban-tin/{b.pk}/",
                f"/xu-ly-phan-anh/{report.pk}/",
                "/canh-bao/cai-dat/",
                f"/canh-bao/{alert.pk}/",
            ],
            "approver": [f"/ban-tin/{b.pk}/"],
            "operator": [f"/ban-tin/{b.pk}/", f"/xu-ly-phan-anh/{report.pk}/", "/khan-cap/"],
        }.get(role, [])
        for path in console_pages(page, base, extra):
            response = page.goto(f"{base}{path}")
            if response.status >= 400:
                wide.append((role, path, response.status))
                continue
            page.wait_for_load_state("networkidle")
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE["width"]:
                wide.append((role, path, width))
                name = f"{role}{path.replace('/', '_')}.png"
                page.screenshot(path=os.path.join(SHOTS, name), full_page=True)
        page.context.close()
    assert not wide, wide
