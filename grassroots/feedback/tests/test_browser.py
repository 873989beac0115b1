"""Real Chromium on a phone-sized screen: report with a photo, officer answers, citizen rates."""

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import pytest  # noqa: E402

from grassroots.core.testing import COMMUNE_A  # noqa: E402

from .helpers import jpeg_bytes  # noqa: E402

PHONE = {"width": 390, "height": 844}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_citizen_reports_officer_answers_citizen_rates(browser, live_server, tmp_path, settings):
    from playwright.sync_api import expect

    from grassroots.accounts.demo import load_demo
    from grassroots.feedback.actions import ensure_default_categories
    from grassroots.feedback.models import Rating, Report

    load_demo()
    ensure_default_categories()
    photo = tmp_path / "cong-tac.jpg"
    photo.write_bytes(jpeg_bytes(size=(1200, 900), gps=True))
    base = live_server.url

    phone = browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="vi-VN",
    )
    page = phone.new_page()
    page.goto(f"{base}/phan-anh/")
    # The form fits the phone: no horizontal scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.select_option("#id_category", label="Môi trường, vệ sinh")
    page.fill("#id_text", "Cống thoát nước thôn 3 bị tắc, nước tràn ra đường <b>gấp</b>.")
    page.select_option("#id_unit_code", COMMUNE_A)
    page.set_input_files("#id_photos", str(photo))
    page.click("#submit-report")
    code = page.locator("#tracking-code").inner_text(timeout=15000).strip()
    assert code.startswith("PA-")
    expect(page.locator("#report-text")).to_contain_text("<b>gấp</b>")  # shown as text
    expect(page.locator("img.photo-thumb")).to_have_count(1)
    assert page.evaluate("document.querySelector('img.photo-thumb').naturalWidth") == 1200

    report = Report.objects.get(tracking_code=code)
    assert report.photos.count() == 1 and not report.photos.get().has_location

    # The officer answers from the console (also on a phone).
    officer = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    console = officer.new_page()
    console.goto(f"{base}/dang-nhap/?next=/xu-ly-phan-anh/")
    console.fill("#id_username", "operator")
    console.fill("#id_password", settings.GRASSROOTS["DEMO_PASSWORD"])
    console.click("button[type=submit]")
    console.click(f"text={code}")
    console.fill("#id_public_answer", "Xã đã cho nạo vét cống thôn 3 sáng nay.")
    console.select_option("#id_resolution", "resolved")
    console.click("#answer-button")
    expect(console.locator("#status")).to_have_text("Đã đóng")

    # The citizen comes back with the code and rates the answer.
    page.goto(f"{base}/phan-anh/theo-doi/")
    page.fill("#ma", code.lower())
    page.click("button")
    expect(page.locator("#public-answer")).to_have_text("Xã đã cho nạo vét cống thôn 3 sáng nay.")
    page.check("#star-5")
    page.fill("textarea[name=comment]", "Xử lý nhanh, cảm ơn xã.")
    page.click("#rate-button")
    expect(page.locator(".alert-success")).to_contain_text("Cảm ơn bạn đã đánh giá")
    expect(page.locator("#rating-done")).to_contain_text("5/5")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # Installable: the manifest is linked and the service worker registers.
    page.goto(f"{base}/phan-anh/")
    page.wait_for_function(
        "navigator.serviceWorker.getRegistration('/phan-anh/').then(r => !!r)",
        timeout=10000,
    )

    rating = Rating.objects.get(report__tracking_code=code)
    assert rating.stars == 5 and rating.comment == "Xử lý nhanh, cảm ơn xã."
